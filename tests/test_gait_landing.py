"""Sub-frame event timing and reading measures at the contact instant, on hand-built foot tracks
whose true instants are known exactly: the pieces the tracker's contact timing is made of."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest

from appliance.gait.at_contact import foot_angle_at, value_at
from appliance.gait.foot_samples import FootSample
from appliance.gait.landing import belt_onset, event_time, hinge_time, toe_above_heel

FPS = 60.0
DT = 1 / FPS
LEG_PX = 400.0
FOOT_PX = 0.28 * LEG_PX


def sample(t: float, heel_h: float, toe_h: float, fwd: float = 0.0, angle_deg: float = 0.0) -> FootSample:
    """A right-facing foot whose heel sits at the image origin, its toe at ``angle_deg`` (toe up)."""
    a = math.radians(angle_deg)
    points = np.zeros((5, 2))
    points[4] = [FOOT_PX * math.cos(a), -FOOT_PX * math.sin(a)]
    return FootSample(t, round(t * FPS), points, np.ones(5), True, False, min(heel_h, toe_h), toe_h, heel_h, fwd,
                      heel_h + 0.1)


def landing(t_contact: float, speed: float, toe_lift: float = 0.0, n: int = 30) -> deque[FootSample]:
    """A foot coming down at ``speed`` leg lengths/s onto the belt at ``t_contact``, its toe held
    ``toe_lift`` higher than the heel until the heel lands (a rearfoot landing), flat after."""
    hist = deque()
    for i in range(n):
        t = i * DT
        heel = max(0.0, speed * (t_contact - t))
        toe = heel + (toe_lift if t < t_contact else 0.0)
        hist.append(sample(t, heel, toe))
    return hist


def first_down(hist: deque[FootSample], level: float) -> int:
    return next(i for i, x in enumerate(hist) if x.g < level)


@pytest.mark.parametrize("noise", [0.0, 0.003])
@pytest.mark.parametrize("toe_lift", [0.0, 0.05])
@pytest.mark.parametrize("t_contact", [0.2, 0.2 + 0.3 * DT, 0.2 + 0.7 * DT])
def test_a_landing_between_frames_is_timed_to_a_tenth_of_a_frame(t_contact: float, toe_lift: float, noise: float):
    hist = landing(t_contact, speed=0.8, toe_lift=toe_lift)
    t = event_time(hist, first_down(hist, 0.02), DT, noise=noise, rising=False)
    assert abs(t - t_contact) <= 0.1 * DT


def test_a_heel_first_landing_is_timed_at_the_heel_not_at_the_flat_foot():
    # The toe reaches the belt only once the heel is down: timing by the toe would be late.
    hist = landing(0.25, speed=0.8, toe_lift=0.06)
    for x in hist:
        if x.t >= 0.25:
            x.toe_h = max(0.0, 0.06 - 1.0 * (x.t - 0.25))
            x.g = min(x.heel_h, x.toe_h)
    t = event_time(hist, first_down(hist, 0.02), DT, noise=0.0, rising=False)
    assert abs(t - 0.25) <= 0.1 * DT


def test_a_toe_off_is_timed_where_the_rising_toe_leaves_the_belt():
    pts = [sample(i * DT, 0.1, max(0.0, 1.2 * (i * DT - 0.3))) for i in range(30)]
    t = hinge_time(pts, "toe_h", 0.3 - 4 * DT, 0.3 + 2 * DT, DT, rising=True)
    assert t == pytest.approx(0.3, abs=0.1 * DT)


def test_a_hinge_needs_a_falling_line():
    # A foot standing on the belt throughout has no landing to time.
    pts = [sample(i * DT, 0.0, 0.0) for i in range(10)]
    assert hinge_time(pts, "heel_h", 0.0, 9 * DT, DT, rising=False) is None


def test_a_heel_overtaking_the_toe_in_the_last_frames_is_seen_as_lower_at_the_landing():
    # Over the approach the toe is lower; the line through toe minus heel crosses zero just before
    # the landing, and the frames after it have the heel down and the toe still up.
    before = [sample(t, -0.5 * t, 0.01 - 0.2 * t) for t in np.arange(0, 0.1, DT) - 0.1]
    after = [sample(t, 0.0, 0.01) for t in (0.0, DT, 2 * DT)]
    assert toe_above_heel(before, after, 0.0) > 0
    toe_first_after = [sample(t, 0.01, 0.0) for t in (0.0, DT, 2 * DT)]
    toe_first_before = [sample(t, 0.01 - 0.2 * t, -0.5 * t) for t in np.arange(0, 0.1, DT) - 0.1]
    assert toe_above_heel(toe_first_before, toe_first_after, 0.0) < 0


@pytest.mark.parametrize("onset", [0.30, 0.30 + 0.5 * DT])
def test_the_belt_takes_the_foot_at_the_onset_of_its_pull(onset: float):
    belt_v = 600.0  # px/s
    hist = deque(sample(i * DT, 0.0, 0.0, fwd=100.0 + 50.0 * min(i * DT - onset, 0.0) - belt_v * max(i * DT - onset, 0.0))
                 for i in range(40))
    first = next(i for i, x in enumerate(hist) if x.t >= onset - 2 * DT)
    assert belt_onset(hist, first, DT, belt_v) == pytest.approx(onset, abs=0.25 * DT)


def test_a_foot_already_pulled_back_at_belt_speed_shows_no_onset():
    belt_v = 600.0
    hist = deque(sample(i * DT, 0.0, 0.0, fwd=100.0 - belt_v * i * DT) for i in range(40))
    assert belt_onset(hist, 20, DT, belt_v) is None


def test_a_foot_rotating_into_contact_is_read_at_the_contact_not_on_average():
    # 300 deg/s toe-up into a contact at t = 0: the mean of the 100 ms before it would read 15 deg low.
    pre = [sample(t, 0.1, 0.1, angle_deg=10.0 + 300.0 * t) for t in np.arange(-0.1 + DT, DT / 2, DT)]
    assert foot_angle_at(pre, 0.0, noise_leg=0.001, leg_px=LEG_PX, sign=1.0) == pytest.approx(10.0, abs=1.0)


def test_a_foot_held_at_its_angle_is_read_as_the_mean_of_its_noisy_frames():
    rng = np.random.default_rng(3)
    angles = 5.0 + rng.normal(0.0, 2.0, 6)
    pre = [sample(-i * DT, 0.1, 0.1, angle_deg=a) for i, a in enumerate(angles)][::-1]
    # A noise of 1 % of the leg over a 0.28-leg foot is ~3 deg: the chance slope is not extrapolated.
    tt = np.array([x.t for x in pre])
    line_at_contact = np.polyval(np.polyfit(tt, angles[::-1], 1), 0.0)
    assert abs(line_at_contact - angles.mean()) > 0.5  # what following the chance slope would read
    read = foot_angle_at(pre, 0.0, noise_leg=0.01, leg_px=LEG_PX, sign=1.0)
    assert read == pytest.approx(angles.mean(), abs=0.2)


def test_a_joint_angle_peaking_at_contact_is_read_at_its_peak():
    # A parabola peaking between frames: a line through the frames would cut the peak.
    samples = [sample(t, 0.0, 0.0) for t in np.arange(-3, 4) * DT + 0.4 * DT]
    angle = {x.t: 20.0 - 5000.0 * x.t**2 for x in samples}
    assert value_at(samples, 0.0, DT, lambda x: angle[x.t]) == pytest.approx(20.0, abs=1e-6)
    assert math.isnan(value_at(samples, 0.0, DT, lambda x: float("nan")))
