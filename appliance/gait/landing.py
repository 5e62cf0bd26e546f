"""Sub-frame timing of a foot's contact with the belt and its lift-off, from one foot track.

Two clocks: the height of the heel and toe over the belt (a hinge: a straight line in the air, a
level on the belt), and the foot's position along the belt (any straight line before the belt takes
it, the belt's speed after). The tracker decides that a foot has landed or lifted; this module says
when, to a tenth of a frame, so that a 30 fps camera does not quantise events to 33 ms.
"""

from __future__ import annotations

import math
from collections import deque
from itertools import islice

import numpy as np

from appliance.gait.foot_samples import FootSample, height_slopes, observed_between
from appliance.gait.tuning import GAIT_TUNING, LandingTuning


def event_time(hist: deque[FootSample], first: int, dt: float, noise: float, rising: bool,
               tuning: LandingTuning = GAIT_TUNING.landing) -> float:
    """Sub-frame instant the foot reaches (or leaves) the belt near history index ``first``, the
    first frame below (or above) the contact height; ``dt`` is the frame interval, ``noise`` the
    landmark noise (leg lengths).

    A hinge (``hinge_time``) is fitted to the height of the landmark that lands first (of the toe
    for toe-off) over the frames around ``first``. For a landing both are fitted, and the one lower
    at the earlier of the two instants (``toe_above_heel``) is kept. The minimum of the two heights
    is not fitted: of two noisy heights it is biased low once both are down, which would pull the
    fit.
    """
    window = max(tuning.event_fit_s, 2.5 * dt)
    s1 = hist[first]
    back = int(window / dt) + 2
    items = [x for x in islice(hist, max(0, first - back), None) if math.isfinite(x.g)]
    if rising:
        pts = [x for x in items if s1.t - window <= x.t <= s1.t + window]
        t = hinge_time(pts, "toe_h", s1.t - window, s1.t, dt, rising=True, level_prior=tuning.contact_level_prior)
        return s1.t if t is None else t
    pts = [x for x in items if x.t >= s1.t - window]
    if len(pts) < 3:
        return s1.t
    pooled = descent_speed(pts, s1.t, dt)
    offsets = rotation_offsets(hist, s1.t, dt, noise, tuning)
    times = {}
    for name in ("heel_h", "toe_h"):
        beta = None if pooled is None else pooled - offsets[name]
        t = hinge_time(pts, name, s1.t - 1.5 * dt, pts[-1].t, dt, rising=False, beta=beta,
                       level_prior=tuning.contact_level_prior)
        if t is not None:
            times[name] = t
    if not times:
        return s1.t
    t_early = min(times.values())
    before = [x for x in items if s1.t - window <= x.t <= s1.t]
    after = [x for x in pts if t_early - 1e-9 <= x.t <= t_early + max(tuning.landing_settle_s, dt)] or pts[-1:]
    heel_first = toe_above_heel(before, after, t_early) >= 0
    return times.get("heel_h" if heel_first else "toe_h", t_early)


def toe_above_heel(before: list[FootSample], after: list[FootSample], t: float) -> float:
    """How far the toe is above the heel (each over its stance level, leg lengths) at the landing
    instant ``t``: the straight line through their difference over the approach (``before``), read
    at ``t``, and the mean difference over the frames just after it (``after``), each weighted by
    the inverse of its variance. The approach alone misses a foot rotating toe-up whose heel
    overtakes the toe in the last few ms; the frames after alone are few at low frame rates, and
    the foot may already be flat in them."""
    d_after = float(np.mean([x.toe_h - x.heel_h for x in after]))
    var_after = 1.0 / len(after)  # in units of one frame's variance of the difference
    if len(before) < 2:
        return d_after
    tb = np.array([x.t for x in before])
    spread = float(((tb - tb.mean()) ** 2).sum())
    if spread <= 0:
        return d_after
    _, d_before = np.polyfit(tb - t, [x.toe_h - x.heel_h for x in before], 1)
    var_before = 1.0 / len(before) + (t - tb.mean()) ** 2 / spread
    return float((d_before / var_before + d_after / var_after) / (1 / var_before + 1 / var_after))


