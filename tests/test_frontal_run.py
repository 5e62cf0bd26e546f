"""The rear camera in ``appliance run``: the simulated runner seen from behind, joined with the
side camera's contacts, every stance of a session recorded and exported, the mirror's data live."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from waiting import wait_for

from appliance.config import Settings
from appliance.web.app import create_app
from appliance.web.logins import CSRF_COOKIE, CSRF_HEADER
from appliance.web.pin import PinStore

PIN = "rear-camera-pin"


def test_a_session_records_the_rear_camera_s_stances_and_the_mirror_follows(tmp_path: Path) -> None:
    from appliance.runtime.app import RunOptions, Runtime

    settings = Settings.model_validate({"rear_camera": {"source": "sim"}})
    # speed 2: the rear camera keeps every frame even on a loaded 2-core machine (it keeps only the newest)
    rt = Runtime(settings, RunOptions(source="sim", data_dir=tmp_path, panel=False, speed=2.0, demo=False))
    rt.start()
    try:
        PinStore(tmp_path).set_pin(PIN)
        with TestClient(create_app(rt.controller, tmp_path)) as client:
            assert client.post("/api/auth/login", json={"pin": PIN}).status_code == 200
            client.headers[CSRF_HEADER] = client.cookies[CSRF_COOKIE]
            runner = client.post("/api/runners", json={"name": "Rear View",
                                                       "targets": {"frontal": {"measure": "hip_adduction"}}}).json()
            session_id = client.post("/api/session/start", json={"runner_id": runner["id"]}).json()["session_id"]
            wait_for(lambda: len(rt.store.session_frontal(session_id)) >= 20, timeout=60, what="20 stances from the rear camera")
            mirror = client.get("/api/frontal").json()
            assert mirror["available"] and mirror["left"]["points"] and mirror["right"]["last_value"] is not None
            assert client.post("/api/session/stop").status_code == 200
            wait_for(lambda: client.get(f"/api/sessions/{session_id}").json()["state"] != "running", what="the end")
        rt.store.flush()
        steps = [s for s in rt.store.session_steps(session_id) if s.final]
        stances = rt.store.session_frontal(session_id)
        assert all(s["stance_from"] == "side" for s in stances)  # joined with the side camera's contacts
        assert len(stances) >= len(steps) - 3  # every finished step's stance, but the last few in flight
        exported = json.loads(rt.store.export_session(session_id, "json"))
        assert len(exported["frontal_steps"]) == len(stances)
        assert {s["foot"] for s in stances} == {"left", "right"}
    finally:
        rt.shutdown()
    assert rt.rear.error is None


def test_a_simulated_rear_camera_needs_the_simulated_side_camera(tmp_path: Path) -> None:
    from appliance.hardware import open_hardware
    from appliance.sources.base import SourceError

    settings = Settings.model_validate({"rear_camera": {"source": "sim"}})
    hardware = open_hardware(settings, f"video:{tmp_path / 'side.mp4'}", tmp_path)  # real: a camera's clip
    with pytest.raises(SourceError, match="rear camera: source 'sim' is the simulated runner, not a camera") as e:
        hardware.open_rear_camera("realtime")
    assert "--source sim" in e.value.fix
