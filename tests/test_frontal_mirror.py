"""The mirror page's data and page: the rear camera's runner with the frontal band, shown only while
the coach's feedback is on, and no name; served like the live view."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_coach_frontal import SESSION, SETTINGS, TARGET, frontal_step, side_step
from test_web_fakes import FakeController

from appliance.coach import Coach
from appliance.frontal.live import frontal_live
from appliance.frontal.rear_camera import RearCamera
from appliance.sim import RunnerParams
from appliance.sim.rear_view import FrontalParams
from appliance.sources.simulated import SimulatedRearSource, SimulatedSource
from appliance.web.app import create_app
from appliance.web.pin import PinStore

PIN = "mirror-pin-42"
T0 = 500.0


def coach_in_feedback() -> Coach:
    """A coach with a hip-adduction target past its warm-up (13 deg on the left: limit 9 deg)."""
    coach = Coach(SESSION, TARGET, SETTINGS)
    coach.start(T0)
    t, i = T0, 0
    while t - T0 < 70:
        t += 60 / 170
        i += 1
        step = side_step(i, t)
        coach.on_step(step)
        coach.on_frontal(frontal_step(step.foot, t + 0.25, 13.0 if step.foot == "left" else 8.0))
    assert coach.block.kind == "feedback_on"
    return coach


@pytest.fixture(scope="module")
def rear():
    side = SimulatedSource(RunnerParams(seed=4), fps=30, speed=8.0, duration_s=6.0)
    camera = RearCamera(SimulatedRearSource(side, FrontalParams(knee_valgus_deg=(14.0, 2.0), seed=4))).start()
    for _ in side:  # the side camera's clock drives the rear view's pace
        pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len((camera.latest() or None) and camera.latest().last_steps or {}) < 2:
        time.sleep(0.05)
    yield camera
    camera.stop()


def test_the_mirror_shows_both_legs_and_each_side_s_last_stance_against_the_band(rear) -> None:
    view = frontal_live(rear, coach_in_feedback())
    assert view.available and view.feedback and view.limit_deg == 9.0 and view.measure == "hip_adduction"
    for side in (view.left, view.right):
        assert set(side.points) == {"hip", "knee", "ankle"} and side.last_value is not None
    assert view.left.points["hip"][0] < view.right.points["hip"][0]  # from behind, the runner's left is on the left
    assert view.left.in_band is (view.left.last_value <= 9.0)


def test_without_feedback_or_a_rear_camera_the_mirror_has_nothing_to_show(rear) -> None:
    assert not frontal_live(rear, None).feedback  # no session
    assert not frontal_live(None, None).available


def test_the_api_serves_it_like_the_live_view(tmp_path: Path, rear) -> None:
    class WithRearCamera(FakeController):
        def frontal_live(self):
            return frontal_live(rear, None)

    fake = WithRearCamera(tmp_path)
    try:
        PinStore(tmp_path).set_pin(PIN)
        with TestClient(create_app(fake, tmp_path)) as client:
            assert client.get("/api/frontal").status_code == 401
            assert client.post("/api/auth/login", json={"pin": PIN}).status_code == 200
            body = client.get("/api/frontal").json()
            assert body["available"] and body["left"]["points"] is not None and "name" not in str(body)
            assert client.get("/mirror").status_code == 200
    finally:
        fake.close()


def test_history_serves_each_side_s_stances_with_the_coach_s_median(client: TestClient, fake: FakeController) -> None:
    from test_store import make_step
    from test_web_api import login

    from appliance.frontal.tracker import FrontalStep

    store = fake.store
    runner = store.create_runner("Rear History", targets={"frontal": {"measure": "knee_fppa"}})
    session = store.create_session(runner.id, t_start=0.0)
    plain = store.create_session(runner.id, t_start=0.0)
    for i in range(10):
        store.record_step(session.id, make_step(i, 1.0 + i * 0.35))
        foot = "left" if i % 2 else "right"
        store.record_frontal(session.id, FrontalStep(foot, 1.0 + i * 0.35, 1.25 + i * 0.35, 1.1 + i * 0.35, 8,
                                                     5.0, 10.0, 4.0 + i, 0.3, "side"))
    store.flush()
    login(client)
    f = client.get(f"/api/sessions/{session.id}/series").json()["frontal"]
    assert f["measure"] == "knee_fppa" and f["value_deg"] == [4.0 + i for i in range(10)]
    assert f["foot"][:2] == ["right", "left"] and f["median_deg"][-1] is not None
    assert client.get(f"/api/sessions/{plain.id}/series").json()["frontal"] is None
