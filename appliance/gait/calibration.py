"""Calibration from a few seconds of quiet standing: flat-foot angle and leg length.

The Altman & Davis foot-strike angle is the foot's angle at initial contact minus the same angle in
quiet standing; subtracting the standing angle removes the shoe's and the pose model's offset (the
heel landmark sits on the heel counter, above the sole). Both angles are measured in the same
camera, so the camera's roll cancels too.

Without a calibration the tracker falls back (DOMAIN.md) to the median foot angle at mid-stance of
the steps seen so far, and marks every angle as uncalibrated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from appliance.config import GaitSettings
from appliance.gait.geometry import ANKLE, HEEL, TOE, foot_angle_image_deg, leg_length_px, leg_points
from appliance.gait.tuning import GAIT_TUNING, CalibrationTuning
from appliance.types import Pose


class CalibrationError(ValueError):
    """Standing poses that cannot give a calibration; the message says what to do instead."""


@dataclass(frozen=True)
class Calibration:
    """Flat-foot angle (heel-to-toe line to the image horizontal, toe up positive, runner's frame)
    and leg length (hip-knee plus knee-ankle) in pixels, with the facing direction they assume."""

    flat_foot_angle_deg: float
    leg_length_px: float
    direction: str
    poses_used: int


def _direction(poses: list[Pose], min_visibility: float) -> str:
    votes = 0.0
    for p in poses:
        for side in ("left", "right"):
            pts, vis = leg_points(p.landmarks, side)
            if vis[HEEL] >= min_visibility and vis[TOE] >= min_visibility:
                votes += np.sign(pts[TOE, 0] - pts[HEEL, 0])
    if votes == 0:
        raise CalibrationError("cannot tell which way the person faces: heels and toes are not visible")
    return "right" if votes > 0 else "left"


def calibrate(poses: Iterable[Pose | None], direction: str | None = None, settings: GaitSettings | None = None,
              tuning: CalibrationTuning = GAIT_TUNING.calibration) -> Calibration:
    """Calibration from poses of the runner standing still on the belt, side-on (1-3 s is enough).

    ``direction`` is the way the runner will face when running; by default the way they face while
    standing (toes ahead of heels). Legs less visible than ``settings.min_visibility`` are not
    used. Raises CalibrationError if the poses are too few, not visible enough, or not quiet
    standing.
    """
    min_visibility = (settings or GaitSettings()).min_visibility
    usable = [p for p in poses if p is not None and np.isfinite(p.landmarks[:, :2]).all()]
    if len(usable) < tuning.min_standing_poses:
        raise CalibrationError(
            f"calibration needs at least {tuning.min_standing_poses} poses of quiet standing, got {len(usable)}; "
            "stand side-on to the camera, whole body in view, for 2 seconds"
        )
    direction = direction or _direction(usable, min_visibility)
    if direction not in ("left", "right"):
        raise CalibrationError(f"direction must be 'left' or 'right', not {direction!r}")
    sign = 1.0 if direction == "right" else -1.0
    angles, legs = [], []
    ankles: dict[str, list[np.ndarray]] = {"left": [], "right": []}
    for p in usable:
        for side in ("left", "right"):
            pts, vis = leg_points(p.landmarks, side)
            if vis.min() < min_visibility:
                continue
            angles.append(foot_angle_image_deg(pts[HEEL], pts[TOE], sign))
            legs.append(leg_length_px(pts))
            ankles[side].append(pts[ANKLE])
    if len(angles) < tuning.min_standing_poses:
        raise CalibrationError(
            f"only {len(angles)} leg observations with visibility >= {min_visibility}; "
            "make sure both feet are in view and lit"
        )
    leg = float(np.median(legs))
    spread = max(float(np.max(np.std(np.asarray(a), axis=0))) for a in ankles.values() if len(a) > 1) / leg
    if spread > tuning.max_ankle_spread:
        raise CalibrationError(
            f"the feet moved {spread:.2f} leg lengths (std) during calibration, more than "
            f"{tuning.max_ankle_spread}: calibrate while standing still"
        )
    return Calibration(float(np.median(angles)), leg, direction, len(usable))