def hinge_time(pts: list[FootSample], name: str, lo: float, hi: float, dt: float, rising: bool,
               beta: float | None = None, level_prior: float = GAIT_TUNING.landing.contact_level_prior) -> float | None:
    """The instant in [lo, hi] (on a grid of a tenth of the frame interval ``dt``) at which a hinge
    best fits the height ``name`` over ``pts``: a level on the belt, a straight line in the air,
    joined at the instant. The last ~40 ms of a landing and the first ~40 ms of a toe-off are close
    to straight lines in height. ``beta``, where given and positive, is the line's slope (the
    landing speed, from the whole foot); else it is fitted. ``level_prior``: see
    ``LandingTuning.contact_level_prior``. None without a fit."""
    if len(pts) < 3:
        return None
    tt = np.array([x.t for x in pts])
    hh = np.array([getattr(x, name) for x in pts])
    grid = np.arange(lo, hi + 1e-9, dt / 10)
    # Height in the air grows linearly with the distance in time from the event: a = |t - t0|
    # on the airborne side; on the belt the height is a level c, which should be 0 but may be
    # off by a fraction of the landmark noise (the stance level is itself an estimate). c is
    # held near 0 by a prior worth ``level_prior`` frames.
    a = (tt[None, :] - grid[:, None]) if rising else (grid[:, None] - tt[None, :])
    a = np.maximum(a, 0.0)
    n = float(len(tt)) + level_prior
    if beta is not None and beta > 0:
        c = (hh[None, :] - beta * a).sum(axis=1) / n
        resid = ((hh[None, :] - c[:, None] - beta * a) ** 2).sum(axis=1) + level_prior * c * c
        return float(grid[int(np.argmin(resid))])
    # c and the slope from the 2x2 normal equations for every candidate instant at once.
    sa, saa = a.sum(axis=1), (a * a).sum(axis=1)
    sh, sah = float(hh.sum()), (a * hh[None, :]).sum(axis=1)
    det = n * saa - sa * sa
    ok = det > 1e-12
    det = np.where(ok, det, 1.0)
    c = np.where(ok, (saa * sh - sa * sah) / det, sh / n)
    slope = np.where(ok, (n * sah - sa * sh) / det, 0.0)
    resid = ((hh[None, :] - c[:, None] - slope[:, None] * a) ** 2).sum(axis=1) + level_prior * c * c
    resid = np.where(slope > 0, resid, np.inf)
    if not np.isfinite(resid).any():
        return None
    return float(grid[int(np.argmin(resid))])


def descent_speed(pts: list[FootSample], t_first: float, dt: float) -> float | None:
    """Descent speed (leg lengths/s) of the whole foot just before ``t_first``, from heel, toe and
    ankle together: a foot held at its landing angle comes down as one piece, and pooling the three
    averages their noise. None when it is not coming down."""
    slopes = height_slopes([x for x in pts if x.t < t_first - 0.25 * dt])
    if not slopes:
        return None
    pooled = float(np.mean(list(slopes.values())))
    return -pooled if pooled < 0 else None


