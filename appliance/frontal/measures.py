"""The frontal-plane angles of one frame, from a rear (or front) camera's landmarks.

Definitions (2-D, in the image, as the clinical video methods measure them; README "Frontal
plane" gives the sources). Every angle is computed in the runner's own frame: the image's x is
turned so that +x points to the runner's right (a rear view as seen, a front view mirrored), and
the sides are taken from where the hips are in the image, not from the pose model's left/right
labels (from behind, the runner's left hip is the one further left).

* **Pelvic tilt** ``tilt``: the hip line (left hip to right hip) against the image's horizontal,
  positive when the right hip is lower. The **contralateral pelvic drop** of a stance on the left
  foot is ``+tilt`` (the unsupported right side lower), on the right foot ``-tilt``.
* **Hip adduction** of a leg: its thigh (hip to knee) against the perpendicular to the hip line,
  positive when the knee lies towards the midline (adduction), negative away (abduction).
* **Knee frontal-plane projection angle** (FPPA) of a leg: the thigh's direction against the
  shank's (knee to ankle), positive when the knee lies medial of the hip-ankle line (dynamic knee
  valgus, "medial collapse"), negative for varus.
* **Foot's lateral position** of a leg: the foot (mean of ankle, heel and toe) against the pelvis
  midline (the mid-point of the hips), across the image (the belt's width: a level camera), in hip
  widths (hip to hip): positive on its own side, 0 on the midline, negative crossed over it
  (crossover running). About 0.5 puts the foot under its own hip. Not along the hip line: a
  dropped pelvis would tilt the foot's position by the leg's length times the drop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from appliance.landmarks import LEG_LANDMARKS, VISIBILITY

SIDES = ("left", "right")
SIDE_SIGN = {"left": -1.0, "right": 1.0}  # each side's direction along the runner's frame's x
MIN_VISIBILITY = 0.3
VIEWS = ("rear", "front")


@dataclass(frozen=True, slots=True)
class LegAngles:
    """One leg's frontal angles in one frame (degrees, and hip widths for the foot)."""

    hip_adduction_deg: float
    knee_fppa_deg: float
    foot_lateral_hw: float
    foot_y: float  # image y of the foot's lowest point (px; larger is lower in the image)


@dataclass(frozen=True, slots=True)
class FrontalFrame:
    """The frontal angles of one frame: the pelvis's tilt and each leg's, by the runner's side."""

    t: float
    tilt_deg: float
    hip_width_px: float
    legs: dict[str, LegAngles]
    labels: dict[str, str]  # the runner's side -> the pose model's label of that leg in this frame

    def pelvic_drop_deg(self, stance: str) -> float:
        """The contralateral pelvic drop while ``stance`` carries the body (module docstring)."""
        return self.tilt_deg if stance == "left" else -self.tilt_deg


def _angle_from(axis_down: np.ndarray, medial: np.ndarray, v: np.ndarray) -> float:
    """The angle (deg) of ``v`` from ``axis_down``, positive towards ``medial``."""
    return math.degrees(math.atan2(float(v @ medial), float(v @ axis_down)))


def frontal_frame(landmarks: np.ndarray, t: float, view: str = "rear") -> FrontalFrame | None:
    """The frontal angles of a frame's landmarks ([33, >=4]: x, y in pixels, z, visibility) seen
    from ``view`` ("rear": behind the runner; "front": facing the runner); None when a hip, knee,
    ankle, heel or toe is missing or barely visible."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, not {view!r}")
    lm = np.asarray(landmarks, np.float64)
    mirror = np.array([1.0 if view == "rear" else -1.0, 1.0])
    legs_px = {}
    for label in SIDES:
        idx = list(LEG_LANDMARKS[label])
        if not np.isfinite(lm[idx, :2]).all() or (lm.shape[1] > VISIBILITY and lm[idx, VISIBILITY].min() < MIN_VISIBILITY):
            return None
        legs_px[label] = lm[idx, :2] * mirror  # hip, knee, ankle, heel, toe in the runner's frame
    # The runner's left leg is the one whose hip lies further to the runner's left (smaller x).
    a, b = legs_px["left"], legs_px["right"]
    as_labelled = a[0, 0] <= b[0, 0]
    left, right = (a, b) if as_labelled else (b, a)
    labels = {"left": "left", "right": "right"} if as_labelled else {"left": "right", "right": "left"}
    hip_line = right[0] - left[0]
    width = float(np.hypot(*hip_line))
    if width < 1e-6:
        return None
    across = hip_line / width  # towards the runner's right, along the hip line
    down = np.array([-across[1], across[0]])  # the perpendicular to the hip line, pointing down
    tilt = math.degrees(math.atan2(hip_line[1], hip_line[0]))
    mid = 0.5 * (left[0] + right[0])
    legs = {}
    for side, pts in (("left", left), ("right", right)):
        hip, knee, ankle, heel, toe = pts
        medial = across if side == "left" else -across
        thigh, shank = knee - hip, ankle - knee
        adduction = _angle_from(down, medial, thigh)
        fppa = adduction - _angle_from(down, medial, shank)
        foot = (ankle + heel + toe) / 3.0
        lateral = SIDE_SIGN[side] * float(foot[0] - mid[0]) / width
        legs[side] = LegAngles(adduction, fppa, lateral, float(max(heel[1], toe[1])))
    return FrontalFrame(t, tilt, width, legs, labels)
