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

from appliance.gait.geometry import ANKLE, HEEL, TOE, foot_angle_image_deg, leg_length_px, leg_points
from appliance.types import Pose

MIN_STANDING_POSES = 10
# Quiet standing: ankles move less than this (leg lengths, std) over the recording. Real landmark
# jitter on a still person is ~1 % of leg length; walking or shifting weight moves the ankles far more.
MAX_ANKLE_SPREAD = 0.05
MIN_VISIBILITY = 0.5


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


def _direction(poses: list[Pose]) -> str:
    votes = 0.0
    for p in poses:
        for side in ("left", "right"):
            pts, vis = leg_points(p.landmarks, side)
            if vis[HEEL] >= MIN_VISIBILITY and vis[TOE] >= MIN_VISIBILITY:
                votes += np.sign(pts[TOE, 0] - pts[HEEL, 0])
    if votes == 0:
        raise CalibrationError("cannot tell which way the person faces: heels and toes are not visible")
    return "right" if votes > 0 else "left"


def calibrate(poses: Iterable[Pose | None], direction: str | None = None) -> Calibration:
    """Calibration from poses of the runner standing still on the belt, side-on (1-3 s is enough).

    ``direction`` is the way the runner will face when running; by default the way they face while
    standing (toes ahead of heels). Raises CalibrationError if the poses are too few, not visible
    enough, or not quiet standing.
    """
    usable = [p for p in poses if p is not None and np.isfinite(p.landmarks[:, :2]).all()]
    if len(usable) < MIN_STANDING_POSES:
        raise CalibrationError(
            f"calibration needs at least {MIN_STANDING_POSES} poses of quiet standing, got {len(usable)}; "
            "stand side-on to the camera, whole body in view, for 2 seconds"
        )
    direction = direction or _direction(usable)
    if direction not in ("left", "right"):
        raise CalibrationError(f"direction must be 'left' or 'right', not {direction!r}")
    sign = 1.0 if direction == "right" else -1.0
    angles, legs = [], []
    ankles: dict[str, list[np.ndarray]] = {"left": [], "right": []}
    for p in usable:
        for side in ("left", "right"):
            pts, vis = leg_points(p.landmarks, side)
            if vis.min() < MIN_VISIBILITY:
                continue
            angles.append(foot_angle_image_deg(pts[HEEL], pts[TOE], sign))
            legs.append(leg_length_px(pts))
            ankles[side].append(pts[ANKLE])
    if len(angles) < MIN_STANDING_POSES:
        raise CalibrationError(
            f"only {len(angles)} leg observations with visibility >= {MIN_VISIBILITY}; "
            "make sure both feet are in view and lit"
        )
    leg = float(np.median(legs))
    spread = max(float(np.max(np.std(np.asarray(a), axis=0))) for a in ankles.values() if len(a) > 1) / leg
    if spread > MAX_ANKLE_SPREAD:
        raise CalibrationError(
            f"the feet moved {spread:.2f} leg lengths (std) during calibration, more than "
            f"{MAX_ANKLE_SPREAD}: calibrate while standing still"
        )
    return Calibration(float(np.median(angles)), leg, direction, len(usable))