def rotation_offsets(hist: deque[FootSample], t_first: float, dt: float, noise: float,
                     tuning: LandingTuning = GAIT_TUNING.landing) -> dict[str, float]:
    """How much faster (leg lengths/s) the foot as a whole comes down than its heel and than its toe
    (keys heel_h, toe_h), in the ``rotation_fit_s`` before ``t_first`` (widened at low frame rates
    to hold ``rotation_min_samples`` frames): >= 0 for the toe, <= 0 for the heel.

    A foot still rotating toe-up into a toe-first landing (as the knee extends; ~500 deg/s on both
    real clips) drops its heel several times faster than its toe, and the pooled speed would then
    time the toe's contact ~35 ms early (8 frames at 240 fps). Each difference is shrunk towards
    zero by its own noise (from the landmark ``noise``, leg lengths), so that a foot held still is
    timed as before. Zero for a landmark not coming down at all (a toe skimming the belt while the
    heel lands), and with fewer than ``rotation_min_samples`` frames."""
    offsets = {"heel_h": 0.0, "toe_h": 0.0}
    # The samples strictly before t_first - dt/4: n of them span (n + 0.5) frame intervals.
    span = max(tuning.rotation_fit_s, (tuning.rotation_min_samples + 0.5) * dt)
    pre = [x for x in observed_between(hist, t_first - span, t_first) if x.t < t_first - 0.25 * dt]
    if len(pre) < tuning.rotation_min_samples:
        return offsets
    slopes = height_slopes(pre)
    if len(slopes) < 2:
        return offsets
    pooled = float(np.mean(list(slopes.values())))
    tt = np.array([x.t for x in pre])
    diff_var = tuning.rotation_prior * (1 - 1 / len(slopes)) * noise * noise / float(((tt - tt.mean()) ** 2).sum())
    for key in offsets:
        if key not in slopes or slopes[key] >= 0:
            continue
        diff = slopes[key] - pooled
        if diff == 0.0:
            continue
        offset = diff * diff * diff / (diff * diff + diff_var)
        # Only a toe-up rotation (the toe slower than the foot, the heel faster) is followed: that
        # is how the foot moves into contact; the other way it is the landmark noise.
        if (offset > 0) == (key == "toe_h"):
            offsets[key] = offset
    return offsets


def belt_onset(hist: deque[FootSample], first: int, dt: float, belt_v: float,
               tuning: LandingTuning = GAIT_TUNING.landing) -> float | None:
    """When the foot started moving with the belt (``belt_v`` px/s), near history index ``first``,
    or None when it was already moving nearly as fast before (then the landing shows only in its
    height).

    A hinge is fitted to the foot's position along the belt: any straight line before the onset,
    the belt's own speed after it, over the ``onset_fit_s`` before ``first`` (at least 5 frames).
    """
    s1 = hist[first]
    pre_w = max(tuning.onset_fit_s, 5 * dt)
    pts = [x for x in islice(hist, max(0, first - int(pre_w / dt) - 2), None)
           if x.observed and x.t >= s1.t - pre_w and math.isfinite(x.fwd)]
    if len(pts) < 4:
        return None
    tt = np.array([x.t for x in pts])
    ff = np.array([x.fwd for x in pts])
    grid = np.arange(s1.t - pre_w / 2, tt[-1] + 1e-9, dt / 4)
    # For every candidate onset at once: before it f = a + b (t - t0), after it
    # f = a - belt_v (t - t0); least squares in a and b from the 2x2 normal equations.
    x = tt[None, :] - grid[:, None]
    pre = x < 0
    y = np.where(pre, ff[None, :], ff[None, :] + belt_v * x)
    xp = np.where(pre, x, 0.0)
    n = float(len(tt))
    sx, sxx = xp.sum(axis=1), (xp * xp).sum(axis=1)
    sy, sxy = y.sum(axis=1), (xp * y).sum(axis=1)
    det = n * sxx - sx * sx
    usable = (pre.sum(axis=1) >= 2) & ((~pre).sum(axis=1) >= 1) & (det > 1e-12)
    if not usable.any():
        return None
    det = np.where(usable, det, 1.0)
    a = (sxx * sy - sx * sxy) / det
    b = (n * sxy - sx * sy) / det
    resid = ((y - a[:, None] - b[:, None] * xp) ** 2).sum(axis=1)
    resid = np.where(usable, resid, np.inf)
    i = int(np.argmin(resid))
    # Only a foot that was clearly not moving with the belt before (gliding in, or still swinging
    # forward) shows its contact in this way; a foot already pulled back at nearly belt speed
    # (swing retraction) lands visibly only in its height.
    if b[i] < -tuning.onset_max_pre_speed * belt_v:
        return None
    return float(grid[i])
