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
from appliance.gait.tuning import GAIT_TUNING, StepMeasureTuning


def flat_angle(ref: dict, line: BeltLine, leg_px: float, sign: float, k: int,
               tuning: StepMeasureTuning = GAIT_TUNING.step_measures) -> tuple[float, bool]:
    """Flat-foot angle (image, runner's frame) of foot track ``k`` and whether it comes from a
    standing calibration; ``ref`` is the tracker's ``flat_reference``."""
    if ref["source"] != "none":
        return ref["angle_deg"], ref["source"] == "calibration"
    # Before any mid-stance: the heel and toe stance lines' offset over a typical foot length and
    # the belt's roll.
    dy = line.intercepts[(k, "heel")] - line.intercepts[(k, "toe")]  # toe line below heel line: dy < 0
    return math.degrees(math.atan2(dy, tuning.typical_foot_leg_lengths * leg_px)) - sign * math.degrees(line.roll_rad), False


def contact_measures(hist: deque[FootSample], first: int, t_ic: float, dt: float, line: BeltLine, leg_px: float,
                     sign: float, k: int, settings: GaitSettings, flat_ref: dict, period: float,
                     instant_spm: float, tuning: StepMeasureTuning = GAIT_TUNING.step_measures) -> dict:
    """The measurements (the Step fields of that name) of foot track ``k``'s contact at ``t_ic``,
    whose first frame on the belt is ``hist[first]``: strike, joint angles, overstride, and a
    confidence from visibility, continuity, identity, rhythm (``period``: the step period, s) and
    whether the leg's geometry is one a runner can have at contact.

    The foot angle is read from the frames of the ``strike_window_s`` before contact (widened at
    low frame rates to hold the frames its line needs), joint angles from the frames within
    ``joint_window_s`` (at least 2.5 frames) around it."""
    roll = line.roll_rad
    # n frames up to t_ic span (n + 0.5) frame intervals, whatever the contact's sub-frame phase.
    strike_window = max(tuning.strike_window_s, (tuning.strike_fit_min_samples + 0.5) * dt)
    pre = observed_between(hist, t_ic - strike_window, t_ic)
    if not pre:
        pre = [hist[first]]
    raw_angle = foot_angle_at(pre, t_ic, line.noise_leg_lengths, leg_px, sign, tuning)
    w = max(tuning.joint_window_s, 2.5 * dt)
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
    flat, calibrated = flat_angle(flat_ref, line, leg_px, sign, k, tuning)
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
        rhythm = 1.0 if abs(60.0 / instant_spm - period) <= tuning.rhythm_tolerance * period else tuning.off_rhythm_factor
    measured = {"shank_angle_deg": shank_deg, "foot_strike_angle_deg": fsa, "knee_flexion_deg": knee_deg,
                "heel_to_hip_leg_lengths": heel_hip}
    # A leg outside what a runner can have at contact was mislocated: reported, never cued on.
    ranges = {"shank_angle_deg": tuning.plausible_shank_deg, "foot_strike_angle_deg": tuning.plausible_strike_deg,
              "knee_flexion_deg": tuning.plausible_knee_deg, "heel_to_hip_leg_lengths": tuning.plausible_heel_to_hip}
    plausible = all(lo <= measured[m] <= hi for m, (lo, hi) in ranges.items() if math.isfinite(measured[m]))
    confidence = (min(1.0, vis / tuning.full_visibility) * seen * (tuning.ambiguous_factor if ambiguous else 1.0)
                  * rhythm * (1.0 if plausible else 0.0))
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
