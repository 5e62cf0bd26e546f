"""Erasure on real SQLite files: a runner erased while another runner's session is being recorded
leaves no byte of their name in the database file, its WAL or a backup taken afterwards, and
every step of the other runner is kept. The retention limit erases old sessions only."""

from __future__ import annotations

import gzip
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_store import make_step

from appliance.store import NotFound, Store, StoreError
from appliance.store.backup import create_backup
from appliance.store.erase import delete_sessions_older_than, erase_runner, months_before

UNIQUE = "Xylophone-Qwertz-93417"  # appears nowhere else


def bytes_of_data_dir(data: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in data.iterdir() if p.is_file()}


def test_an_erased_runner_leaves_no_byte_in_the_database_its_wal_or_a_later_backup(tmp_path: Path):
    data = tmp_path / "data"
    store = Store(data)
    try:
        gone = store.create_runner(UNIQUE, targets={"cadence": None}, programme={"name": f"{UNIQUE}'s plan"})
        for _ in range(3):
            s = store.create_session(gone.id, t_start=0.0)
            for i in range(2000):
                store.record_step(s.id, make_step(i, i * 0.35))
            store.record_cue(s.id, 1.0, "cue_given", {"cue": "quick_feet", "to": UNIQUE})
            store.finish_session(s.id, "completed", {"runner": UNIQUE, "steps": 2000})
            store.set_pain_and_notes(s.id, pain_before=3, pain_after=2, notes=f"{UNIQUE} said the knee hurt less")
        stays = store.create_runner("Bea")
        running = store.create_session(stays.id, t_start=0.0)
        store.flush()
        # Before the erasure the name is on disk (in the WAL or the file): the test can see it.
        assert any(UNIQUE.encode() in b for b in bytes_of_data_dir(data).values())

        recorded = [0]
        stop = threading.Event()

        def record() -> None:  # Bea's session goes on while the erasure runs
            while not stop.is_set():
                store.record_step(running.id, make_step(recorded[0], recorded[0] * 0.35))
                recorded[0] += 1
                time.sleep(0.001)

        loop = threading.Thread(target=record)
        loop.start()
        try:
            time.sleep(0.1)
            with pytest.raises(StoreError, match="does not match"):
                erase_runner(store, gone.id, confirm_name="xylophone")
            erased = erase_runner(store, gone.id, confirm_name=f" {UNIQUE} ")
            time.sleep(0.1)
        finally:
            stop.set()
            loop.join()
        store.flush()
        assert (erased.runners, erased.sessions, erased.steps, erased.cue_events) == (1, 3, 6000, 3)
        assert erased.wal_truncated
        with pytest.raises(NotFound):
            store.get_runner(gone.id)
        assert [s.runner_id for s in store.list_sessions()] == [stays.id]
        assert len(store.session_steps(running.id)) == recorded[0]  # every step of Bea's session kept

        on_disk = bytes_of_data_dir(data)
        assert "appliance.db-wal" in on_disk
        for name, content in on_disk.items():
            assert UNIQUE.encode() not in content, name
            assert UNIQUE.encode("utf-16-le") not in content, name
        info = create_backup(store, tmp_path / "after.tar.gz")
    finally:
        store.close()
    unpacked = gzip.decompress(info.path.read_bytes())
    assert UNIQUE.encode() not in unpacked and b"Bea" in unpacked
    for name, content in bytes_of_data_dir(data).items():  # closing checkpoints the rest: still nothing
        assert UNIQUE.encode() not in content, name
    with sqlite3.connect(data / "appliance.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_retention_erases_sessions_older_than_n_months_only(tmp_path: Path):
    with Store(tmp_path) as store:
        runner = store.create_runner("Ann")
        ids = []
        for _ in range(3):
            s = store.create_session(runner.id, t_start=0.0)
            store.record_step(s.id, make_step(0, 0.0))
            store.finish_session(s.id, "completed", {})
            ids.append(s.id)
        running = store.create_session(runner.id)
        store.flush()
        ages = {ids[0]: "2024-01-15T10:00:00.000+00:00", ids[1]: "2025-06-30T10:00:00.000+00:00",
                ids[2]: "2025-09-01T10:00:00.000+00:00", running.id: "2020-01-01T00:00:00.000+00:00"}
        store.run_alone(lambda c: [c.execute("UPDATE sessions SET started = ? WHERE id = ?", (v, k)) for k, v in ages.items()])
        now = datetime(2025, 12, 31, 12, tzinfo=UTC)
        erased = delete_sessions_older_than(store, 6, now=now)  # before 2025-06-30T12:00
        assert (erased.sessions, erased.steps, erased.runners) == (2, 2, 0)
        assert sorted(s.id for s in store.list_sessions()) == [ids[2], running.id]  # a running one is never cut
        assert delete_sessions_older_than(store, 6, now=now).sessions == 0
        assert store.get_runner(runner.id).name == "Ann"


def test_months_before_keeps_the_day_or_takes_the_months_last():
    assert months_before(datetime(2025, 3, 31, tzinfo=UTC), 1) == datetime(2025, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2025, 1, 15, tzinfo=UTC), 13) == datetime(2023, 12, 15, tzinfo=UTC)
