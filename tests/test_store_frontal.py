"""The rear camera's stances in the store: recorded beside the steps, exported, carried in a
runner's bundle and erased with the runner."""

from __future__ import annotations

import json
from pathlib import Path

from test_store import make_step

from appliance.frontal.tracker import FrontalStep
from appliance.store import Store
from appliance.store.bundle import export_runner_bundle, import_runner_bundle
from appliance.store.erase import erase_runner


def stance(foot: str, t: float, adduction: float) -> FrontalStep:
    return FrontalStep(foot, t, t + 0.25, t + 0.12, 8, 5.5, adduction, 7.0, 0.3, "side")


def recorded(data: Path) -> tuple[Store, int, int]:
    store = Store(data)
    runner = store.create_runner("Frontal Runner")
    session = store.create_session(runner.id, t_start=0.0)
    for i in range(6):
        store.record_step(session.id, make_step(i, i * 0.35))
        store.record_frontal(session.id, stance("left" if i % 2 else "right", i * 0.35, 10.0 + i))
    store.flush()
    return store, runner.id, session.id


def test_stances_are_stored_and_exported_beside_the_steps(tmp_path: Path) -> None:
    store, _, session_id = recorded(tmp_path / "a")
    try:
        rows = store.session_frontal(session_id)
        assert [r["hip_adduction_deg"] for r in rows] == [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
        doc = json.loads(store.export_session(session_id, "json"))
        assert len(doc["frontal_steps"]) == 6 and doc["frontal_steps"][0]["foot"] == "right"
        csv = store.export_session(session_id, "csv").splitlines()
        frontal_rows = [line for line in csv if line.startswith("frontal,")]
        assert len(frontal_rows) == 6 and "frontal_hip_adduction_deg" in csv[0]
    finally:
        store.close()


def test_a_bundle_carries_the_stances_and_erasure_removes_them(tmp_path: Path) -> None:
    store, runner_id, session_id = recorded(tmp_path / "a")
    try:
        export_runner_bundle(store, runner_id, tmp_path / "runner.zip")
        erase_runner(store, runner_id, "Frontal Runner")
        assert store._rows("SELECT count(*) FROM frontal_steps")[0][0] == 0
    finally:
        store.close()
    other = Store(tmp_path / "b")
    try:
        import_runner_bundle(other, tmp_path / "runner.zip")
        sessions = other._rows("SELECT id FROM sessions")
        assert len(other.session_frontal(sessions[0][0])) == 6
    finally:
        other.close()
