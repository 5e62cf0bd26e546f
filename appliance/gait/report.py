"""The gait part of ``appliance analyze``'s report.json, computed by the live tracker itself.

The arrays of a recorded clip are replayed frame by frame through the same causal GaitTracker that
``appliance run`` uses, so a clip analysed offline gives exactly the steps the appliance would have
found live.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict

import numpy as np

from appliance.config import GaitSettings
from appliance.feet.looks import ContactLooks
from appliance.feet.stage import FootEvidence
from appliance.gait.calibration import Calibration
from appliance.gait.geometry import HIPS, SHOULDERS
from appliance.gait.rhythm import step_period
from appliance.gait.tracker import GaitTracker
from appliance.gait.tuning import GAIT_TUNING, GaitTuning
from appliance.pose.geometry import Roi
from appliance.types import UNSTEADY_FOOT_SPREAD_DEG, Frame, Pose, Step

STEP_METRICS = (
    "foot_strike_angle_deg", "shank_angle_deg", "knee_flexion_deg", "heel_to_hip_leg_lengths",
    "contact_time_s", "flight_time_s", "duty_factor", "vertical_oscillation_leg_lengths", "trunk_lean_deg",
    "instant_cadence_spm",
)


def _clean(v):
    if isinstance(v, float | np.floating):
        v = float(v)
        return None if not math.isfinite(v) else round(v, 4)
    if isinstance(v, np.integer):
        return int(v)
    return v


def step_dict(step: Step) -> dict:
    """A step as JSON-ready values (NaN becomes None)."""
    return {k: _clean(v) for k, v in asdict(step).items()}


def _summary(steps: list[Step]) -> dict:
    """Per foot: step counts, strike classes, and the median and spread of every metric over the
    valid steps."""
    out = {}
    for foot in sorted({s.foot for s in steps}):
        mine = [s for s in steps if s.foot == foot]
        valid = [s for s in mine if s.valid]
        entry: dict = {
            "steps": len(mine),
            "valid_steps": len(valid),
            "strike_counts": {c: sum(s.strike == c for s in valid) for c in ("rearfoot", "midfoot", "forefoot")},
        }
        if valid:
            entry["strike"] = max(entry["strike_counts"], key=entry["strike_counts"].get)
        for m in STEP_METRICS:
            vals = np.array([getattr(s, m) for s in valid], dtype=np.float64)
            vals = vals[np.isfinite(vals)]
            if vals.size:
                q25, q50, q75 = np.percentile(vals, [25, 50, 75])
                entry[m] = {"median": _clean(q50), "iqr": [_clean(q25), _clean(q75)], "n": int(vals.size)}
        out[foot] = entry
    return out


def gait_report(
    t: np.ndarray,
    landmarks: np.ndarray,
    image_size: tuple[int, int],
    time_scale: float = 1.0,
    settings: GaitSettings | None = None,
    calibration: Calibration | None = None,
    replay_warm_up: bool = True,
    feet: list[FootEvidence | None] | None = None,
    frames: Iterable[tuple[Frame, Roi | None]] | None = None,
    looks: ContactLooks | None = None,
    tuning: GaitTuning = GAIT_TUNING,
) -> dict:
    """Direction, cadence, every step and a per-foot summary of a recorded clip.

    ``t`` [N] clip seconds; ``landmarks`` [N, 33, 4] (x px, y px, z, visibility) or [N, 33, 5], NaN
    rows where there was no pose; ``time_scale`` real seconds per clip second (0.125 for 240 fps
    played at 30 fps). Step times (``t_ic``, ``t_to``, contact times) are real seconds; ``frame_ic``
    and ``frame_to`` are clip frame indices. ``replay_warm_up`` False measures exactly what the
    live tracker would (without the contacts made before the belt line settled). ``feet`` [N] is
    the foot stage's evidence per frame (None: the contacts are timed by the landmarks alone).
    ``looks`` reads each contact's angles with the heavy model from ``frames``, the clip's frames
    (clip time) with the region the pose engine read each on, in step with ``t``. ``tuning`` is
    the gait stage's tuning (appliance/gait/tuning.py).
    """
    t = np.asarray(t, dtype=np.float64)
    lm = np.asarray(landmarks)
    if lm.ndim != 3 or lm.shape[1] != 33 or lm.shape[2] not in (4, 5):
        raise ValueError(f"landmarks must be [N, 33, 4] or [N, 33, 5], got shape {lm.shape}")
    if t.shape != (lm.shape[0],):
        raise ValueError(f"t must be [N] with N = {lm.shape[0]} frames, got shape {t.shape}")
    if feet is not None and len(feet) != len(t):
        raise ValueError(f"feet must have one entry per frame ({len(t)}), got {len(feet)}")
    if not time_scale > 0:
        raise ValueError(f"time_scale must be positive (real seconds per clip second), got {time_scale}")
    if lm.shape[2] == 4:
        lm = np.concatenate([lm, np.ones(lm.shape[:2] + (1,), lm.dtype)], axis=2)
    tracker = GaitTracker(settings, calibration, replay_warm_up=replay_warm_up, tuning=tuning)
    st = tracker.settings
    latest: dict[int, Step] = {}
    size = (int(image_size[0]), int(image_size[1]))
    clip_frames = iter(frames) if looks is not None and frames is not None else None
    for i in range(len(t)):
        row = lm[i]
        pose = None
        if np.isfinite(row[:, :2]).any():
            pose = Pose(float(t[i] * time_scale), i, row.astype(np.float32), 1.0, size)
        if clip_frames is not None:
            frame, roi = next(clip_frames)
            looks.add_frame(Frame(float(t[i] * time_scale), frame.index, frame.image), roi)
            for look in looks.results():
                tracker.apply_look(look)
        for step in tracker.update(pose, float(t[i] * time_scale), i, feet[i] if feet is not None else None):
            latest[step.index] = step
            if clip_frames is not None and not step.final:
                looks.request(tracker.look_request(step))
    for step in tracker.end_warm_up():  # a clip too short for the belt line to settle
        latest[step.index] = step
    steps = [latest[k] for k in sorted(latest)]
    valid_ics = [s for s in steps if s.valid]
    period_s = _trunk_step_period(t * time_scale, lm, st, tuning.rhythm.min_strength)
    reference = tracker.flat_reference
    spread = reference["spread_deg"]
    cadence, source = (60.0 / period_s, "trunk rhythm") if math.isfinite(period_s) else (_overall_cadence(steps), "steps")
    return {
        "direction": tracker.state.direction,
        "cadence_spm": _clean(cadence),
        "cadence_source": source,
        "step_period_s": _clean(period_s),
        "calibrated": calibration is not None,
        "flat_foot_reference": {k: _clean(v) for k, v in reference.items()},
        # The foot angle in mid-stance varies this much between steps only when the pose model
        # places the feet unsteadily; then every strike angle is that uncertain (as live cues are).
        "strike_unsteady": spread is not None and spread >= UNSTEADY_FOOT_SPREAD_DEG,
        "gait_time_scale": time_scale,
        "strike_thresholds_deg": {"forefoot_below": st.forefoot_below_deg, "rearfoot_above": st.rearfoot_above_deg},
        "foot_stage": feet is not None,
        "contacts_timed_by": {by: sum(s.timed_by == by for s in steps) for by in ("pixels", "landmarks")},
        "strikes_read_by": {by: sum(s.strike_read_by == by for s in steps) for by in ("heavy", "landmarks")},
        "heavy_looks_late": tracker.late_looks,
        "steps": [step_dict(s) for s in steps],
        "summary": _summary(steps),
        "valid_steps": len(valid_ics),
    }


def _trunk_step_period(t: np.ndarray, lm: np.ndarray, settings: GaitSettings, min_strength: float) -> float:
    """Step period (real s) of the whole clip from the rhythm of the trunk's height (NaN when the
    trunk does not move rhythmically or the clip is too short); frames without a pose are
    interpolated over, and uneven frame times resampled to the median interval."""
    trunk = lm[:, np.concatenate([HIPS, SHOULDERS]), 1].astype(np.float64).mean(axis=1)
    ok = np.isfinite(trunk)
    if ok.sum() < 3:
        return float("nan")
    dt = float(np.median(np.diff(t)))
    grid = np.arange(t[ok][0], t[ok][-1] + 1e-9, dt)
    period, _ = step_period(np.interp(grid, t[ok], trunk[ok]), dt, 60.0 / settings.max_cadence_spm,
                            60.0 / settings.min_cadence_spm, min_strength)
    return period


def _overall_cadence(steps: list[Step]) -> float:
    """Median of the rolling cadence over the valid steps (NaN when there are none)."""
    vals = np.array([s.cadence_spm for s in steps if s.valid], dtype=np.float64)
    vals = vals[np.isfinite(vals)]
    return float(np.median(vals)) if vals.size else float("nan")
