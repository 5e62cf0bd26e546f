"""The runtime as the panel sees it: a real ``Runtime`` on the simulated runner, steered through the
``ApplianceController`` protocol (sessions, settings at a tick boundary, camera snapshot, health)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import numpy as np
import pytest
from waiting import wait_for

from appliance.config import Settings, load_settings
from appliance.runtime.app import RunOptions, Runtime
from appliance.runtime.controller import ApplianceController, ControllerError
from appliance.runtime.settings_changes import settings_diff


@pytest.fixture
def runtime(tmp_path: Path):
    settings = Settings()
    settings.storage.data_dir = tmp_path
    rt = Runtime(settings, RunOptions(source="sim", data_dir=tmp_path, speed=20, demo=False, panel=False))
    rt.start()
    yield rt
    rt.shutdown()


def test_runtime_implements_the_controller_protocol(runtime: Runtime):
    assert isinstance(runtime, ApplianceController)
    wait_for(lambda: runtime.snapshot().loop.frames > 10)
    snap = runtime.snapshot()
    assert snap.phase == "idle" and snap.source.startswith("sim") and snap.runner_presence in ("standing", "running")


def test_sessions_start_pause_resume_stop_through_the_controller(runtime: Runtime):
    ann = runtime.store.create_runner("Ann")
    with pytest.raises(ControllerError, match="no runner with id 999"):
        runtime.start_session(999)
    session_id = runtime.start_session(ann.id)
    snap = runtime.snapshot()
    assert snap.session_id == session_id and snap.runner.name == "Ann" and snap.phase == "calibrating"
    with pytest.raises(ControllerError, match="already running"):
        runtime.start_session(ann.id)
    wait_for(lambda: runtime.snapshot().phase == "warmup")
    runtime.pause_session()
    assert runtime.snapshot().phase == "paused"
    with pytest.raises(ControllerError, match="already paused"):
        runtime.pause_session()
    runtime.resume_session()
    assert runtime.snapshot().phase == "warmup"
    wait_for(lambda: runtime.snapshot().steps > 20)
    snap = runtime.snapshot()
    assert snap.strike in ("rearfoot", "midfoot", "forefoot") and snap.strike_unsteady is False  # steady simulated feet
    runtime.stop_session()
    assert runtime.snapshot().phase == "summary"
    runtime.store.flush()
    stored = runtime.store.get_session(session_id)
    assert stored.state == "aborted" and stored.step_count > 20
    kinds = [e.kind for e in runtime.store.session_events(session_id)]
    assert kinds[:2] == ["session_start", "calibration_skipped"] or kinds[:2] == ["session_start", "calibrated"]
    assert "paused" in kinds and "resumed" in kinds and kinds[-1] == "session_end"
    with pytest.raises(ControllerError, match="no session is running"):
        runtime.stop_session()


def test_feet_seen_unsteadily_mark_the_live_strike_unsteady_and_withhold_strike_cues(tmp_path: Path, monkeypatch):
    # The tracker's own measure of how unsteady the foot landmarks are (the spread of the mid-stance
    # foot angle; tests/test_gait_report.py drives it with wandering toes) reports 25 deg here.
    from appliance.gait.tracker import GaitTracker

    real = GaitTracker.flat_reference.fget
    monkeypatch.setattr(GaitTracker, "flat_reference", property(lambda self: {**real(self), "spread_deg": 25.0}))
    settings = Settings()
    settings.coach.warmup_minutes = 0.5
    settings.coach.block_grace_s = 0.0
    settings.coach.min_cue_interval_s = 2.0
    rt = Runtime(settings, RunOptions(source="sim", data_dir=tmp_path, speed=20, demo=False, panel=False))
    rt.start()
    try:
        # The simulated runner lands on the heel (~12 deg): a midfoot aim wants a strike cue.
        ann = rt.store.create_runner("Ann", targets={"cadence": None, "strike": {"aim": "midfoot"}})
        session_id = rt.start_session(ann.id)
        wait_for(lambda: rt.snapshot().phase == "feedback" and rt.snapshot().feedback_on)
        t_on = rt.loop.t
        wait_for(lambda: rt.loop.t - t_on > 20.0)  # 20 s of the runner's time in the feedback block
        snap = rt.snapshot()
        assert snap.strike_target == "midfoot" and snap.strike_unsteady is True
        rt.stop_session()
        rt.store.flush()
        summary = rt.store.get_session(session_id).summary
    finally:
        rt.shutdown()
    assert summary["cues_withheld"].get("strike_unsteady", 0) > 0, summary["cues_withheld"]
    assert not summary["cues_given"], summary["cues_given"]


def test_settings_are_saved_recorded_and_applied_at_a_tick_boundary(runtime: Runtime, tmp_path: Path):
    new = runtime.settings.model_copy(deep=True)
    new.session.pause_after_absent_seconds = 5.0
    new.audio.volume = 0.5
    new.camera.fps = 30.0
    runtime.apply_settings(new, "panel")
    assert runtime.settings.session.pause_after_absent_seconds == 5.0
    assert load_settings(tmp_path / "settings.json").audio.volume == 0.5
    change = runtime.store.settings_changes()[0]
    assert change.who == "panel"
    assert change.diff == {"audio.volume": [0.8, 0.5], "camera.fps": [60.0, 30.0], "session.pause_after_absent_seconds": [2.0, 5.0]}
    wait_for(lambda: runtime.loop.session.settings.pause_after_absent_seconds == 5.0, 5)
    runtime.apply_settings(new.model_copy(deep=True), "panel")  # no change: nothing recorded
    assert len(runtime.store.settings_changes()) == 1


def test_settings_diff_names_nested_fields():
    a, b = Settings(), Settings()
    b.lights.brightness = 0.3
    b.audio.prompt_texts = {"quick_feet": "faster feet"}
    assert settings_diff(a, b) == {"audio.prompt_texts": [{}, {"quick_feet": "faster feet"}], "lights.brightness": [0.8, 0.3]}


def test_camera_snapshot_health_and_output_tests(runtime: Runtime):
    import cv2

    wait_for(lambda: runtime.loop.last_frame is not None and runtime.loop.last_frame.pose is not None)
    snap = runtime.camera_snapshot()
    image = cv2.imdecode(np.frombuffer(base64.b64decode(snap.jpeg_base64), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (snap.height, snap.width, 3) == (480, 640, 3)
    assert snap.simulated and image.max() > 100  # the skeleton is drawn on the dark canvas
    assert isinstance(snap.advice, list)
    wait_for(lambda: runtime.loop.stats().frames >= 3)  # a rate needs at least two loop periods
    health = runtime.health()
    assert health.loop_hz > 0 and health.loop_healthy and health.disk_free_bytes > 0 and health.uptime_s > 0
    json.loads(health.model_dump_json())
    for kind in ("speaker", "voice", "lights"):
        runtime.test_output(kind)
    with pytest.raises(ControllerError, match="unknown output"):
        runtime.test_output("smoke")


def test_shutdown_mid_session_stores_it_interrupted_quickly(tmp_path: Path):
    settings = Settings()
    rt = Runtime(settings, RunOptions(source="sim", data_dir=tmp_path, speed=20, demo=True, panel=False))
    rt.start()
    try:
        wait_for(lambda: rt.snapshot().phase == "warmup")
    finally:
        t0 = time.monotonic()
        rt.shutdown()
        took = time.monotonic() - t0
    assert took < 2.0
    from appliance.store import Store

    with Store(tmp_path) as store:
        (session,) = store.list_sessions()
        assert session.state == "interrupted" and session.summary["end_reason"] == "appliance stopped"
        assert store.recovered_sessions == []


def test_watchdog_pings_stop_while_the_loop_hangs(tmp_path: Path):
    import socket
    import threading

    from appliance.runtime.notify import SystemdNotifier

    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.05)
    settings = Settings()
    settings.session.watchdog_stall_seconds = 0.5
    notifier = SystemdNotifier(socket_path=str(path), watchdog_usec="400000", watchdog_pid="")
    rt = Runtime(settings, RunOptions(source="sim", data_dir=tmp_path, speed=1, demo=False, panel=False), notifier)
    rt.start()
    stop = threading.Event()
    runner = threading.Thread(target=rt.run, args=(None, stop))
    received: list[tuple[float, str]] = []

    def collect(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                received.append((time.monotonic(), sock.recv(4096).decode()))
            except TimeoutError:
                pass

    try:
        runner.start()
        collect(1.5)
        healthy = [m for _, m in received if m == "WATCHDOG=1"]
        assert len(healthy) >= 4  # every 0.2 s while the loop ticks
        hang_start = time.monotonic()
        rt.loop.post(lambda t: time.sleep(2.5))  # the loop hangs for 2.5 s
        collect(2.0)
        pings_during_hang = [when for when, m in received if m == "WATCHDOG=1" and when > hang_start + 0.8]
        assert pings_during_hang == []  # systemd would restart a loop hung past WatchdogSec
        assert not rt.health().loop_healthy
        received.clear()
        collect(1.5)
        assert any(m == "WATCHDOG=1" for _, m in received)  # pings again once the loop ticks
    finally:
        stop.set()
        runner.join(5)
        rt.shutdown()
        sock.close()


def test_button_press_starts_and_pauses_and_hold_ends_the_session(tmp_path: Path):
    settings = Settings()
    settings.button.hold_seconds = 0.5
    rt = Runtime(settings, RunOptions(source="sim", data_dir=tmp_path, speed=5, demo=False, panel=False))
    rt.start()
    try:
        ann = rt.store.create_runner("Ann")
        new = rt.settings.model_copy(deep=True)
        new.session.runner_id = ann.id
        rt.apply_settings(new, "panel")
        pin = rt.hardware.pins.factory().pin(settings.button.pin)

        def press(hold_s: float = 0.05) -> None:
            pin.drive_low()  # the button pulls the input to ground
            time.sleep(hold_s)
            pin.drive_high()
            time.sleep(0.3)

        press()
        wait_for(lambda: rt.snapshot().phase == "calibrating", 5)
        press()
        wait_for(lambda: rt.snapshot().phase == "paused", 5)
        press()
        wait_for(lambda: rt.snapshot().phase == "calibrating", 5)
        press(hold_s=0.8)
        wait_for(lambda: rt.snapshot().phase == "summary", 5)
        rt.store.flush()
        (session,) = rt.store.list_sessions(ann.id)
        assert session.state == "aborted" and session.summary["end_reason"] == "stopped"
    finally:
        rt.shutdown()


def test_runner_stepping_off_pauses_and_returning_resumes(tmp_path: Path):
    # the demo runner stands 4.5 s, runs, steps off the belt from 20 s to 26 s and comes back
    rt = Runtime(Settings(), RunOptions(source="sim", data_dir=tmp_path, speed=20, demo=True, panel=False,
                                        sim_absences=((20.0, 26.0),)))
    rt.start()
    try:
        wait_for(lambda: rt.snapshot().phase == "paused", 10)
        assert rt.snapshot().runner_presence == "absent"
        wait_for(lambda: rt.snapshot().phase == "warmup", 10)
        sid = rt.snapshot().session_id
    finally:
        rt.shutdown()
    from appliance.store import Store

    with Store(tmp_path) as store:
        events = store.session_events(sid)
        paused = next(e for e in events if e.kind == "paused")
        resumed = next(e for e in events if e.kind == "resumed")
        assert 21.5 <= paused.t <= 22.5  # two seconds of nobody on the belt
        assert 26.0 <= resumed.t <= 27.5  # back on the belt and running


def test_a_start_that_fails_names_the_problem_and_releases_what_it_opened(tmp_path: Path):
    from appliance.runtime.app import StartupError

    settings = Settings()
    settings.button.pin = settings.lights.red_pin  # one GPIO for two devices
    rt = Runtime(settings, RunOptions(source="sim", data_dir=tmp_path, speed=5, demo=False, panel=False))
    with pytest.raises(StartupError, match=f"button on GPIO {settings.lights.red_pin}"):
        rt.start()
    rt.shutdown()
    from appliance.store import Store

    Store(tmp_path).close()  # the database lock was released


def test_a_missing_video_is_a_clear_error(tmp_path: Path):
    from appliance.runtime.app import StartupError

    rt = Runtime(Settings(), RunOptions(source=f"video:{tmp_path / 'nope.mp4'}", data_dir=tmp_path, panel=False))
    with pytest.raises(StartupError, match="nope.mp4 does not exist"):
        rt.start()
    rt.shutdown()


def test_which_settings_need_a_restart():
    from appliance.runtime.settings_changes import needs_restart

    assert needs_restart("camera.fps") and needs_restart("audio.sink") and needs_restart("lights.red_pin")
    assert not needs_restart("audio.volume") and not needs_restart("lights.brightness")
    assert not needs_restart("session.auto_start") and not needs_restart("coach.warmup_minutes")
    assert needs_restart("audio.prompt_texts.quick_feet")


def test_without_a_camera_auto_is_the_embedded_default(tmp_path: Path):
    from appliance.runtime.app import DEMO_RUNNER, DEMO_SPEED
    from appliance.sources.base import pi_camera_available, webcam_available

    if webcam_available(0) or pi_camera_available():
        pytest.skip("this machine has a camera: --source auto would use it")
    rt = Runtime(Settings(), RunOptions(source="auto", data_dir=tmp_path, panel=False))
    rt.start()
    try:
        from appliance.hardware.simulated import SimulatedRunnerCamera

        assert isinstance(rt.hardware, SimulatedRunnerCamera) and rt.hardware.embedded and rt.demo
        assert rt.frames.source.speed == DEMO_SPEED and not rt.model_loaded
        line = rt.describe()
        assert line.startswith("appliance ") and "no camera found, running the embedded default" in line
        assert "mock GPIO" in line and str(tmp_path / "audio") in line and "\n" not in line
        wait_for(lambda: rt.snapshot().runner is not None, 5)
        assert rt.snapshot().runner.name == DEMO_RUNNER
        from gpiozero.pins.mock import MockFactory

        assert isinstance(rt.hardware.pins.factory(), MockFactory)
    finally:
        rt.shutdown()


@pytest.mark.parametrize("min_visibility", [0.5, 0.99])
def test_the_session_s_calibration_uses_the_gait_settings_in_force(tmp_path: Path, caplog, min_visibility: float):
    """gait.min_visibility changed in the panel reaches the standing calibration (it used 0.5 whatever
    the setting said)."""
    caplog.set_level("INFO", logger="appliance.runtime.loop")
    rt = Runtime(Settings(), RunOptions(source="sim", data_dir=tmp_path, speed=20, demo=False, panel=False))
    rt.start()
    try:
        changed = rt.settings.model_copy(deep=True)
        changed.gait.min_visibility = min_visibility
        rt.apply_settings(changed, "test")
        rt.start_session(rt.store.create_runner("Ann").id)
        wait_for(lambda: "calibrated: flat foot" in caplog.text or "calibration refused" in caplog.text, timeout=30,
                 what="the calibration's outcome")
    finally:
        rt.shutdown()
    if min_visibility == 0.5:
        assert "calibrated: flat foot" in caplog.text
    else:
        assert "calibration refused" in caplog.text and "visibility >= 0.99" in caplog.text
