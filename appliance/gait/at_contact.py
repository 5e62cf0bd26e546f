"""Reading a quantity at a sub-frame contact instant from the frames around it."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from appliance.gait.foot_samples import FootSample
from appliance.gait.geometry import HEEL, TOE, foot_angle_image_deg
from appliance.gait.tuning import GAIT_TUNING, StepMeasureTuning


def foot_angle_at(pre: list[FootSample], t_ic: float, noise_leg: float, leg_px: float, sign: float,
                  tuning: StepMeasureTuning = GAIT_TUNING.step_measures) -> float:
    """Foot angle (image, deg) at the contact instant ``t_ic``, from the frames ``pre`` just before it.

    A foot held at its landing angle is best read as the mean of those frames; one still rotating
    toe-up into contact (several hundred deg/s on both real clips) is read early by that mean, by
    tens of degrees. So a line is fitted and read at ``t_ic``, its slope shrunk towards zero by the
    slope's own noise (from the landmark noise ``noise_leg`` over the foot's length): a clear
    rotation is followed, and noise is not extrapolated. With fewer than ``strike_fit_min_samples``
    frames the mean is taken.
    """
    angles = np.array([foot_angle_image_deg(x.points[HEEL], x.points[TOE], sign) for x in pre])
    if len(pre) < tuning.strike_fit_min_samples:
        return float(np.mean(angles))
    tt = np.array([x.t for x in pre])
    dtt = tt - tt.mean()
    span = float((dtt * dtt).sum())
    slope = float((dtt * (angles - angles.mean())).sum()) / span
    foot = float(np.median([np.linalg.norm(x.points[TOE] - x.points[HEEL]) for x in pre])) / leg_px
    noise_deg = math.degrees(math.sqrt(2.0) * noise_leg / max(foot, 0.05))
    slope_var = tuning.strike_slope_prior * noise_deg**2 / span
    slope *= slope * slope / (slope * slope + slope_var)
    return float(angles.mean() + slope * (t_ic - tt.mean()))


def value_at(samples: list[FootSample], t: float, dt: float, fn: Callable[[FootSample], float]) -> float:
    """A per-frame quantity ``fn(sample)`` at the contact instant ``t``: least-squares parabola
    through the frames around it (a straight line with 3 frames, the nearest with fewer; ``dt``
    is the frame interval). Joint angles peak or turn near contact, which a parabola follows and
    a line would cut."""
    vals = [(x.t, fn(x)) for x in samples]
    vals = [(a, b) for a, b in vals if np.isfinite(b)]
    if not vals:
        return float("nan")
    tt = (np.array([a for a, _ in vals]) - t) / dt
    yy = np.array([b for _, b in vals])
    if len(vals) < 3:
        return float(yy[int(np.argmin(np.abs(tt)))])
    return float(np.polyfit(tt, yy, 2 if len(vals) >= 4 else 1)[-1])
