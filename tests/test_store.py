"""The SQLite store: schema, records, the writer thread, crash recovery, export."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from appliance.store import SCHEMA_VERSION, NotFound, Store, StoreError
from appliance.types import Step


def make_step(index: int, t: float, **kw) -> Step:
    base = dict(
        index=index, foot="left" if index % 2 == 0 else "right", frame_ic=index * 20, t_ic=t, strike="rearfoot",
        foot_strike_angle_deg=12.5, shank_angle_deg=8.0, knee_flexion_deg=15.0, heel_to_hip_leg_lengths=0.3,
        cadence_spm=165.0, instant_cadence_spm=166.0, confidence=0.9, valid=True,
    )
    base.update(kw)
    return Step(**base)


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path)
    yield s
    s.close()


def test_fresh_database_has_current_schema_in_wal_mode(tmp_path: Path):
    with Store(tmp_path):
        pass
    conn = sqlite3.connect(tmp_path / "appliance.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runners", "sessions", "steps", "cue_events", "settings_changes"} <= tables


def test_newer_schema_is_refused_with_a_clear_error(tmp_path: Path):
    with Store(tmp_path):
        pass
    conn = sqlite3.connect(tmp_path / "appliance.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this appliance"):
        Store(tmp_path)


def test_second_writer_is_refused_but_a_reader_works(store: Store, tmp_path: Path):
    with pytest.raises(StoreError, match="in use by another appliance process"):
        Store(tmp_path)
    store.create_runner("Ann")
    reader = Store(tmp_path, readonly=True)
    try:
        assert [r.name for r in reader.list_runners()] == ["Ann"]
        with pytest.raises(StoreError, match="read-only"):
            reader.create_runner("Bob")
    finally:
        reader.close()


def test_readonly_on_missing_database_names_the_path(tmp_path: Path):
    with pytest.raises(StoreError, match="no database at .*--data-dir"):
        Store(tmp_path / "nowhere", readonly=True)


def test_runner_lifecycle(store: Store):
    ann = store.create_runner("Ann", targets={"cadence_increase_pct": 7.5}, programme={"sessions": 8})
    bob = store.create_runner("  Bob ")
    assert bob.name == "Bob"
    assert ann.targets == {"cadence_increase_pct": 7.5}
    assert [r.name for r in store.list_runners()] == ["Ann", "Bob"]
    store.update_runner(ann.id, targets={"cadence_increase_pct": 10.0})
    assert store.get_runner(ann.id).targets["cadence_increase_pct"] == 10.0
    assert store.get_runner(ann.id).programme == {"sessions": 8}
    store.archive_runner(bob.id)
    assert [r.name for r in store.list_runners()] == ["Ann"]
    assert {r.name for r in store.list_runners(include_archived=True)} == {"Ann", "Bob"}
    with pytest.raises(StoreError, match="archived"):
        store.create_session(bob.id)
    with pytest.raises(StoreError, match="name: must not be empty"):
        store.create_runner("  ")
    with pytest.raises(NotFound):
        store.get_runner(999)


def test_session_with_steps_and_cues_round_trips(store: Store):
    runner = store.create_runner("Ann")
    s = store.create_session(runner.id, t_start=100.0, source="sim")
    assert s.state == "running" and s.session_number == 1
    steps = [make_step(i, 100.0 + 0.36 * i) for i in range(10)]
    steps[3] = replace(steps[3], foot_strike_angle_deg=float("nan"), valid=False, strike="unknown")
    for st in steps:
        store.record_step(s.id, st, phase="warmup" if st.index < 5 else "feedback", feedback_on=st.index >= 5)
    store.record_cue(s.id, 102.0, "metronome_on", {"bpm": 172.5})
    store.record_cue(s.id, 103.0, "cue_given", {"prompt": "land_softer", "value": float("nan")})
    store.record_cue(s.id, 104.0, "cue_withheld", {"reason": "rate_limited"})
    store.set_session_cadence(s.id, 160.0, 172.0)
    done = store.finish_session(s.id, "completed", {"steps": 10, "on_target_share": 0.8})
    assert done.state == "completed" and done.ended is not None
    assert done.step_count == 10 and done.cue_count == 1  # spoken cues only
    assert done.baseline_cadence_spm == 160.0 and done.target_cadence_spm == 172.0
    assert done.summary == {"steps": 10, "on_target_share": 0.8}

    got = store.session_steps(s.id)
    assert [g.index for g in got] == list(range(10))
    assert got[3].foot_strike_angle_deg is None and not got[3].valid
    assert got[0].t_ic == pytest.approx(100.0) and got[0].shank_angle_deg == 8.0
    assert got[0].phase == "warmup" and not got[0].feedback_on and got[7].feedback_on
    events = store.session_events(s.id)
    assert [e.kind for e in events] == ["metronome_on", "cue_given", "cue_withheld"]
    assert events[1].payload == {"prompt": "land_softer", "value": None}
    # the next session of this runner is number 2
    assert store.create_session(runner.id).session_number == 2
    assert store.list_sessions(runner.id)[0].session_number == 2


def test_pain_and_notes(store: Store):
    runner = store.create_runner("Ann")
    s = store.create_session(runner.id)
    store.set_pain_and_notes(s.id, pain_before=3)
    got = store.set_pain_and_notes(s.id, pain_after=1, notes="felt good")
    assert (got.pain_before, got.pain_after, got.notes) == (3, 1, "felt good")
    with pytest.raises(StoreError, match="pain_after: must be a whole number from 0 to 10"):
        store.set_pain_and_notes(s.id, pain_after=11)


def test_a_bad_queued_write_is_counted_and_does_not_lose_its_batch(store: Store):
    runner = store.create_runner("Ann")
    s = store.create_session(runner.id)
    store.record_step(s.id, make_step(0, 1.0))
    store.record_step(s.id + 1, make_step(0, 1.1))  # no such session: refused by the foreign key
    store.record_step(s.id, make_step(1, 1.4))
    store.flush()
    assert store.write_errors == 1
    assert [st.index for st in store.session_steps(s.id)] == [0, 1]


def test_the_final_emission_of_a_step_replaces_the_first_and_keeps_its_phase(store: Store):
    runner = store.create_runner("Ann")
    s = store.create_session(runner.id)
    first = make_step(0, 1.0)
    store.record_step(s.id, first, phase="warmup", feedback_on=False)
    store.record_step(s.id, replace(first, final=True, contact_time_s=0.25, t_to=1.25), phase="feedback", feedback_on=True)
    store.flush()
    assert store.write_errors == 0
    (got,) = store.session_steps(s.id)
    assert got.final and got.contact_time_s == 0.25 and got.t_to == 1.25
    assert got.phase == "warmup" and not got.feedback_on


def test_a_version_1_database_is_migrated_keeping_its_steps(tmp_path: Path):
    from appliance.store import MIGRATIONS

    conn = sqlite3.connect(tmp_path / "appliance.db")
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO runners (name, created) VALUES ('Ann', '2026-01-01T00:00:00+00:00')")
    conn.execute("INSERT INTO sessions (runner_id, session_number, started, state) VALUES (1, 1, '2026-01-01T00:00:00+00:00', 'completed')")
    conn.execute('INSERT INTO steps (session_id, "index", foot, frame_ic, t_ic, strike, valid) VALUES (1, 0, \'left\', 3, 0.1, \'midfoot\', 1)')
    conn.commit()
    conn.close()
    with Store(tmp_path) as store:
        (step,) = store.session_steps(1)
        assert step.strike == "midfoot" and step.final is False and step.strike_spread_deg is None
        assert store.recovered_sessions == []
    assert sqlite3.connect(tmp_path / "appliance.db").execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_queued_steps_reach_the_disk_within_a_second_without_flush(store: Store, tmp_path: Path):
    runner = store.create_runner("Ann")
    s = store.create_session(runner.id)
    reader = sqlite3.connect(tmp_path / "appliance.db")
    store.record_step(s.id, make_step(0, 1.0))
    t0 = time.monotonic()
    while reader.execute("SELECT count(*) FROM steps").fetchone()[0] == 0:
        assert time.monotonic() - t0 < 1.0, "a queued step was not committed within a second"
        time.sleep(0.01)


CRASHING_WRITER = """
import sys, time
from pathlib import Path
from appliance.store import Store
from appliance.types import Step
store = Store(Path(sys.argv[1]))
runner = store.create_runner("Ann")
session = store.create_session(runner.id, t_start=0.0)
i = 0
while True:
    store.record_step(session.id, Step(index=i, foot="left", frame_ic=i, t_ic=0.1 * i, strike="midfoot",
        foot_strike_angle_deg=2.0, shank_angle_deg=5.0, knee_flexion_deg=20.0, heel_to_hip_leg_lengths=0.2,
        cadence_spm=170.0, instant_cadence_spm=170.0, confidence=0.9, valid=True))
    if i == 50:
        store.flush()
        print("flushed", i + 1, flush=True)
    i += 1
    time.sleep(0.002)
