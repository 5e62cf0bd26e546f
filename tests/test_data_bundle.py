"""A runner's bundle on real SQLite files: exported on one data directory (beside a running
appliance), imported twice into another, the sessions are there exactly once with every step and
cue event; the CSVs inside neutralise formulas; a foreign file is refused in one line."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_store import make_step

from appliance.store import Store
from appliance.store.bundle import BundleError, export_runner_bundle, import_runner_bundle

APPLIANCE = [sys.executable, "-m", "appliance"]
NAME = "=HYPERLINK(\"http://x\")"  # a name a spreadsheet would run


def appliance(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(APPLIANCE + list(args), capture_output=True, text=True, timeout=120)


def treadmill_one(data: Path, sessions: int = 3, steps: int = 150) -> None:
    with Store(data) as store:
        store.create_runner("Someone else")
        runner = store.create_runner(NAME, targets={"cadence": {"mode": "relative", "increase_pct": 7.5}},
                                     programme={"name": "default"})
        for n in range(sessions):
            s = store.create_session(runner.id, t_start=10.0)
            for i in range(steps):
                store.record_step(s.id, make_step(i, 10.0 + i * 0.35), phase="feedback", feedback_on=True)
            store.record_cue(s.id, 12.0, "cue_given", {"cue": "quick_feet"})
            store.finish_session(s.id, "completed", {"steps": steps})
            store.set_pain_and_notes(s.id, pain_before=4, pain_after=n, notes=f"session {n}: =1+1")


def session_fingerprints(store: Store, runner_id: int) -> list[tuple]:
    out = []
    for s in sorted(store.list_sessions(runner_id), key=lambda s: s.uid):
        steps = [(st.index, st.t_ic, st.foot_strike_angle_deg, st.phase, st.feedback_on) for st in store.session_steps(s.id)]
        events = [(e.t, e.kind, e.payload) for e in store.session_events(s.id)]
        out.append((s.uid, s.session_number, s.started, s.state, s.pain_before, s.pain_after, s.notes, s.summary,
                    steps, events))
    return out


def test_a_bundle_imported_twice_gives_the_runners_sessions_exactly_once(tmp_path: Path):
    one, two = tmp_path / "treadmill-1", tmp_path / "treadmill-2"
    treadmill_one(one)
    bundle = tmp_path / "runner.zip"
    with Store(one) as running:  # the appliance on treadmill 1 runs meanwhile
        with Store(one, readonly=True) as reader:
            rid = reader.find_runner(NAME).id
            doc = export_runner_bundle(reader, rid, bundle)
        expected = session_fingerprints(running, rid)
    assert len(doc["sessions"]) == 3
    with Store(two) as store:
        store.create_runner("Another patient")
        first = import_runner_bundle(store, bundle)
        second = import_runner_bundle(store, bundle)
        assert (first.runner_created, first.sessions_added, first.sessions_skipped, first.steps_added) == (True, 3, 0, 450)
        assert (second.runner_created, second.sessions_added, second.sessions_skipped) == (False, 0, 3)
        moved = store.find_runner(NAME)
        assert moved.targets == {"cadence": {"mode": "relative", "increase_pct": 7.5}}
        assert session_fingerprints(store, moved.id) == expected
        assert len(store.list_sessions()) == 3
        # A session recorded here afterwards, then the same bundle a third time: still once each.
        s = store.create_session(moved.id)
        store.finish_session(s.id, "aborted")
        assert import_runner_bundle(store, bundle).sessions_added == 0
        assert len(store.list_sessions(moved.id)) == 4
    assert "into existing runner" in second.sentence() and "3 already here skipped" in second.sentence()


def test_the_bundle_holds_json_and_csv_with_formulas_neutralised(tmp_path: Path):
    treadmill_one(tmp_path / "d", sessions=2, steps=5)
    with Store(tmp_path / "d", readonly=True) as store:
        export_runner_bundle(store, store.find_runner(NAME).id, tmp_path / "b.zip")
    with zipfile.ZipFile(tmp_path / "b.zip") as z:
        names = z.namelist()
        assert names[0] == "bundle.json" and "sessions.csv" in names
        per_session = [n for n in names if n.startswith("sessions/")]
        assert len(per_session) == 2
        rows = list(csv.DictReader(io.StringIO(z.read("sessions.csv").decode())))
        assert rows[0]["runner"] == "'" + NAME and rows[0]["notes"] == "session 0: =1+1"
        table = list(csv.DictReader(io.StringIO(z.read(per_session[0]).decode())))
        assert [r["record"] for r in table].count("step") == 5 and [r["record"] for r in table].count("cue") == 1
        assert json.loads(z.read("bundle.json"))["runner"]["name"] == NAME


def test_a_foreign_or_damaged_bundle_is_refused_in_one_line_and_nothing_is_imported(tmp_path: Path):
    treadmill_one(tmp_path / "d", sessions=1, steps=5)
    with Store(tmp_path / "d", readonly=True) as store:
        export_runner_bundle(store, store.find_runner(NAME).id, tmp_path / "good.zip")
    good = (tmp_path / "good.zip").read_bytes()
    (tmp_path / "cut.zip").write_bytes(good[: len(good) // 2])
    with zipfile.ZipFile(tmp_path / "foreign.zip", "w") as z:
        z.writestr("bundle.json", json.dumps({"format": "photos"}))
    with zipfile.ZipFile(tmp_path / "nojson.zip", "w") as z:
        z.writestr("readme.txt", "hello")
    doc = json.loads(zipfile.ZipFile(tmp_path / "good.zip").read("bundle.json"))
    doc["sessions"][0]["steps"][0]["foot"] = None  # NOT NULL: refused by the database
    with zipfile.ZipFile(tmp_path / "altered.zip", "w") as z:
        z.writestr("bundle.json", json.dumps(doc))
    with Store(tmp_path / "other") as store:
        for name in ("cut", "foreign", "nojson", "altered"):
            with pytest.raises(BundleError) as refused:
                import_runner_bundle(store, tmp_path / f"{name}.zip")
            assert "\n" not in str(refused.value) and "nothing was imported" in str(refused.value), name
        assert store.list_runners(include_archived=True) == [] and store.list_sessions() == []


def test_the_commands_export_and_import_a_runner(tmp_path: Path):
    treadmill_one(tmp_path / "one", sessions=2, steps=10)
    done = appliance("export-runner", "--data-dir", str(tmp_path / "one"), "--runner", NAME.lower(),
                     "--out", str(tmp_path / "r.zip"))
    assert done.returncode == 0, done.stderr
    assert "2 sessions, 20 steps" in done.stdout
    for expected in ("imported 2 sessions (20 steps) into new runner", "imported 0 sessions (0 steps) into existing runner"):
        done = appliance("import-runner", str(tmp_path / "r.zip"), "--data-dir", str(tmp_path / "two"))
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(expected), done.stdout
    done = appliance("import-runner", str(tmp_path / "nothing.zip"), "--data-dir", str(tmp_path / "two"))
    assert done.returncode == 1 and "Traceback" not in done.stderr and done.stderr.count("\n") == 1
