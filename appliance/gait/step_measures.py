"""A step's measurements at its contact instant (strike, joint angles, overstride, confidence) and
the pelvis's motion over the step, read from one foot track's samples."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from appliance.config import GaitSettings
from appliance.feet.contact_look import classify_strike
from appliance.gait.at_contact import foot_angle_at, value_at
from appliance.gait.belt import BeltLine
from appliance.gait.foot_samples import FootSample, observed_between
from appliance.gait.geometry import ANKLE, HEEL, HIP, KNEE, TOE, belt_components, knee_flexion_deg

# The foot angle is read at contact from the frames of the 100 ms (at least 3.5 frames) before it
# (after contact the foot rotates fast to flat); joint angles are a local parabola through the
# frames within 60 ms (at least 2.5 frames) around contact.
STRIKE_WINDOW_S = 0.1
STRIKE_MIN_FRAMES = 3.5
JOINT_WINDOW_S = 0.06
# What a landing foot can look like at contact in running, with a wide margin: shank angle -5 to
# +25 deg (Souza 2016; overstriders at the top), foot-strike angle about -20 (forefoot) to +30
# (rearfoot), knee flexed 5-40 deg, heel up to ~0.5 leg lengths ahead of the hip. A step outside
# these ranges was measured on a mislocated leg (on real side views the pose model draws the far
# leg behind the body or bent backwards), so it is reported but never cued on.
PLAUSIBLE_AT_CONTACT = {
    "shank_angle_deg": (-30.0, 50.0),
    "foot_strike_angle_deg": (-40.0, 50.0),
    "knee_flexion_deg": (0.0, 75.0),
    "heel_to_hip_leg_lengths": (-0.4, 1.0),
}
TYPICAL_FOOT_LEG_LENGTHS = 0.28  # heel to toe


def flat_angle(ref: dict, line: BeltLine, leg_px: float, sign: float, k: int) -> tuple[float, bool]:
    """Flat-foot angle (image, runner's frame) of foot track ``k`` and whether it comes from a
    standing calibration; ``ref`` is the tracker's ``flat_reference``."""
    if ref["source"] != "none":
        return ref["angle_deg"], ref["source"] == "calibration"
    # Before any mid-stance: the heel and toe stance lines' offset over a typical foot length and
    # the belt's roll.
    dy = line.intercepts[(k, "heel")] - line.intercepts[(k, "toe")]  # toe line below heel line: dy < 0
    return math.degrees(math.atan2(dy, TYPICAL_FOOT_LEG_LENGTHS * leg_px)) - sign * math.degrees(line.roll_rad), False


def contact_measures(hist: deque[FootSample], first: int, t_ic: float, dt: float, line: BeltLine, leg_px: float,
                     sign: float, k: int, settings: GaitSettings, flat_ref: dict, period: float,
                     instant_spm: float) -> dict:
    """The measurements (the Step fields of that name) of foot track ``k``'s contact at ``t_ic``,
    whose first frame on the belt is ``hist[first]``: strike, joint angles, overstride, and a
    confidence from visibility, continuity, identity, rhythm (``period``: the step period, s) and
    whether the leg's geometry is one a runner can have at contact."""
    roll = line.roll_rad
    pre = observed_between(hist, t_ic - max(STRIKE_WINDOW_S, STRIKE_MIN_FRAMES * dt), t_ic)
    if not pre:
        pre = [hist[first]]
    raw_angle = foot_angle_at(pre, t_ic, line.noise_leg_lengths, leg_px, sign)
    w = max(JOINT_WINDOW_S, 2.5 * dt)
    around = observed_between(hist, t_ic - w, t_ic + w)

    def shank(x: FootSample) -> float:
        f, u = belt_components(x.points[ANKLE] - x.points[KNEE], sign, roll)
        return math.degrees(math.atan2(f, -u))

    def heel_to_hip(x: FootSample) -> float:
        f, _ = belt_components(x.points[HEEL] - x.points[HIP], sign, roll)
        return f / leg_px

    shank_deg = value_at(around, t_ic, dt, shank)
    knee_deg = value_at(around, t_ic, dt, lambda x: knee_flexion_deg(x.points[HIP], x.points[KNEE], x.points[ANKLE]))
    heel_hip = value_at(around, t_ic, dt, heel_to_hip)
    flat, calibrated = flat_angle(flat_ref, line, leg_px, sign, k)
    fsa = raw_angle - flat
    strike = classify_strike(fsa, settings)
    vis = float(np.mean([x.vis[[KNEE, ANKLE, HEEL, TOE]].mean() for x in around])) if around else 0.0
    min_vis = float(np.min([x.vis[[KNEE, ANKLE, HEEL, TOE]].min() for x in around])) if around else 0.0
    span = [x for x in hist if t_ic - w <= x.t <= min(t_ic + w, hist[-1].t)]
    expected = (min(t_ic + w, hist[-1].t) - (t_ic - w)) / dt + 1
    seen = min(1.0, sum(x.observed for x in span) / max(expected, 1.0))  # frames without a pose count as unseen
    ambiguous = any(x.ambiguous for x in span)
    rhythm = 1.0
    if np.isfinite(period) and np.isfinite(instant_spm):
        rhythm = 1.0 if abs(60.0 / instant_spm - period) <= 0.3 * period else 0.5
    measured = {"shank_angle_deg": shank_deg, "foot_strike_angle_deg": fsa, "knee_flexion_deg": knee_deg,
                "heel_to_hip_leg_lengths": heel_hip}
    plausible = all(lo <= measured[m] <= hi for m, (lo, hi) in PLAUSIBLE_AT_CONTACT.items()
                    if math.isfinite(measured[m]))
    confidence = min(1.0, vis / 0.9) * seen * (0.8 if ambiguous else 1.0) * rhythm * (1.0 if plausible else 0.0)
    valid = confidence >= settings.min_confidence and min_vis >= settings.min_visibility and strike != "unknown"
    frame_ic = next((x.frame for x in hist if x.t >= t_ic - 1e-9), hist[first].frame)
    spread = flat_ref["spread_deg"]
    return dict(measured, frame_ic=frame_ic, t_ic=t_ic, strike=strike, confidence=round(confidence, 3),
                valid=bool(valid), calibrated=calibrated,
                strike_spread_deg=float("nan") if spread is None else spread)


def pelvis_metrics(rows: deque[tuple[float, float, float, float]], prev_ic: float, t_ic: float) -> tuple[float, float]:
    """Vertical oscillation (pelvis range, leg lengths) and median trunk lean over the step from
    ``prev_ic`` (the previous contact of either foot) to ``t_ic``; ``rows`` are (t, pelvis height
    in leg lengths, trunk lean deg, frame)."""
    if not np.isfinite(prev_ic):
        return float("nan"), float("nan")
    step = [p for p in rows if prev_ic <= p[0] <= t_ic]
    if len(step) < 3:
        return float("nan"), float("nan")
    up = np.array([r[1] for r in step])
    lean = np.array([r[2] for r in step])
    # 95th-5th percentile rather than max-min, so single noisy frames do not inflate it.
    return float(np.percentile(up, 95) - np.percentile(up, 5)), float(np.median(lean))