"""


def test_kill_9_leaves_an_interrupted_session_with_every_committed_step(tmp_path: Path):
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("flushed"), line
        flushed = int(line.split()[1])
        time.sleep(0.3)
        # what another reader saw committed just before the crash must all survive it
        seen = sqlite3.connect(tmp_path / "appliance.db").execute("SELECT count(*) FROM steps").fetchone()[0]
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    assert seen >= flushed
    with Store(tmp_path) as store:
        assert len(store.recovered_sessions) == 1
        session = store.get_session(store.recovered_sessions[0])
        assert session.state == "interrupted"
        assert session.ended is not None and session.ended >= session.started
        steps = store.session_steps(session.id)
        assert len(steps) >= seen
        assert [s.index for s in steps] == list(range(len(steps)))
    with Store(tmp_path) as store:  # recovery happens once
        assert store.recovered_sessions == []


def _session_with_data(store: Store) -> int:
    runner = store.create_runner("Ann")
    s = store.create_session(runner.id, t_start=50.0, source="sim")
    for i in range(4):
        store.record_step(s.id, make_step(i, 50.0 + 0.35 * (i + 1), contact_time_s=float("nan")), phase="warmup")
    store.record_cue(s.id, 50.5, "voice", {"prompt": "quicker steps"})
    store.finish_session(s.id, "completed", {"steps": 4})
    return s.id


def test_export_json_is_strict_json_with_steps_and_events(store: Store):
    sid = _session_with_data(store)
    text = store.export_session(sid, "json")
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert doc["session"]["id"] == sid and doc["session"]["state"] == "completed"
    assert doc["runner"]["name"] == "Ann"
    assert len(doc["steps"]) == 4 and doc["steps"][0]["contact_time_s"] is None
    assert doc["cue_events"] == [{"t": 50.5, "kind": "voice", "payload": {"prompt": "quicker steps"}}]


def test_export_csv_is_one_table_in_time_order(store: Store):
    sid = _session_with_data(store)
    rows = list(csv.DictReader(io.StringIO(store.export_session(sid, "csv"))))
    assert [r["record"] for r in rows] == ["step", "cue", "step", "step", "step"]
    assert [float(r["t_rel_s"]) for r in rows] == sorted(float(r["t_rel_s"]) for r in rows)
    assert rows[0]["t_rel_s"] == "0.35" and rows[0]["strike"] == "rearfoot" and rows[0]["contact_time_s"] == ""
    assert rows[1]["cue_kind"] == "voice" and json.loads(rows[1]["cue_payload"]) == {"prompt": "quicker steps"}
    assert all(r["session_runner"] == "Ann" for r in rows)
    assert not any(math.isnan(float(v)) for r in rows for k, v in r.items() if k == "shank_angle_deg" and v)


def test_export_csv_never_hands_a_spreadsheet_a_formula(store: Store):
    runner = store.create_runner('=HYPERLINK("http://example.invalid","x")')
    s = store.create_session(runner.id, t_start=0.0, source="sim")
    store.record_step(s.id, make_step(0, 0.35), phase="warmup")
    store.finish_session(s.id, "completed", {"steps": 1})
    rows = list(csv.DictReader(io.StringIO(store.export_session(s.id, "csv"))))
    assert rows[0]["session_runner"] == "'" + '=HYPERLINK("http://example.invalid","x")'
    assert all(not v.startswith(("=", "+", "@")) for r in rows for v in r.values())
    assert float(rows[0]["shank_angle_deg"]) == pytest.approx(make_step(0, 0.35).shank_angle_deg)  # numbers stay numbers


def test_resolve_session_and_bad_format(store: Store):
    with pytest.raises(NotFound, match="no sessions"):
        store.resolve_session("last")
    sid = _session_with_data(store)
    assert store.resolve_session("last") == sid
    assert store.resolve_session(str(sid)) == sid
    with pytest.raises(StoreError, match="'first' is not a session id"):
        store.resolve_session("first")
    with pytest.raises(NotFound):
        store.resolve_session("999")
    with pytest.raises(StoreError, match="format: 'xml'"):
        store.export_session(sid, "xml")


def test_settings_changes_are_kept_newest_first(store: Store):
    store.record_settings_change("panel", {"audio.volume": [0.8, 0.6]})
    store.record_settings_change("cli", {"camera.fps": [60, 30]})
    changes = store.settings_changes()
    assert [c.who for c in changes] == ["cli", "panel"]
    assert changes[1].diff == {"audio.volume": [0.8, 0.6]}
