"""The step period from the trunk's rhythm: right period, no octave errors, silence when there is no
rhythm, robust to dropped frames, and the same figure in the report of a simulated run."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.gait.report import gait_report
from appliance.gait.rhythm import RhythmEstimator, step_period
from appliance.sim.runner import SimulatedRunner

MIN_P, MAX_P = 60 / 250, 60 / 80


def trunk(cadence_spm: float, fps: float, seconds: float, stride_share: float = 0.3, noise: float = 0.2,
          seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Times and a trunk height: a bounce per step, a left/right difference per stride, noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, seconds, 1 / fps)
    f_step = cadence_spm / 60
    h = np.cos(2 * np.pi * f_step * t) + stride_share * np.cos(np.pi * f_step * t + 0.7)
    return t, h + noise * rng.standard_normal(t.size) + 0.05 * t  # and a slow drift


@pytest.mark.parametrize("cadence", [150.0, 172.0, 195.0])
@pytest.mark.parametrize("fps", [30.0, 120.0])
def test_period_of_a_noisy_asymmetric_bounce(cadence: float, fps: float):
    t, h = trunk(cadence, fps, 6.0)
    period, strength = step_period(h, 1 / fps, MIN_P, MAX_P)
    assert abs(60 / period - cadence) <= 0.5
    assert strength > 0.5


def test_a_strong_stride_component_is_not_taken_for_the_step():
    """A limping runner bounces unevenly: the stride repeats better than the step, yet the cadence
    is the step rate, not half of it."""
    t, h = trunk(170.0, 60.0, 6.0, stride_share=0.6)
    period, _ = step_period(h, 1 / 60, MIN_P, MAX_P)
    assert abs(60 / period - 170.0) <= 0.5


def test_no_rhythm_gives_no_period():
    rng = np.random.default_rng(1)
    period, strength = step_period(rng.standard_normal(600), 1 / 60, MIN_P, MAX_P)
    assert np.isnan(period) and strength < 0.3
    assert np.isnan(step_period(np.zeros(50), 1 / 60, MIN_P, MAX_P)[0])  # too short for a stride


@pytest.mark.parametrize("cadence", [17.6, 25.0])
def test_a_rhythm_slower_than_the_slowest_plausible_gives_no_period(cadence: float):
    """Slow motion played without its time scale (a 240 fps step over 3.4 clip seconds at 30 fps):
    the trunk's swell correlates with itself at every short lag, but it has no peak in the
    plausible range, so no cadence is made up from the edge of that range."""
    t, h = trunk(cadence, 30.0, 30.0, noise=0.05)
    period, _ = step_period(h, 1 / 30, MIN_P, MAX_P)
    assert np.isnan(period)


def test_live_estimate_with_dropped_and_jittered_frames():
    t, h = trunk(176.0, 90.0, 8.0)
    rng = np.random.default_rng(2)
    keep = rng.random(t.size) > 0.1  # 10 % of frames lost
    t = t + rng.normal(0, 0.001, t.size)  # capture-time jitter
    est = RhythmEstimator(MIN_P, MAX_P)
    seen = []
    for ti, hi in zip(t[keep], h[keep], strict=True):
        est.add(float(ti), float(hi), 1 / 90)
        seen.append(est.cadence_spm)
    assert np.isnan(seen[0])  # nothing before two of the longest strides have been seen
    assert abs(est.cadence_spm - 176.0) <= 1.0


def test_report_cadence_of_a_simulated_runner_comes_from_the_trunk():
    runner = SimulatedRunner(cadence_spm=168.0, noise_leg_lengths=0.01, seed=3)
    poses, _ = runner.poses(20.0, 30.0)
    t = np.array([i / 30.0 for i in range(len(poses))])
    lm = np.stack([p.landmarks[:, :4] if p is not None else np.full((33, 4), np.nan) for p in poses])
    rep = gait_report(t, lm, (640, 480))
    assert rep["cadence_source"] == "trunk rhythm"
    assert abs(rep["cadence_spm"] - 168.0) <= 0.5
