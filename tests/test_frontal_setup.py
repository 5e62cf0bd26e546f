"""The Set-up page's rear camera through the panel: `appliance run --source sim` with the simulated
rear camera serves its newest frame with the hips, knees, ankles and hip line drawn and no advice
(the simulated camera is placed as the mounting guide says); a simulated camera off the belt's
centre line is told which way to slide; without a rear camera the panel says how to add one."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from test_web_fakes import FakeController
from waiting import wait_for

from appliance.config import Settings
from appliance.frontal.rear_camera import RearCamera
from appliance.runtime.camera_view import HIP_LINE_COLOUR, LEFT_COLOUR, RIGHT_COLOUR, render_rear_snapshot
from appliance.sim import RunnerParams
from appliance.sim.rear_view import FrontalParams
from appliance.sources.simulated import SimulatedRearSource, SimulatedSource
from appliance.web.app import create_app
from appliance.web.pin import PinStore

PIN = "rear-setup-pin"


def decoded(snap: dict) -> np.ndarray:
    """The snapshot's JPEG as an RGB array."""
    data = np.frombuffer(base64.b64decode(snap["jpeg_base64"]), np.uint8)
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def pixels_near(image: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> int:
    return int((np.abs(image.astype(int) - np.array(colour)).max(axis=2) < tolerance).sum())


def logged_in(client: TestClient) -> TestClient:
    assert client.post("/api/auth/login", json={"pin": PIN}).status_code == 200
    return client


def test_the_running_appliance_serves_the_rear_camera_with_the_pose_drawn_and_its_advice(tmp_path: Path) -> None:
    from appliance.runtime.app import RunOptions, Runtime

    settings = Settings.model_validate({"rear_camera": {"source": "sim"}})
    rt = Runtime(settings, RunOptions(source="sim", data_dir=tmp_path, panel=False, speed=2.0, demo=False))
    rt.start()
    try:
        PinStore(tmp_path).set_pin(PIN)
        with TestClient(create_app(rt.controller, tmp_path)) as client:
            assert client.get("/api/setup/rear-snapshot").status_code == 401  # the clinician's only
            logged_in(client)

            newest: dict = {}

            def runner_seen() -> bool:
                newest.update(client.get("/api/setup/rear-snapshot").json())
                return newest["available"] and newest["seen_from"] is not None

            wait_for(runner_seen, timeout=30, what="the rear camera's runner")
            snap = newest
            assert snap["advice"] == [], snap["advice"]
            assert snap["simulated"] and snap["view"] == "rear" and snap["seen_from"] == "rear"
            assert snap["notes"][0] == "Seen from behind, as set." and "px apart" in snap["notes"][1]
            image = decoded(snap)
            assert image.shape == (snap["height"], snap["width"], 3) == (480, 640, 3)
            for colour in (LEFT_COLOUR, RIGHT_COLOUR, HIP_LINE_COLOUR):  # both legs and the hip line drawn
                assert pixels_near(image, colour) > 30, colour
            side = client.get("/api/setup/snapshot").json()  # the side camera's is still there
            assert side["width"] > 0 and side["jpeg_base64"] != snap["jpeg_base64"]
    finally:
        rt.shutdown()


@pytest.fixture
def off_centre_rear():
    """A simulated rear camera 40 cm to the runner's right of the belt's centre line, running."""
    side = SimulatedSource(RunnerParams(seed=5), fps=30, speed=8.0, duration_s=4.0)
    camera = RearCamera(SimulatedRearSource(side, FrontalParams(offset_m=0.4, noise_leg_lengths=0.0, seed=5))).start()
    for _ in side:  # the side camera's clock paces the rear view
        pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (camera.latest() is None or camera.latest().landmarks is None):
        time.sleep(0.05)
    yield camera
    camera.stop()


def test_a_camera_off_the_belt_s_centre_is_told_which_way_to_slide(tmp_path: Path, off_centre_rear) -> None:
    class WithRearCamera(FakeController):
        def rear_camera_snapshot(self):
            return render_rear_snapshot(off_centre_rear)

    fake = WithRearCamera(tmp_path)
    try:
        PinStore(tmp_path).set_pin(PIN)
        with TestClient(create_app(fake, tmp_path)) as client:
            snap = logged_in(client).get("/api/setup/rear-snapshot").json()
        [said] = snap["advice"]
        assert "off the belt's centre line" in said and "slide the camera about 40 cm to the left" in said
    finally:
        fake.close()


def test_without_a_rear_camera_the_panel_says_how_to_add_one(client: TestClient) -> None:
    from conftest import PANEL_PIN

    assert client.post("/api/auth/login", json={"pin": PANEL_PIN}).status_code == 200
    snap = client.get("/api/setup/rear-snapshot").json()
    assert not snap["available"] and snap["jpeg_base64"] is None
    assert "No rear camera" in snap["message"] and "rear_camera.source" in snap["message"]
