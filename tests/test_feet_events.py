"""The foot stage's contact events on exact slip signals (no pixels): touch at the knee where the
approach ends, lock once the foot moves with the belt, release when it leaves."""

import math

import numpy as np
import pytest

from appliance.feet.events import FootContactDetector, hinge_knee


def landing_slip(t: np.ndarray, t_touch: float, t_lock: float, t_release: float) -> np.ndarray:
    """Slip of a shoe swinging in (slowly falling 2.0 -> 1.8), rolling down onto the belt from the
    touch to the lock (linearly to 0), carried until the release, then swinging away."""
    approach = 2.0 - 0.2 * np.clip((t - (t_touch - 0.2)) / 0.2, 0, 1)
    stopping = 1.8 * (1 - (t - t_touch) / (t_lock - t_touch))
    leaving = np.minimum(2.0, 20.0 * (t - t_release))
    return np.where(t < t_touch, approach, np.where(t < t_lock, stopping, np.where(t < t_release, 0.0, leaving)))


def sole_slip(t: np.ndarray, t_touch: float, t_release: float) -> np.ndarray:
    """Its sole's relative velocity (over the belt speed): coming forwards and down, stopped by the
    belt at the touch, leaving it at the release."""
    x = np.where(t < t_touch, 1.6 - 2.0 * (t - t_touch), np.where(t < t_release, 0.0, np.minimum(2.0, 20.0 * (t - t_release))))
    y = np.where(t < t_touch, 0.3, np.where(t < t_release, 0.0, -np.minimum(0.5, 5.0 * (t - t_release))))
    return np.stack([x, y], axis=1)


def box_averaged(f, t: np.ndarray, dt: float) -> np.ndarray:
    """What a measurement between the frames at t - dt/2 and t + dt/2 sees of ``f``: its mean."""
    u = np.linspace(-0.5, 0.5, 41) * dt
    return np.mean([f(t + x) for x in u], axis=0)


def run(detector: FootContactDetector, t: np.ndarray, slip: np.ndarray, sole=None, dt: float = 0.0) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"touch": [], "lock": [], "release": []}
    for i, (ti, si) in enumerate(zip(t, slip, strict=True)):
        for e in detector.add(float(ti), float(si), None if sole is None else sole[i], dt):
            out[e.kind].append(e.t)
    return out


def test_hinge_knee_finds_the_bend_between_samples():
    t = np.arange(0, 0.2, 1 / 30)
    y = np.where(t < 0.0917, 2.0 - t, 2.0 - 0.0917 - 20 * (t - 0.0917))
    assert hinge_knee(t, y, 0.001) == pytest.approx(0.0917, abs=0.002)


@pytest.mark.parametrize("fps", [25, 30, 60, 120, 240])
def test_touch_lock_release_timed_on_an_exact_landing(fps):
    """Each sample averages the motion between its two frames, as a measurement does."""
    t_touch, t_lock, t_release = 0.5123, 0.5623, 0.75
    dt = 1 / fps
    t = np.arange(0.0, 1.0, dt) + 0.5 * dt
    slip = box_averaged(lambda x: landing_slip(x, t_touch, t_lock, t_release), t, dt)
    sole = box_averaged(lambda x: sole_slip(x, t_touch, t_release), t, dt)
    events = run(FootContactDetector("A"), t, slip, sole, dt)
    assert len(events["touch"]) == len(events["lock"]) == len(events["release"]) == 1
    assert events["touch"][0] == pytest.approx(t_touch, abs=0.1 / fps + 0.001)
    assert events["lock"][0] == pytest.approx(t_lock - 0.3 / 1.8 * (t_lock - t_touch), abs=0.5 / fps + 0.002)
    assert events["release"][0] == pytest.approx(t_release, abs=0.25 / fps + 0.001)


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


def arrested_sole(t: np.ndarray, t_touch: float, arrest_s: float, t_release: float, descent: float) -> np.ndarray:
    """A sole as real video shows it: approaching (forwards, its retraction slowing it), then
    dragged by friction from its approach velocity to the belt's at a constant deceleration over
    ``arrest_s``; its descent (``descent``, belt speeds, down positive) stops at the touch."""
    approach = 2.2 - 2.0 * (t - t_touch)
    fall = np.clip(1.0 - (t - t_touch) / arrest_s, 0.0, 1.0) * 2.2
    x = np.where(t < t_touch, approach, np.where(t < t_release, fall, np.minimum(2.0, 20.0 * (t - t_release))))
    y = np.where(t < t_touch, descent, np.where(t < t_release, 0.0, -np.minimum(0.5, 5.0 * (t - t_release))))
    return np.stack([x, y], axis=1)


@pytest.mark.parametrize("descent", [0.25, -0.1])  # seen coming down; or mismeasured (level, rising)
@pytest.mark.parametrize(("fps", "arrest_s"), [(30, 0.05), (30, 0.09), (60, 0.05), (60, 0.09), (60, 0.13),
                                               (120, 0.05), (120, 0.13)])
def test_touch_is_the_onset_of_the_arrest(fps, arrest_s, descent):
    """The touch is where the sole's deceleration starts, not where it ends (the lock). Not at 30
    fps with a 0.13 s arrest from 2.2 belt speeds: the lock's first sample is 0.14 s after the
    touch there, past LANDING_S, and the touch is placed late."""
    t_touch, t_release = 0.5123, 0.8
    dt = 1 / fps
    t = np.arange(0.0, 1.1, dt) + 0.5 * dt
    sole = box_averaged(lambda x: arrested_sole(x, t_touch, arrest_s, t_release, descent), t, dt)
    slip = np.hypot(sole[:, 0], sole[:, 1])
    events = run(FootContactDetector("A"), t, slip, sole, dt)
    assert len(events["touch"]) == len(events["lock"]) == 1
    assert events["touch"][0] == pytest.approx(t_touch, abs=0.25 / fps + 0.002)
    assert events["lock"][0] > t_touch + 0.5 * arrest_s
