"""The simulated runner: geometry, truth, camera, noise and the endless stream."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.landmarks import L
from appliance.sim import RunnerParams, SimulatedRunner, strike_class


def test_pose_layout_and_truth():
    sim = SimulatedRunner(RunnerParams(noise_leg_lengths=0.0))
    poses, truth = sim.poses(5.0, 30.0)
    assert len(poses) == 150
    p = poses[40]
    assert p.landmarks.shape == (33, 5) and p.landmarks.dtype == np.float32
    assert p.image_size == (640, 480)
    w, h = p.image_size
    assert (0 <= p.xy[:, 0]).all() and (p.xy[:, 0] < w).all() and (0 <= p.xy[:, 1]).all() and (p.xy[:, 1] < h).all()
    assert p.xy[L.NOSE, 1] < p.xy[L.LEFT_SHOULDER, 1] < p.xy[L.LEFT_HIP, 1] < p.xy[L.LEFT_KNEE, 1]
    steps = np.diff([x.t_ic for x in truth])
    assert np.allclose(steps, 60 / 170)
    assert [x.foot for x in truth[:4]] == ["left", "right", "left", "right"]
    assert all(x.contact_time_s == pytest.approx(0.36 * 2 * 60 / 170) for x in truth)


def test_contact_is_when_the_sole_reaches_the_belt():
    sim = SimulatedRunner(RunnerParams(noise_leg_lengths=0.0, strike_angle_deg=-8.0))
    _, truth = sim.poses(4.0, 30.0)
    c = truth[3]
    before, at = sim.world(c.t_ic - 0.01), sim.world(c.t_ic + 0.001)
    toe_y = sim._to_image(np.array([at[f"{c.foot}_toe"]]))[0, 1]
    assert at[f"{c.foot}_toe"][1] < before[f"{c.foot}_toe"][1]  # coming down until contact
    assert c.strike == "forefoot" and strike_class(c.strike_angle_deg) == "forefoot"
    assert toe_y > sim._to_image(np.array([at[f"{c.foot}_heel"]]))[0, 1]  # toe lower than heel


def test_direction_mirrors_the_image():
    right = SimulatedRunner(RunnerParams(noise_leg_lengths=0.0)).landmarks(1.0)
    left = SimulatedRunner(RunnerParams(noise_leg_lengths=0.0, direction="left")).landmarks(1.0)
    assert right[L.NOSE, 0] > right[L.LEFT_EAR, 0]
    assert left[L.NOSE, 0] < left[L.LEFT_EAR, 0]
    assert np.allclose(left[:, 0], 640 - right[:, 0])


def test_noise_dropouts_and_swaps():
    sim = SimulatedRunner(RunnerParams(noise_leg_lengths=0.01, dropout_fraction=0.1, swaps_per_min=30, seed=1))
    poses, _ = sim.poses(20.0, 30.0)
    missing = sum(p is None for p in poses) / len(poses)
    assert 0.05 < missing < 0.2
    clean = SimulatedRunner(RunnerParams(noise_leg_lengths=0.0, seed=1))
    swapped = 0
    for p in poses:
        if p is None:
            continue
        exact = clean.landmarks(p.t)
        err = np.abs(p.xy[L.LEFT_KNEE] - exact[L.LEFT_KNEE, :2]).max()
        swapped += err > 0.2 * sim.leg_px
    assert swapped > 0


@pytest.mark.parametrize("fps", [30.0, 240.0])
def test_leg_glitches_misplace_one_leg_below_the_hip_for_milliseconds(fps):
    # 4 glitches a second per leg lasting 3-25 ms (14 ms on average): each leg is off in ~5.6 % of
    # the time, whatever the frame rate.
    sim = SimulatedRunner(RunnerParams(noise_leg_lengths=0.0, leg_glitches_per_s=4.0, seed=2))
    clean = SimulatedRunner(RunnerParams(noise_leg_lengths=0.0, seed=2))
    poses, _ = sim.poses(60.0, fps)
    off = {L.LEFT_ANKLE: 0, L.RIGHT_ANKLE: 0}
    for p in poses:
        exact = clean.landmarks(p.t)
        assert np.allclose(p.xy[L.LEFT_HIP], exact[L.LEFT_HIP, :2], atol=1e-3)
        for ankle in off:
            shift = np.hypot(*(p.xy[ankle] - exact[ankle, :2]))
            assert shift < 0.31 * sim.leg_px
            off[ankle] += shift > 0.049 * sim.leg_px
    for count in off.values():
        assert 0.03 < count / len(poses) < 0.09


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="direction"):
        SimulatedRunner(RunnerParams(direction="up"))
    with pytest.raises(ValueError, match="cadence"):
        SimulatedRunner(RunnerParams(cadence_spm=20))


def test_stream_stands_then_runs_and_follows_a_target():
    sim = SimulatedRunner(RunnerParams(noise_leg_lengths=0.01, stand_s=3.0))
    stream = sim.stream(30.0)
    truths = []
    for i in range(30 * 60):
        pose, new = next(stream)
        assert pose is not None and pose.t == pytest.approx(i / 30.0)
        truths.extend(new)
        if i == 30 * 20:
            sim.target_cadence_spm = 182.0
    assert truths[0].t_ic > 3.0
    late = [x.cadence_spm for x in truths if x.t_ic > 55.0]
    assert late and all(abs(c - 182.0) < 1.5 for c in late)
    early = [x.cadence_spm for x in truths if x.t_ic < 20.0]
    assert all(c == pytest.approx(170.0) for c in early)


def test_stream_starts_at_a_clock_reading():
    sim = SimulatedRunner(RunnerParams(noise_leg_lengths=0.0, stand_s=2.0))
    stream = sim.stream(30.0, start_t=50_000.0)
    truths = []
    for _ in range(30 * 5):
        pose, new = next(stream)
        truths.extend(new)
    assert pose.t == pytest.approx(50_000.0 + 149 / 30.0)
    assert truths and truths[0].t_ic == pytest.approx(50_002.25)
