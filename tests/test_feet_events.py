"""The foot stage's contact events on exact slip signals (no pixels): touch at the knee where the
approach ends, lock once the foot moves with the belt, release when it leaves."""

import math

import numpy as np
import pytest

from appliance.feet.events import FootContactDetector, hinge_knee


def landing_slip(t: np.ndarray, t_touch: float, t_lock: float, t_release: float) -> np.ndarray:
    """Slip of a foot swinging in (slowly falling 2.0 -> 1.8), stopped by the belt from the touch
    to the lock (linearly to 0), carried until the release, then swinging away."""
    approach = 2.0 - 0.2 * np.clip((t - (t_touch - 0.2)) / 0.2, 0, 1)
    stopping = 1.8 * (1 - (t - t_touch) / (t_lock - t_touch))
    leaving = np.minimum(2.0, 20.0 * (t - t_release))
    return np.where(t < t_touch, approach, np.where(t < t_lock, stopping, np.where(t < t_release, 0.0, leaving)))


def run(detector: FootContactDetector, t: np.ndarray, slip: np.ndarray) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"touch": [], "lock": [], "release": []}
    for ti, si in zip(t, slip, strict=True):
        for e in detector.add(float(ti), float(si)):
            out[e.kind].append(e.t)
    return out


def test_hinge_knee_finds_the_bend_between_samples():
    t = np.arange(0, 0.2, 1 / 30)
    y = np.where(t < 0.0917, 2.0 - t, 2.0 - 0.0917 - 20 * (t - 0.0917))
    assert hinge_knee(t, y, 0.001) == pytest.approx(0.0917, abs=0.002)


@pytest.mark.parametrize("fps", [30, 60, 120, 240])
def test_touch_lock_release_timed_on_an_exact_landing(fps):
    t_touch, t_lock, t_release = 0.5123, 0.5623, 0.75
    t = np.arange(0.0, 1.0, 1 / fps)
    events = run(FootContactDetector("A"), t, landing_slip(t, t_touch, t_lock, t_release))
    assert len(events["touch"]) == len(events["lock"]) == len(events["release"]) == 1
    assert events["touch"][0] == pytest.approx(t_touch, abs=0.5 / fps + 0.002)
    assert events["lock"][0] == pytest.approx(t_lock - 0.3 / 1.8 * (t_lock - t_touch), abs=0.5 / fps + 0.002)
    assert events["release"][0] == pytest.approx(t_release, abs=1 / fps)


def test_a_foot_carried_all_along_gives_no_touch():
    """A lock without a swing before it (the feet seen first in stance) is no landing."""
    t = np.arange(0.0, 0.5, 1 / 60)
    events = run(FootContactDetector("A"), t, np.full_like(t, 0.05))
    assert events["lock"] and not events["touch"]


def test_unmeasured_samples_break_a_run():
    d = FootContactDetector("A")
    assert d.add(0.0, 2.0) == [] and d.add(0.02, 0.1) == [] and d.add(0.04, math.nan) == []
    assert d.add(0.06, 0.1) == []  # the run restarted: one sample is not a lock
    assert not d.locked
