"""The rear camera's own threads: the simulated runner's rear view joined with the side camera's
contacts, measured without the control loop ever waiting; and a real pose engine on a video."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from appliance.frontal.rear_camera import RearCamera
from appliance.sim import RunnerParams
from appliance.sim.rear_view import FrontalParams
from appliance.sources.simulated import SimulatedRearSource, SimulatedSource

SPEED = 4.0  # the rear camera keeps only the newest frame: slow enough to keep all on a loaded machine


def test_the_rear_view_of_the_simulated_runner_is_measured_off_the_loop_and_joined_with_its_contacts() -> None:
    side = SimulatedSource(RunnerParams(noise_leg_lengths=0.0, seed=2), fps=30, speed=SPEED, duration_s=16.0)
    rear = RearCamera(SimulatedRearSource(side, FrontalParams(pelvic_drop_deg=(8.0, 3.0), seed=2), fps=30)).start()
    steps, sent = [], set()
    try:
        for frame in side:  # the control loop: the side camera's frames at its own pace
            for c in list(side.runner._contacts):
                if c.t_to <= frame.t and c.index not in sent:  # the side tracker's final step
                    sent.add(c.index)
                    rear.add_contact(c.foot, c.t_ic, c.t_to)
            steps += rear.poll()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(steps) < len(sent) - 3:
            steps += rear.poll()
            time.sleep(0.05)
    finally:
        rear.stop()
    assert rear.error is None and rear.frames > 400
    assert len(steps) >= len(sent) - 3 and all(s.stance_from == "side" for s in steps)
    drop = {foot: np.median([s.pelvic_drop_deg for s in steps if s.foot == foot]) for foot in ("left", "right")}
    assert drop["left"] == pytest.approx(8.0, abs=1.0) and drop["right"] == pytest.approx(3.0, abs=1.0)
    view = rear.latest()
    assert view is not None and view.angles is not None and set(view.last_steps) == {"left", "right"}


def test_handing_over_and_polling_never_wait_for_a_rear_camera_stuck_in_its_pose_model() -> None:
    """The control loop's two calls return while the rear camera's thread is stuck inside a frame."""
    inside, release = threading.Event(), threading.Event()

    class StuckPose:
        def process(self, frame):
            inside.set()
            release.wait(10)
            return frame.pose

    side = SimulatedSource(RunnerParams(seed=2), fps=30, speed=4.0, duration_s=2.0)
    rear = RearCamera(SimulatedRearSource(side, FrontalParams(seed=2)), pose_engine=StuckPose()).start()
    feeder = threading.Thread(target=lambda: [None for _ in side], daemon=True)
    feeder.start()
    try:
        assert inside.wait(5)
        loop_calls = threading.Thread(target=lambda: (rear.add_contact("left", 0.1, 0.3), rear.poll()), daemon=True)
        loop_calls.start()
        loop_calls.join(2.0)
        assert not loop_calls.is_alive()
    finally:
        release.set()
        side.close()
        rear.stop()


def test_a_real_pose_engine_reads_the_rear_frames_of_a_video(slowmo_clip, model_dir) -> None:
    from appliance.pose.engine import PoseEngine
    from appliance.sources.video import VideoFileSource

    source = VideoFileSource(slowmo_clip, realtime=False, max_frames=20)
    rear = RearCamera(source, PoseEngine(model_dir, threads=1), view="rear").start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not rear.capture.exhausted:
        time.sleep(0.05)
    rear.stop()
    assert rear.error is None and rear.frames >= 1
    view = rear.latest()
    assert view.image is not None and view.landmarks is not None and view.image_size == (480, 360)


def test_the_simulated_rear_view_waits_for_the_side_camera_however_late_it_starts() -> None:
    """The runtime opens the rear camera seconds before the side camera's capture starts; at x8
    a rear view paced on its own clock ran past the side tracker's kept frames and no stance joined."""
    side = SimulatedSource(RunnerParams(seed=3), fps=30, speed=8.0, duration_s=3.0)
    rear_frames = []
    rear = SimulatedRearSource(side, FrontalParams(seed=3), fps=25)
    reader = threading.Thread(target=lambda: rear_frames.extend(rear), daemon=True)
    reader.start()
    time.sleep(0.4)  # 3.2 s of simulated time at x8, had it kept its own clock
    assert rear_frames == []
    side_times = [frame.t for frame in side]
    reader.join(timeout=5)
    assert not reader.is_alive()  # the side's end ends the rear view too
    assert rear_frames and rear_frames[-1].t <= side_times[-1]
    assert len(rear_frames) == sum(1 for i in range(200) if i / 25 <= 3.0)
