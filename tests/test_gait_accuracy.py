"""Gait tracker accuracy on the simulated runner (landmark noise 1 % of leg length unless stated).

The must-show figures of issue 3 at 30 fps, then both directions, 60/120/240 fps, dropouts,
left/right label swaps, a tilted camera and low-visibility steps.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from appliance.gait import GaitTracker
from appliance.landmarks import L
from appliance.sim import RunnerParams, SimulatedRunner
from appliance.sim.evaluate import track_simulation
from appliance.sim.runner import HALF_WIDTH_M


@pytest.fixture(scope="module")
def rearfoot_30fps():
    return track_simulation(60.0, 30.0, noise_leg_lengths=0.01, strike_angle_deg=14.0, seed=11)


def test_every_contact_found_once(rearfoot_30fps):
    m = rearfoot_30fps
    assert len(m.truth) > 150
    assert len(m.missed) <= 0.02 * len(m.truth), [x.t_ic for x in m.missed]
    assert not m.extra, [s.t_ic for s in m.extra]


def test_contact_timing_30fps(rearfoot_30fps):
    err = np.abs(rearfoot_30fps.ic_error_frames())
    assert np.median(err) <= 1.0
    assert np.percentile(err, 95) <= 2.0


def test_cadence_30fps(rearfoot_30fps):
    m = rearfoot_30fps
    rolling = np.array([s.cadence_spm for s, _ in m.pairs[20:]])  # after one full 10 s window
    err = np.abs(rolling - 170.0)
    assert np.median(err) <= 0.5
    assert np.percentile(err, 95) <= 0.5, np.percentile(err, 95)
    assert abs(m.state.cadence_spm - 170.0) <= 0.5


def test_shank_angle_30fps(rearfoot_30fps):
    err = rearfoot_30fps.errors("shank_angle_deg")
    # The shank turns at ~300 deg/s around contact, so a third of a frame of timing error is
    # already 3 deg on a single step: per step the typical (median) error is within 2 deg, and
    # the runner's median shank angle, which the overstride baseline uses, within 1.5 deg.
    assert np.median(np.abs(err)) <= 2.0, np.median(np.abs(err))
    assert abs(np.median(err)) <= 1.5, np.median(err)


@pytest.mark.parametrize(("angle", "expected"), [(16.0, "rearfoot"), (3.2, "midfoot"), (-8.0, "forefoot")])
def test_strike_class_30fps(angle, expected):
    m = track_simulation(40.0, 30.0, noise_leg_lengths=0.01, strike_angle_deg=angle, seed=5)
    assert all(x.strike == expected for _, x in m.pairs)
    correct = np.mean([s.strike == expected for s, _ in m.pairs])
    assert correct >= 0.95, correct
    assert abs(np.median(m.errors("foot_strike_angle_deg", "strike_angle_deg"))) <= 1.5


def test_strike_angle_is_read_at_contact_while_the_foot_still_rotates():
    # Real runners' feet turn toe-up into contact (the knee extending): here at 150 deg/s over the
    # last ~90 ms of swing. An average over the frames before contact reads the foot ~7 deg flatter
    # than it lands, and a 14 deg heel strike as midfoot in two steps out of three.
    m = track_simulation(30.0, 60.0, noise_leg_lengths=0.01, strike_angle_deg=14.0,
                         terminal_swing_rotation_dps=150.0, seed=7)
    assert abs(np.median(m.errors("foot_strike_angle_deg", "strike_angle_deg"))) <= 4.5
    assert np.mean([s.strike == x.strike for s, x in m.pairs]) >= 0.8


@pytest.mark.parametrize("fps", [60.0, 120.0, 240.0])
def test_a_toe_first_landing_still_rotating_is_timed_at_the_toe(fps):
    # A forefoot landing with the foot still turning toe-up at 500 deg/s (both real clips): the
    # heel drops several times faster than the toe. Timed with the whole foot's descent speed, the
    # toe's contact came ~30 ms early (median -1.8 frames at 60 fps, -8.7 frames at 240 fps, there
    # 30 % outside the match window).
    m = track_simulation(20.0, fps, noise_leg_lengths=0.01, strike_angle_deg=-8.0,
                         terminal_swing_rotation_dps=500.0, seed=100)
    assert len(m.missed) <= 0.1 * len(m.truth)
    err_ms = m.ic_error_frames() / fps * 1000
    assert abs(np.median(err_ms)) <= max(15.0, 1000.0 / fps), np.median(err_ms)
    assert np.mean([s.strike == "forefoot" for s, _ in m.pairs]) >= 0.85


@pytest.mark.parametrize("fps", [60.0, 120.0])
def test_a_heel_overtaking_the_toe_just_before_contact_is_timed_at_the_heel(fps):
    # A midfoot landing (+6 deg) with the foot still turning toe-up at 300 deg/s: the foot comes
    # down toe-low, and its heel, dropping faster, overtakes the toe ~20 ms before it touches,
    # while the toe stays ~2 cm up. Timed at the toe, which was the lower one all through the
    # approach, the contact came 23-26 ms early and the strike read forefoot (0-25 % midfoot).
    # Landmark noise 0.3 % of leg length: at 1 % the toe's 2 cm is within twice the noise, and
    # the class is right in 30-60 % of these steps (it was in 4-17 %; bench/gait_sim_accuracy.py).
    m = track_simulation(20.0, fps, noise_leg_lengths=0.003, strike_angle_deg=6.0,
                         terminal_swing_rotation_dps=300.0, seed=100)
    assert len(m.missed) <= 0.1 * len(m.truth)
    err_ms = m.ic_error_frames() / fps * 1000
    assert abs(np.median(err_ms)) <= 15.0, np.median(err_ms)
    assert np.mean([s.strike == "midfoot" for s, _ in m.pairs]) >= 0.75


def test_label_swaps_do_not_change_feet():
    m = track_simulation(60.0, 30.0, noise_leg_lengths=0.01, swaps_per_min=20.0, seed=3)
    assert len(m.missed) <= 0.03 * len(m.truth)
    wrong = np.mean([s.foot != x.foot for s, x in m.pairs])
    assert wrong <= 0.01, wrong


@pytest.mark.parametrize("direction", ["left", "right"])
def test_both_directions(direction):
    m = track_simulation(30.0, 30.0, noise_leg_lengths=0.01, direction=direction, roll_deg=3.0, seed=2)
    assert m.state.direction == direction
    assert len(m.missed) <= 0.03 * len(m.truth)
    assert not m.extra
    assert np.median(np.abs(m.ic_error_frames())) <= 1.0
    assert all(s.foot == x.foot for s, x in m.pairs)


def test_tilted_camera_at_high_frame_rate():
    # A camera rolled 3 degrees, runner facing left, 120 fps: the belt line must take in the whole
    # tilt, or contacts at the front of the footprint come tens of milliseconds early (before the
    # fix, 19 % of them fell outside the 40 ms match window).
    m = track_simulation(30.0, 120.0, noise_leg_lengths=0.01, direction="left", roll_deg=3.0, seed=100)
    assert len(m.missed) <= 0.05 * len(m.truth)
    err_ms = m.ic_error_frames() / 120.0 * 1000
    assert abs(np.median(err_ms)) <= 15.0
    assert np.percentile(np.abs(err_ms), 95) <= 40.0


@pytest.mark.parametrize("fps", [60.0, 120.0, 240.0])
def test_high_frame_rates(fps):
    m = track_simulation(20.0, fps, noise_leg_lengths=0.01, seed=4)
    assert len(m.missed) <= 0.05 * len(m.truth)
    assert len(m.extra) <= 0.05 * len(m.truth)
    err_ms = np.abs(m.ic_error_frames()) / fps * 1000
    # Same noise per frame but more frames: timing in milliseconds at least as good as at 30 fps.
    assert np.median(err_ms) <= 15.0
    assert np.percentile(err_ms, 95) <= 40.0
    assert np.mean([s.strike == x.strike for s, x in m.pairs]) >= 0.95


def test_dropouts():
    m = track_simulation(40.0, 30.0, noise_leg_lengths=0.01, dropout_fraction=0.05, seed=8)
    assert len(m.missed) <= 0.08 * len(m.truth)
    assert len(m.extra) <= 0.03 * len(m.truth)
    valid = [(s, x) for s, x in m.pairs if s.valid]
    err = np.abs([(s.t_ic - x.t_ic) * 30.0 for s, x in valid])
    assert np.median(err) <= 1.0
    assert np.mean([s.foot == x.foot for s, x in m.pairs]) >= 0.97


def test_low_visibility_steps_are_invalid():
    m = track_simulation(40.0, 30.0, noise_leg_lengths=0.01, low_visibility_fraction=0.25, seed=9)
    low = [s for s, x in m.pairs if x.low_visibility]
    good = [s for s, x in m.pairs if not x.low_visibility]
    assert len(low) >= 10
    assert not any(s.valid for s in low)
    assert np.mean([s.valid for s in good]) >= 0.9


def test_contact_time_and_final_emission():
    m = track_simulation(20.0, 30.0, noise_leg_lengths=0.01, seed=6)
    finals = [(s, x) for s, x in m.pairs if s.final]
    assert len(finals) >= 0.95 * len(m.pairs)
    err = np.array([s.contact_time_s - x.contact_time_s for s, x in finals])
    assert abs(np.median(err)) <= 0.02  # within 2/3 of a frame
    for s, _ in finals:
        assert s.frame_to is not None and s.t_to > s.t_ic
        assert 0.2 < s.duty_factor < 0.5


@pytest.mark.parametrize("fps", [30.0, 60.0, 120.0])
def test_far_foot_seen_higher(fps):
    # A camera above the belt: the far foot's contact 8 % of a leg length higher in the image. At
    # 60 fps and above the belt fit thins its samples; it must keep both feet's (thinning the
    # interleaved samples as a whole once kept one foot only, and every far-foot contact was lost).
    # Strike class over these ~80 steps at 30 fps is 91-99 % from seed to seed (seeds 12-19, mean
    # 95 %): the bar is below that spread; the class itself is held to 95 % by the tests above.
    m = track_simulation(30.0, fps, noise_leg_lengths=0.01, far_foot_raise_leg_lengths=0.08, seed=12)
    assert len(m.missed) <= 0.03 * len(m.truth) and not m.extra
    assert np.median(np.abs(m.ic_error_frames())) <= fps / 30.0
    assert np.mean([s.strike == x.strike for s, x in m.pairs]) >= 0.9


def test_a_camera_turned_20_degrees_off_square():
    # The near and far leg then stand apart by sin(20 deg) of the hip width and every forward
    # distance is seen shortened by cos(20 deg) (6 %). The same contacts are found at the same
    # times on the same feet; the strike angle (foot pitch seen steeper by 1/cos) and the
    # heel-to-hip distance move by less than the strike classes' and the overstride band's margins.
    sim = SimulatedRunner(RunnerParams(yaw_deg=20.0, noise_leg_lengths=0.0))
    lm = sim.landmarks(1.0)
    apart_px = abs(lm[L.LEFT_HIP, 0] - lm[L.RIGHT_HIP, 0])
    assert apart_px == pytest.approx(2 * HALF_WIDTH_M["leg"] * math.sin(math.radians(20.0)) * sim.px_per_m)
    m = track_simulation(40.0, 30.0, noise_leg_lengths=0.01, yaw_deg=20.0, seed=4)
    assert len(m.missed) <= 0.02 * len(m.truth) and not m.extra
    assert np.percentile(np.abs(m.ic_error_frames()), 95) <= 2.0
    assert all(s.foot == x.foot for s, x in m.pairs)
    assert abs(np.median(m.errors("foot_strike_angle_deg", "strike_angle_deg"))) <= 1.5
    assert abs(np.median(m.errors("heel_to_hip_leg_lengths"))) <= 0.02


def test_steps_on_a_mislocated_leg_are_invalid():
    # The pose model draws the right knee well ahead of its ankle throughout (as it does with the
    # far leg of real side views): the shank then leans ~40 deg backwards at every right contact,
    # which no runner does. Those steps are reported but never valid (never cued on); the left
    # foot's steps are unaffected.
    sim = SimulatedRunner(RunnerParams(noise_leg_lengths=0.01, seed=3))
    poses, _ = sim.poses(30.0, 30.0)
    knee, ankle = int(L.RIGHT_KNEE), int(L.RIGHT_ANKLE)
    tracker = GaitTracker()
    latest = {}
    for i, pose in enumerate(poses):
        if pose is not None:
            lm = pose.landmarks.copy()
            lm[knee, 0] = lm[ankle, 0] + 0.85 * abs(lm[ankle, 1] - lm[knee, 1])
            pose = replace(pose, landmarks=lm)
        for step in tracker.update(pose, i / 30.0, i):
            latest[step.index] = step
    steps = [s for s in latest.values() if s.t_ic > 3.0]
    right = [s for s in steps if s.foot == "right"]
    left = [s for s in steps if s.foot == "left"]
    assert len(left) >= 30 and np.mean([s.valid for s in left]) >= 0.9
    assert right and not any(s.valid for s in right), [(s.shank_angle_deg, s.confidence) for s in right]


@pytest.mark.parametrize("fps", [30.0, 120.0])
def test_ghost_legs_are_ignored(fps):
    # Twice a second the far leg is drawn straight out ahead of the hip for 30-100 ms. Such a leg is
    # dropped, not followed: the contacts are still found (without the check 7 of 107 are missed at
    # 30 fps and 12 at 120 fps; with it 0 and 1).
    m = track_simulation(40.0, fps, noise_leg_lengths=0.01, ghost_legs_per_min=120.0, seed=2)
    assert len(m.missed) <= 0.06 * len(m.truth), len(m.missed)
    assert len(m.extra) <= 0.04 * len(m.truth), len(m.extra)


@pytest.mark.parametrize("fps", [30.0, 120.0, 240.0])
def test_noisy_landmarks(fps):
    # Landmark noise of 2 % of the leg length: what the pose model gives on a small real side view
    # (the labelled clip at 480x360 measures 2-4 %). At 120 and 240 fps more frames fall within
    # the noise of the belt before each landing; the contact must not be timed early by them
    # (before: a quarter of the contacts 5+ frames early, counted as missed).
    m = track_simulation(30.0, fps, noise_leg_lengths=0.02, seed=21)
    assert len(m.missed) <= 0.08 * len(m.truth), len(m.missed)
    assert len(m.extra) <= 0.08 * len(m.truth), len(m.extra)
    err_ms = m.ic_error_frames() / fps * 1000
    # At 30 fps the median over one seed's ~80 contacts moves by a quarter of a frame from seed to
    # seed (pooled over three seeds in bench/gait_sim_noise.py it is +0.02 frames).
    assert abs(np.median(err_ms)) <= max(8.0, 0.3 * 1000 / fps)
    assert np.median(np.abs(err_ms)) <= max(15.0, 1000 / fps)


def test_shuffling_runner():
    # Feet that barely clear the belt (lifted at 0.8 m/s: ~10 cm of clearance) under 2 % landmark
    # noise: the toe never rises clearly above the contact height, so swing is recognised by the
    # foot moving forwards, which a foot on the belt cannot do (before: 40 % of contacts missed).
    m = track_simulation(40.0, 30.0, noise_leg_lengths=0.02, foot_lift_mps=0.8, cadence_spm=160, speed_mps=2.2, seed=5)
    assert len(m.missed) <= 0.08 * len(m.truth), len(m.missed)
    assert len(m.extra) <= 0.04 * len(m.truth), len(m.extra)
    assert np.median(np.abs(m.ic_error_frames())) <= 1.0
    toe_off_errors = [(s.t_to - x.t_to) * 30.0 for s, x in m.pairs if s.t_to is not None]
    assert len(toe_off_errors) >= 0.9 * len(m.pairs)
    assert np.median(np.abs(toe_off_errors)) <= 2.0
