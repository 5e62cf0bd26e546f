"""Backups and restores on real SQLite files: a backup taken while a real Store commits a running
session's steps is whole and holds every step committed before it started; a restore into an empty
data directory gives the same counts; a damaged or foreign archive, or a running appliance, is
refused with one line and the current data untouched. Through the real ``appliance`` command too."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest
from faultfs import scribble_inner_pages
from test_store import make_step

from appliance.store import SCHEMA_VERSION, Store
from appliance.store.backup import (
    MANIFEST,
    BackupError,
    create_backup,
    restore_backup,
    unpack_backup,
)
from appliance.web.pin import PinStore

APPLIANCE = [sys.executable, "-m", "appliance"]
PRE_FILLED_STEPS = 60_000  # enough that the snapshot takes a while and the writer runs beside it


def appliance(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(APPLIANCE + list(args), capture_output=True, text=True, timeout=timeout)


def counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("runners", "sessions", "steps", "cue_events")}
    finally:
        conn.close()


def fill(store: Store, runners: int = 3, sessions: int = 2, steps: int = 200) -> None:
    """Runners with finished sessions, steps and cue events."""
    for r in range(runners):
        runner = store.create_runner(f"Runner {r}")
        for _ in range(sessions):
            s = store.create_session(runner.id, t_start=0.0)
            for i in range(steps):
                store.record_step(s.id, make_step(i, i * 0.35))
            store.record_cue(s.id, 1.0, "cue_given", {"cue": "quick_feet"})
            store.finish_session(s.id, "completed", {"steps": steps})
    store.flush()


def files_digest(data_dir: Path) -> dict[str, str]:
    """Every file under the data directory with its SHA-256 (what 'untouched' means)."""
    return {str(p.relative_to(data_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(data_dir.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


def make_archive(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def stopped_data(tmp_path: Path) -> Path:
    """A data directory of a stopped appliance: database, settings and PIN."""
    data = tmp_path / "data"
    with Store(data) as store:
        fill(store)
    (data / "settings.json").write_text(json.dumps({"version": 1, "coach": {"warmup_minutes": 4.0}}))
    PinStore(data).set_pin("clinic-pin-1")
    return data


def test_a_backup_during_a_running_session_is_whole_and_holds_every_step_committed_before_it(tmp_path: Path):
    data = tmp_path / "data"
    store = Store(data)
    try:
        runner = store.create_runner("Ann")
        session = store.create_session(runner.id, t_start=0.0)
        for i in range(PRE_FILLED_STEPS):
            store.record_step(session.id, make_step(i, i * 0.35))
        store.flush()
        next_index = [PRE_FILLED_STEPS]
        stop = threading.Event()

        def run_session() -> None:  # the control loop: a step every millisecond, never waiting on the disk
            while not stop.is_set():
                store.record_step(session.id, make_step(next_index[0], next_index[0] * 0.35))
                next_index[0] += 1
                time.sleep(0.001)

        loop = threading.Thread(target=run_session)
        loop.start()
        try:
            time.sleep(0.3)
            committed_before = next_index[0] - 1  # queued by now, so committed once the flush returns
            store.flush()
            with sqlite3.connect(data / "appliance.db") as conn:
                assert conn.execute("SELECT max(\"index\") FROM steps").fetchone()[0] >= committed_before
            info = create_backup(store, tmp_path / "backup.tar.gz", settings_path=None, pin_path=None)
            time.sleep(0.3)
            store.flush()
        finally:
            stop.set()
            loop.join()
        after = store._rows("SELECT count(*) FROM steps")[0][0]
    finally:
        store.close()

    out = tmp_path / "unpacked"
    out.mkdir()
    manifest = unpack_backup(tmp_path / "backup.tar.gz", out)
    conn = sqlite3.connect(out / "appliance.db")
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    indices = {r[0] for r in conn.execute("SELECT \"index\" FROM steps WHERE session_id = ?", (session.id,))}
    missing = sorted(set(range(committed_before + 1)) - indices)
    assert not missing, (missing[:10], len(missing), committed_before, max(indices))  # every step committed before the backup started
    assert max(indices) + 1 == len(indices)  # no hole: a snapshot, not pages from different moments
    state = conn.execute("SELECT state FROM sessions").fetchone()[0]
    conn.close()
    assert state == "running"
    assert after > len(indices)  # the writer went on committing beside the backup
    assert manifest["counts"]["steps"] == len(indices) == info.counts["steps"]
    assert manifest["schema_version"] == SCHEMA_VERSION
    print(f"\nbackup of {len(indices)} steps while a session ran: {info.bytes / 1e6:.2f} MB in {info.seconds:.2f} s")

    restored = restore_backup(tmp_path / "backup.tar.gz", tmp_path / "new-card")
    got = counts(tmp_path / "new-card" / "appliance.db")
    assert got == {"runners": 1, "sessions": 1, "steps": len(indices), "cue_events": 0}
    assert restored.counts == got and restored.previous is None
    with Store(tmp_path / "new-card") as again:  # the running session was cut by the backup: interrupted
        assert again.get_session(session.id).state == "interrupted"


def test_restore_into_an_empty_data_dir_gives_the_same_runners_sessions_steps_settings_and_pin(
        stopped_data: Path, tmp_path: Path):
    archive = tmp_path / "b.tar.gz"
    with Store(stopped_data, readonly=True) as store:
        info = create_backup(store, archive, stopped_data / "settings.json", stopped_data / "panel-pin.json")
    assert archive.stat().st_mode & 0o777 == 0o600  # patients' records and the PIN hash
    assert info.members == ("appliance.db", "settings.json", "panel-pin.json")
    with tarfile.open(archive) as tar:
        assert tar.getnames()[0] == MANIFEST
    new = tmp_path / "new-card"
    restored = restore_backup(archive, new)
    assert counts(new / "appliance.db") == counts(stopped_data / "appliance.db") == restored.counts
    assert restored.counts == {"runners": 3, "sessions": 6, "steps": 1200, "cue_events": 6}
    assert (new / "settings.json").read_bytes() == (stopped_data / "settings.json").read_bytes()
    assert PinStore(new).verify("clinic-pin-1")
    assert (new / "panel-pin.json").stat().st_mode & 0o777 == 0o600
    line = restored.sentence()
    assert "\n" not in line and "3 runners, 6 sessions, 1200 steps" in line and "settings and panel PIN" in line


def test_restore_over_existing_data_keeps_it_aside(stopped_data: Path, tmp_path: Path):
    archive = tmp_path / "b.tar.gz"
    with Store(stopped_data, readonly=True) as store:
        create_backup(store, archive, stopped_data / "settings.json", stopped_data / "panel-pin.json")
    other = tmp_path / "other"
    with Store(other) as store:
        store.create_runner("Someone else")
    before = files_digest(other)
    restored = restore_backup(archive, other)
    assert restored.previous is not None and restored.previous.parent == other
    assert counts(other / "appliance.db")["runners"] == 3
    aside = {f"{restored.previous.name}/{k}": v for k, v in before.items()}
    assert {k: v for k, v in files_digest(other).items() if k.startswith("before-restore-")} == aside


def test_restore_refuses_while_the_appliance_runs(stopped_data: Path, tmp_path: Path):
    archive = tmp_path / "b.tar.gz"
    with Store(stopped_data, readonly=True) as store:
        create_backup(store, archive)
    with Store(stopped_data):  # the running appliance holds the data directory
        before = files_digest(stopped_data)
        with pytest.raises(BackupError, match="the appliance is running on .*stop it first"):
            restore_backup(archive, stopped_data)
        assert files_digest(stopped_data) == before


def damaged_archives(good: Path, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (archive, words its refusal must say)."""
    data = good.read_bytes()
    out: dict[str, tuple[Path, str]] = {}

    def write(name: str, content: bytes, words: str) -> None:
        p = tmp_path / f"{name}.tar.gz"
        p.write_bytes(content)
        out[name] = (p, words)

    write("cut-short", data[: len(data) // 2], "not a complete tar.gz archive")
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    write("bit-flip", bytes(flipped), "")
    write("not-an-archive", b"%PDF-1.4 a scanned letter\n" * 100, "not a")
    write("empty", b"", "not a")
    # Foreign: a tar.gz of something else; and a manifest of another program.
    make_archive(tmp_path / "foreign.tar.gz", {"photos/1.jpg": b"\xff\xd8" * 50})
    out["foreign"] = (tmp_path / "foreign.tar.gz", "never holds")
    make_archive(tmp_path / "other-manifest.tar.gz", {MANIFEST: b'{"format": "something-else"}', "appliance.db": b"x"})
    out["other-manifest"] = (tmp_path / "other-manifest.tar.gz", "not an appliance backup")
    # An appliance backup whose database was altered after the manifest was written.
    with tarfile.open(good) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}
    db = bytearray(members["appliance.db"])
    db[-100] ^= 0x01
    make_archive(tmp_path / "altered.tar.gz", {MANIFEST: members[MANIFEST], "appliance.db": bytes(db)})
    out["altered"] = (tmp_path / "altered.tar.gz", "does not match its checksum")
    # A whole archive whose database is damaged inside (its checksum written to match).
    scribbled = tmp_path / "scribbled.db"
    scribbled.write_bytes(members["appliance.db"])
    scribble_inner_pages(scribbled)
    db = scribbled.read_bytes()
    manifest = json.loads(members[MANIFEST])
    manifest["members"] = {"appliance.db": {"sha256": hashlib.sha256(bytes(db)).hexdigest(), "bytes": len(db)}}
    make_archive(tmp_path / "damaged-db.tar.gz", {MANIFEST: json.dumps(manifest).encode(), "appliance.db": bytes(db)})
    out["damaged-db"] = (tmp_path / "damaged-db.tar.gz", "its database")
    # A database from a newer appliance.
    newer = tmp_path / "newer.db"
    newer.write_bytes(members["appliance.db"])
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    raw = newer.read_bytes()
    manifest["members"] = {"appliance.db": {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}}
    make_archive(tmp_path / "newer.tar.gz", {MANIFEST: json.dumps(manifest).encode(), "appliance.db": raw})
    out["newer"] = (tmp_path / "newer.tar.gz", "newer than this appliance")
    return out


def test_a_damaged_or_foreign_archive_is_refused_with_one_line_and_the_data_untouched(stopped_data: Path, tmp_path: Path):
    good = tmp_path / "good.tar.gz"
    with Store(stopped_data, readonly=True) as store:
        create_backup(store, good, stopped_data / "settings.json", stopped_data / "panel-pin.json")
    before = files_digest(stopped_data)
    for name, (archive, words) in damaged_archives(good, tmp_path).items():
        with pytest.raises(BackupError) as refused:
            restore_backup(archive, stopped_data)
            pytest.fail(f"{name} was restored")
        line = str(refused.value)
        assert "\n" not in line and "nothing was changed" in line and words in line, (name, line)
        assert files_digest(stopped_data) == before, name
        assert not [p for p in stopped_data.iterdir() if p.name.startswith((".restore-", "before-restore-"))], name


def test_the_commands_back_up_and_restore_and_refuse_in_one_line(stopped_data: Path, tmp_path: Path):
    archive = tmp_path / "cli.tar.gz"
    done = appliance("backup", "--data-dir", str(stopped_data), "--out", str(archive))
    assert done.returncode == 0, done.stderr
    assert "3 runners, 6 sessions, 1200 steps" in done.stdout and "settings.json" in done.stdout
    done = appliance("restore", str(archive), "--data-dir", str(tmp_path / "new"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("restored 3 runners, 6 sessions, 1200 steps") and done.stdout.count("\n") == 1
    (tmp_path / "junk.tar.gz").write_bytes(b"junk" * 10)
    before = files_digest(tmp_path / "new")
    done = appliance("restore", str(tmp_path / "junk.tar.gz"), "--data-dir", str(tmp_path / "new"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 and "nothing was changed" in done.stderr
    assert files_digest(tmp_path / "new") == before


def test_a_database_of_schema_4_migrates_and_its_sessions_get_an_identity(tmp_path: Path):
    from appliance.store import MIGRATIONS

    conn = sqlite3.connect(tmp_path / "appliance.db")
    for m in MIGRATIONS[:4]:
        conn.executescript(m)
    conn.execute("PRAGMA user_version = 4")
    conn.execute("INSERT INTO runners (name, created) VALUES ('Ann', '2026-01-01T00:00:00+00:00')")
    for n in (1, 2):
        conn.execute("INSERT INTO sessions (runner_id, session_number, started, state) "
                     f"VALUES (1, {n}, '2026-01-0{n}T00:00:00+00:00', 'completed')")
    conn.commit()
    conn.close()
    with Store(tmp_path) as store:
        uids = [s.uid for s in store.list_sessions()]
        assert all(uids) and len(set(uids)) == 2
        new = store.create_session(1)
        assert new.uid and new.uid not in uids
    assert sqlite3.connect(tmp_path / "appliance.db").execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
