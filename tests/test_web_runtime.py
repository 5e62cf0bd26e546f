"""The panel on the real runtime (simulated runner), through FastAPI's TestClient: a settings change
is validated, saved to the config file, recorded in the store, and applied by the running loop at
a tick boundary; session control reaches the loop and the live snapshot shows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from waiting import wait_for

from appliance.config import Settings
from appliance.web.app import create_app
from appliance.web.pin import PinStore
from appliance.web.sessions import CSRF_COOKIE, CSRF_HEADER

PIN = "runtime-test-pin"


@pytest.fixture
def runtime(tmp_path: Path):
    from appliance.runtime.app import RunOptions, Runtime

    rt = Runtime(Settings(), RunOptions(source="sim", data_dir=tmp_path, panel=False, speed=4.0, demo=False))
    rt.start()
    try:
        yield rt
    finally:
        rt.shutdown()


@pytest.fixture
def client(runtime, tmp_path: Path):
    PinStore(tmp_path).set_pin(PIN)
    with TestClient(create_app(runtime, tmp_path)) as c:
        assert c.post("/api/auth/login", json={"pin": PIN}).status_code == 200
        c.headers[CSRF_HEADER] = c.cookies[CSRF_COOKIE]
        yield c


def test_settings_change_is_saved_recorded_and_applied_by_the_loop(client: TestClient, runtime, tmp_path: Path) -> None:
    wait_for(lambda: client.get("/api/live").json()["loop"]["frames"] > 0, what="the loop to tick")
    r = client.put("/api/settings", json={"changes": {"session.summary_seconds": 25, "audio.volume": 0.4}})
    assert r.status_code == 200, r.text
    wait_for(lambda: runtime.loop.session.settings.summary_seconds == 25, what="the loop to apply the change")
    saved = json.loads(Path(runtime.config_path).read_text())
    assert saved["session"]["summary_seconds"] == 25 and saved["audio"]["volume"] == 0.4
    change = runtime.store.settings_changes()[0]
    assert change.who == "panel" and set(change.diff) == {"session.summary_seconds", "audio.volume"}
    r = client.put("/api/settings", json={"changes": {"session.summary_seconds": 500}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "session.summary_seconds"
    assert runtime.settings.session.summary_seconds == 25


def test_a_session_started_from_the_panel_runs_in_the_loop(client: TestClient, runtime) -> None:
    runner = client.post("/api/runners", json={"name": "Loop Runner"}).json()
    r = client.post("/api/session/start", json={"runner_id": runner["id"]})
    assert r.status_code == 200, r.text
    session_id = r.json()["session_id"]
    wait_for(lambda: client.get("/api/live").json()["session_id"] == session_id, what="the session in the snapshot")
    live = client.get("/api/live").json()
    assert live["runner"] == {"id": runner["id"], "name": "Loop Runner"} and live["phase"] != "idle"
    r = client.post("/api/session/start", json={"runner_id": runner["id"]})
    assert r.status_code == 409
    assert client.post("/api/session/stop").status_code == 200
    wait_for(lambda: client.get(f"/api/sessions/{session_id}").json()["state"] != "running", what="the session to end")
    assert client.get(f"/api/sessions/{session_id}/series").status_code == 200
    health = client.get("/api/health").json()
    assert health["loop_hz"] > 0 and health["disk_free_bytes"] > 0
    snap = client.get("/api/setup/snapshot").json()
    assert snap["width"] > 0 and snap["jpeg_base64"]


def test_a_strike_class_limit_changed_in_the_panel_moves_classification_and_the_coach_band(
        client: TestClient, runtime) -> None:
    """One rule: the rearfoot limit a clinician sets classifies the steps and bounds the next
    session's strike band (it used to bound the classes only; the coach kept 8 deg)."""
    from appliance.coach.targets import Baseline, resolve
    from appliance.feet.contact_look import classify_strike

    wait_for(lambda: client.get("/api/live").json()["loop"]["frames"] > 0, what="the loop to tick")
    r = client.put("/api/settings", json={"changes": {"gait.rearfoot_above_deg": 12.0}})
    assert r.status_code == 200, r.text
    wait_for(lambda: runtime.loop.tracker.settings.rearfoot_above_deg == 12.0, what="the tracker to take the limit")
    assert classify_strike(10.0, runtime.loop.tracker.settings) == "midfoot"  # rearfoot under the old 8 deg
    runner = client.post("/api/runners", json={"name": "Strike Runner",
                                               "targets": {"cadence": None, "strike": {"aim": "midfoot"}}}).json()
    assert client.post("/api/session/start", json={"runner_id": runner["id"]}).status_code == 200
    wait_for(lambda: runtime.loop.session.active is not None and runtime.loop.session.active.coach is not None,
             timeout=60, what="the session's coach")
    coach = runtime.loop.session.active.coach
    bands, _ = resolve(coach.targets, Baseline(30, 170.0, 5.0, 10.0), coach.gait)
    assert bands["strike"].hi == 12.0 and bands["strike"].judge(10.0) == "in"
