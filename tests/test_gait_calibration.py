"""Standing calibration: flat-foot angle and leg length, and its use by the tracker."""

from __future__ import annotations

import math

import numpy as np
import pytest

from appliance.gait import CalibrationError, GaitTracker, calibrate
from appliance.sim import RunnerParams, SimulatedRunner
from appliance.sim.evaluate import track_simulation
from appliance.sim.runner import HEEL_MARK, LEG_M, TOE_MARK


def _standing(seconds=2.0, **params):
    sim = SimulatedRunner(RunnerParams(stand_s=seconds + 1.0, noise_leg_lengths=0.01, seed=1, **params))
    poses, _ = sim.poses(seconds, 30.0)
    return sim, poses


def test_calibration_from_standing():
    sim, poses = _standing()
    cal = calibrate(poses)
    true_flat = math.degrees(math.atan2(TOE_MARK[1] - HEEL_MARK[1], TOE_MARK[0] - HEEL_MARK[0]))
    assert cal.flat_foot_angle_deg == pytest.approx(true_flat, abs=1.0)
    assert cal.leg_length_px == pytest.approx(LEG_M * sim.px_per_m, rel=0.03)
    assert cal.direction == "right"


def test_calibration_facing_left():
    _, poses = _standing(direction="left")
    assert calibrate(poses).direction == "left"


def test_calibration_needs_enough_standing():
    _, poses = _standing(0.2)
    with pytest.raises(CalibrationError, match="at least"):
        calibrate(poses)
    with pytest.raises(CalibrationError, match="at least"):
        calibrate([None] * 50)


def test_calibration_refuses_running():
    poses, _ = SimulatedRunner(RunnerParams(noise_leg_lengths=0.01)).poses(3.0, 30.0)
    with pytest.raises(CalibrationError, match="standing still"):
        calibrate(poses[30:])


def test_calibrated_strike_angles():
    _, poses = _standing()
    cal = calibrate(poses)
    m = track_simulation(30.0, 30.0, calibration=cal, noise_leg_lengths=0.01, strike_angle_deg=-6.0, seed=4)
    assert all(s.calibrated for s, _ in m.pairs)
    err = m.errors("foot_strike_angle_deg", "strike_angle_deg")
    assert abs(np.median(err)) <= 1.0
    assert np.mean([s.strike == "forefoot" for s, _ in m.pairs]) >= 0.95


def test_uncalibrated_steps_are_marked():
    m = track_simulation(15.0, 30.0, noise_leg_lengths=0.01, seed=4)
    assert m.pairs and not any(s.calibrated for s, _ in m.pairs)
    assert GaitTracker().state.calibrated is False
