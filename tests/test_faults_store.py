"""Storage faults the appliance meets unattended: a full disk, a damaged file, many reading threads.

The disk is a real small filesystem (tmpfs) filled with a real file; the database a real SQLite file.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from faultfs import fill, scribble_inner_pages, small_disk
from test_store import make_step
from waiting import wait_for

from appliance.store import Store, StoreError
from appliance.store.database import READERS


def db_descriptors(db: Path) -> int:
    """Open descriptors of this process on the database file itself."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(db):
                count += 1
        except OSError:
            pass
    return count


def test_readers_do_not_grow_with_the_threads_that_read(tmp_path: Path):
    with Store(tmp_path) as store:
        runner = store.create_runner("Ann")
        store.create_session(runner.id)
        db = store.path
        before = db_descriptors(db)
        for _burst in range(8):  # short-lived threads, as a web server's worker pool comes and goes
            threads = [threading.Thread(target=lambda: store.list_sessions(limit=5)) for _ in range(40)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        after = db_descriptors(db)
        assert after <= before + READERS, (before, after)
        assert store.idle_readers <= READERS


def test_a_full_disk_keeps_every_step_and_writes_them_when_space_returns(tmp_path: Path, caplog):
    caplog.set_level(logging.INFO, logger="appliance.store")
    with small_disk(tmp_path / "disk", "2m") as disk:
        store = Store(disk / "data")
        try:
            runner = store.create_runner("Ann")
            session = store.create_session(runner.id)
            filler = fill(disk)
            for i in range(1500):
                store.record_step(session.id, make_step(i, i * 0.35))  # never raises, never blocks
            wait_for(lambda: store.write_fault is not None)
            fault = store.write_fault
            assert fault.reason == "the disk is full"
            assert "recording fails: the disk is full" in fault.sentence(disk)
            time.sleep(1.0)  # several retries while the disk stays full
            with pytest.raises(StoreError, match="recording fails"):  # a caller who waits is told at once
                store.create_runner("Bob")
            t0 = time.monotonic()
            store.finish_session(session.id, "completed", {"steps": 1500})  # does not raise
            assert time.monotonic() - t0 < 1.0
            filler.unlink()
            wait_for(lambda: store.write_fault is None)
            store.flush(timeout=5)
            assert len(store.session_steps(session.id)) == 1500  # 0 steps lost
            assert store.get_session(session.id).state == "completed"
            assert store.writes_dropped == 0
        finally:
            store.close()
    failures = [r for r in caplog.records if "database writes fail" in r.getMessage()]
    assert len(failures) == 1  # once per episode, not per write
    assert any("work again" in r.getMessage() for r in caplog.records)


def test_closing_on_a_disk_that_stays_full_ends_promptly_and_says_what_was_lost(tmp_path: Path, caplog):
    with small_disk(tmp_path / "disk", "2m") as disk:
        store = Store(disk / "data")
        runner = store.create_runner("Ann")
        session = store.create_session(runner.id)
        fill(disk)
        for i in range(500):
            store.record_step(session.id, make_step(i, i * 0.35))
        wait_for(lambda: store.write_fault is not None)
        store.finish_session(session.id, "interrupted", {"end_reason": "appliance stopped"})
        t0 = time.monotonic()
        store.close()
        assert time.monotonic() - t0 < 2.0
        assert store.writes_dropped >= 500
    assert any("database writes lost" in r.getMessage() for r in caplog.records)


def test_a_damaged_database_is_refused_at_start_with_the_fix(tmp_path: Path):
    with Store(tmp_path) as store:
        runner = store.create_runner("Ann")
        session = store.create_session(runner.id)
        for i in range(400):
            store.record_step(session.id, make_step(i, i * 0.35))
        store.finish_session(session.id, "completed")
    db = tmp_path / "appliance.db"
    scribble_inner_pages(db)
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] > 0  # the header is intact
    with pytest.raises(StoreError, match=r"is damaged .*mv .*appliance.db .*appliance.db.damaged"):
        Store(tmp_path)
    with pytest.raises(StoreError, match="is damaged"):
        Store(tmp_path, readonly=True)  # appliance export says the same
    Store(tmp_path / "fresh").close()  # and a moved-away file leaves room for a new one


def test_reads_of_a_database_damaged_while_running_fail_with_one_line(tmp_path: Path):
    store = Store(tmp_path)
    try:
        runner = store.create_runner("Ann")
        session = store.create_session(runner.id)
        for i in range(400):
            store.record_step(session.id, make_step(i, i * 0.35))
        store.flush()
        conn = sqlite3.connect(tmp_path / "appliance.db")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        scribble_inner_pages(tmp_path / "appliance.db")
        with pytest.raises(StoreError, match="is damaged"):
            store.session_steps(session.id)
    finally:
        store.close()


def test_beyond_the_memory_limit_new_steps_are_dropped_and_counted(tmp_path: Path, monkeypatch):
    from appliance.store import database

    monkeypatch.setattr(database, "MAX_WAITING_WRITES", 100)  # the limit, made small for the test
    with small_disk(tmp_path / "disk", "2m") as disk:
        store = Store(disk / "data")
        try:
            runner = store.create_runner("Ann")
            session = store.create_session(runner.id)
            filler = fill(disk)
            store.record_step(session.id, make_step(0, 0.0))
            wait_for(lambda: store.write_fault is not None)
            for i in range(1, 300):
                store.record_step(session.id, make_step(i, i * 0.35))
            wait_for(lambda: store.writes_dropped == 200)
            fault = store.write_fault
            assert fault.waiting == 100 and fault.dropped == 200 and "200 lost" in fault.sentence(disk)
            filler.unlink()
            wait_for(lambda: store.write_fault is None)
            assert [s.index for s in store.session_steps(session.id)] == list(range(100))  # the oldest kept
        finally:
            store.close()


def test_a_burst_beyond_the_memory_limit_on_a_working_disk_loses_nothing(tmp_path: Path, monkeypatch) -> None:
    """The limit on writes kept in memory is for a failing disk: a burst queued faster than the
    writer commits (an import, a backlog) is written whole."""
    import appliance.store.database as database

    monkeypatch.setattr(database, "MAX_WAITING_WRITES", 50)
    store = Store(tmp_path)
    try:
        runner = store.create_runner("Burst")
        session = store.create_session(runner.id, t_start=0.0)
        for i in range(2000):
            store.record_step(session.id, make_step(i, i * 0.35))
        store.flush()
        assert store.writes_dropped == 0
        assert store._rows("SELECT count(*) FROM steps")[0][0] == 2000
    finally:
        store.close()
