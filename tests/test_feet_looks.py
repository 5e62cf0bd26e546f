"""Heavy's look at each contact (appliance/feet/looks.py) and the gait tracker's use of it.

The landmark runner is a stand-in that returns the simulated runner's exact landmarks for the frame
it is given (the frame's pixels carry its index), so these tests check the looks' plumbing and the
tracker's reading, not the heavy model (tests/test_pose_heavy.py runs the real one).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from appliance.feet.looks import ContactLooks, LookRequest
from appliance.gait import GaitTracker
from appliance.pose.geometry import Roi
from appliance.pose.heavy import HeavyWorker
from appliance.sim import SimulatedRunner
from appliance.types import Frame

FPS = 60.0
ROI = Roi(100.0, 100.0, 200.0, 0.0)


def frame_at(i: int) -> Frame:
    """A tiny frame whose pixels say which one it is."""
    image = np.zeros((2, 2, 3), np.uint8)
    image[0, 0, 0], image[0, 0, 1] = i % 256, i // 256
    return Frame(i / FPS, i, image)


def index_of(image: np.ndarray) -> int:
    return int(image[0, 0, 0]) + 256 * int(image[0, 0, 1])


class ExactLandmarks:
    """A landmark runner giving the simulated runner's noise-free landmarks of each frame."""

    def __init__(self, runner: SimulatedRunner, fail_on: frozenset = frozenset()):
        self.runner, self.fail_on, self.calls = runner, fail_on, 0

    def landmarks(self, image: np.ndarray, roi: Roi) -> np.ndarray:
        self.calls += 1
        i = index_of(image)
        if i in self.fail_on:
            raise RuntimeError(f"frame {i} unreadable")
        return self.runner.landmarks(i / FPS).astype(np.float32)


def feed(looks: ContactLooks, frames: range) -> list:
    out = []
    for i in frames:
        looks.add_frame(frame_at(i), ROI)
        out += looks.results()
    return out


def test_a_look_is_read_once_its_mid_stance_is_buffered():
    runner = ExactLandmarks(SimulatedRunner(seed=1))
    looks = ContactLooks(runner=runner)
    feed(looks, range(0, 30))
    looks.request(LookRequest(7, 29 / FPS, (35 / FPS, 40 / FPS)))
    assert feed(looks, range(30, 40)) == [] and runner.calls == 0  # the window is not over yet
    (look,) = feed(looks, range(40, 41))
    assert look.request.key == 7
    assert [f.index for f, _ in look.plan.contact] == [27, 28, 29]  # the contact and before
    assert [f.index for f, _ in look.plan.mid] == [35, 37, 40]
    assert all(x is not None and x.shape == (33, 5) for x in look.contact + look.mid)
    assert feed(looks, range(41, 60)) == []  # each look once


def test_a_frame_the_model_cannot_read_is_reported_not_fatal():
    looks = ContactLooks(runner=ExactLandmarks(SimulatedRunner(seed=1), fail_on=frozenset({29})))
    feed(looks, range(0, 30))
    looks.request(LookRequest(1, 29 / FPS, (35 / FPS, 40 / FPS)))
    (look,) = feed(looks, range(30, 41))
    assert look.contact[2] is None and sum(x is None for x in look.contact) == 1
    assert look.errors == ("RuntimeError: frame 29 unreadable",)


def test_a_background_worker_gives_the_same_look():
    runner = ExactLandmarks(SimulatedRunner(seed=1))
    sync = ContactLooks(runner=runner)
    with HeavyWorker(runner, max_pending=40) as worker:
        background = ContactLooks(worker=worker)
        for looks in (sync, background):
            feed(looks, range(0, 30))
            looks.request(LookRequest(3, 29 / FPS, (35 / FPS, 40 / FPS)))
        (expected,) = feed(sync, range(30, 41))
        got = feed(background, range(30, 41))
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            worker.wait_idle(1.0)
            got = background.results()
    (look,) = got
    assert [f.index for f, _ in look.plan.contact + look.plan.mid] == \
           [f.index for f, _ in expected.plan.contact + expected.plan.mid]
    for a, b in zip(look.contact + look.mid, expected.contact + expected.mid, strict=True):
        np.testing.assert_array_equal(a, b)


def test_exactly_one_runner_or_worker():
    with pytest.raises(ValueError, match="exactly one"):
        ContactLooks()


@pytest.mark.parametrize("strike_angle", [-10.0, 3.0, 16.0])
def test_the_tracker_reads_the_strike_from_the_looks(strike_angle):
    """With exact landmarks for the looks (and noisy ones per frame), the strike angle is heavy's."""
    sim = SimulatedRunner(seed=5, noise_leg_lengths=0.02, strike_angle_deg=strike_angle)
    poses, truth = sim.poses(12.0, FPS)
    exact = SimulatedRunner(seed=5, noise_leg_lengths=0.02, strike_angle_deg=strike_angle)
    exact.poses(12.0, FPS)  # the same contacts, for the noise-free landmarks
    looks = ContactLooks(runner=ExactLandmarks(exact))
    tracker = GaitTracker()
    latest = {}
    for i, pose in enumerate(poses):
        looks.add_frame(frame_at(i), ROI)
        for look in looks.results():
            tracker.apply_look(look)
        for step in tracker.update(pose, i / FPS, i):
            latest[step.index] = step
            if not step.final:
                looks.request(tracker.look_request(step))
    heavy = [s for s in latest.values() if s.strike_read_by == "heavy"]
    assert len(heavy) >= 0.8 * len(latest) and tracker.late_looks == 0
    assert tracker.flat_reference["source"] == "heavy mid-stance"
    assert tracker.flat_reference["spread_deg"] < 1.0
    errors = [s.foot_strike_angle_deg - min(truth, key=lambda x: abs(x.t_ic - s.t_ic)).strike_angle_deg for s in heavy]
    assert abs(float(np.median(errors))) < 2.0


def test_the_frames_kept_for_looks_fit_the_memory_budget():
    from appliance.feet.tuning import FEET_TUNING

    big = np.zeros((1080, 1920, 3), np.uint8)
    looks = ContactLooks(runner=ExactLandmarks(SimulatedRunner(seed=1)))
    for i in range(40):
        looks.add_frame(Frame(i / FPS, i, big), ROI)
    assert 8 <= looks.buffered and looks.buffered * big.nbytes <= FEET_TUNING.contact_look.look_buffer_bytes
