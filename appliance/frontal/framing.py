"""Framing advice for the rear (or front) camera, from its landmarks, in plain words.

What the frontal measures need of the picture (``measures.py``; hardware/mounting.md "Second
camera"), each checked on the landmarks given: on the set-up page, the last second's typical
landmarks (``typical_landmarks``):

* **the pelvis and both feet in view**: both hips, and each foot (ankle, heel or toe) seen and
  inside the image, the feet not cut off at its bottom edge;
* **the camera centred on the belt**: the pelvis midline (the mid-point of the hips) within
  ``MAX_OFF_CENTRE_HW`` hip widths of the image's centre, with the runner in the middle of the
  belt; a camera off the centre line sees the leg's forward swing as a false knee angle;
* **the camera at hip height**: the hip line in the middle third of the image (a level camera at
  hip height puts it at the centre);
* **the runner large enough**: the hips at least ``MIN_HIP_WIDTH_PX`` apart;
* **the view as set**: the runner's back towards the camera for ``view="rear"``, the face for
  ``view="front"`` (the measures are mirrored between the two).

Distances are said in centimetres at the runner, estimated from the hip width (the hip joint
centres of an adult are about ``HIP_WIDTH_M`` apart): a rough guide for sliding a tripod, not a
measurement.

>>> check = check_framing(landmarks, (1280, 720), view="rear")
>>> check.advice      # [] when the framing is good, else sentences that say what to do
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from appliance.frontal.measures import VIEWS, frontal_frame
from appliance.landmarks import LEG_LANDMARKS, VISIBILITY, L

MIN_VISIBILITY = 0.5  # a landmark the pose model reports less visible than this counts as hidden
EDGE_SHARE = 0.02  # a foot this close to the image's bottom edge (share of its height) is cut off
MAX_OFF_CENTRE_HW = 0.5  # pelvis midline from the image's centre, in hip widths (~9 cm at the runner)
# The hips at least this far apart: one pixel is then at most ~1 % of the leg's length (a leg is
# about 2.6 hip widths, 2.6 x 35 = 91 px), the pose model's own landmark noise, which the 1 deg of
# pelvic drop and 2 deg of hip adduction are met with on the simulator; a smaller runner adds the
# pixels' steps to that noise.
MIN_HIP_WIDTH_PX = 35.0
HIP_WIDTH_M = 0.18  # hip joint centre to hip joint centre, adult (for the centimetre estimates)

NOBODY = ("Nobody is seen: stand in the middle of the belt, back to the camera (face to it for a camera in front), "
          "the whole body from the waist down in view.")


@dataclass(frozen=True, slots=True)
class FramingCheck:
    """One frame's framing: ``advice`` lists what to fix (empty: good), ``notes`` what was found."""

    advice: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seen_from: str | None = None  # "rear" or "front" as detected in the frame; None: nobody seen
    hip_width_px: float | None = None
    off_centre_hw: float | None = None  # pelvis midline right of the image centre, in hip widths
    hip_height_share: float | None = None  # the hip line's height in the image, 0 top .. 1 bottom


def seen_from(landmarks: np.ndarray) -> str:
    """"front" when the runner faces the camera, else "rear": the face is seen (the nose's
    visibility) and the nose is not further from the camera than the ears (the pose model's depth;
    from behind it is further)."""
    lm = np.asarray(landmarks, np.float64)
    face_seen = lm.shape[1] <= VISIBILITY or lm[L.NOSE, VISIBILITY] >= MIN_VISIBILITY
    ears_z = 0.5 * (lm[L.LEFT_EAR, 2] + lm[L.RIGHT_EAR, 2])
    nose_nearer = not (np.isfinite(lm[L.NOSE, 2]) and np.isfinite(ears_z)) or lm[L.NOSE, 2] <= ears_z
    return "front" if face_seen and nose_nearer else "rear"


def _about_cm(metres: float) -> str:
    return f"about {max(5, 5 * round(100 * metres / 5))} cm"


def typical_landmarks(frames: list[np.ndarray]) -> np.ndarray | None:
    """Each landmark's median over recent frames (None: nobody seen in any): the framing is judged on
    it, so a stride's sway, the pelvis turning and the model's noise do not flip the advice from one
    frame to the next (one frame's hip width runs from about 32 to 43 px on the default simulator)."""
    if not frames:
        return None
    stack = np.stack([np.asarray(lm, np.float64) for lm in frames])
    with np.errstate(all="ignore"):
        finite = np.isfinite(stack[:, :, :2]).all(axis=2).any(axis=0)
        typical = np.full(stack.shape[1:], np.nan)
        typical[finite] = np.nanmedian(stack[:, finite], axis=0)
    return typical


def check_framing(landmarks: np.ndarray | None, image_size: tuple[int, int], view: str = "rear") -> FramingCheck:
    """The framing of one rear-camera frame: ``landmarks`` [33, >=4] (x, y in pixels, z,
    visibility; None: nobody seen) in an image of ``image_size`` (width, height), the camera set to
    ``view`` (rear or front). See the module docstring for what is checked."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, not {view!r}")
    if landmarks is None or not np.isfinite(np.asarray(landmarks, np.float64)[:, :2]).any():
        return FramingCheck(advice=[NOBODY])
    w, h = image_size
    lm = np.asarray(landmarks, np.float64)
    vis = lm[:, VISIBILITY] if lm.shape[1] > VISIBILITY else np.ones(len(lm))

    def inside(i: int) -> bool:
        x, y = lm[i, :2]
        return bool(np.isfinite(x) and np.isfinite(y) and 0 <= x < w and 0 <= y < h)

    def seen(i: int) -> bool:
        return inside(i) and vis[i] >= MIN_VISIBILITY

    advice: list[str] = []
    notes: list[str] = []
    hips = (L.LEFT_HIP, L.RIGHT_HIP)
    pelvis_seen = all(seen(i) for i in hips)
    if not pelvis_seen:
        advice.append("The pelvis is not fully in view: aim the camera at the runner's hips, at hip height.")

    cut, hidden = [], []
    bottom = h * (1 - EDGE_SHARE)
    for side in ("left", "right"):
        feet = LEG_LANDMARKS[side][2:]  # ankle, heel, toe
        ys = lm[list(feet), 1]
        if np.isfinite(ys).any() and np.nanmax(ys) >= bottom:
            cut.append(side)
        elif not any(seen(i) for i in feet):
            hidden.append(side)
    if cut:
        which = "Both feet are" if len(cut) == 2 else "A foot is"
        advice.append(f"{which} cut off at the bottom of the image: tilt the camera down a little or move it "
                      "further back, so the belt under the feet is in view.")
    if hidden:
        which = "Both feet are" if len(hidden) == 2 else "A foot is"
        advice.append(f"{which} hidden or outside the image: move the camera back so both feet and the belt's "
                      "width are in view, and nothing stands between the camera and the legs.")

    detected = seen_from(lm)
    if detected != view:
        if view == "rear":
            advice.append("The runner faces the camera, but the rear camera is set to a view from behind: "
                          "set rear_camera.view to front in Settings, or put the camera behind the treadmill.")
        else:
            advice.append("The camera sees the runner's back, but the rear camera is set to a view from the front: "
                          "set rear_camera.view to rear in Settings, or put the camera in front of the runner.")
    notes.append(("Seen from behind" if detected == "rear" else "Seen from the front")
                 + (", as set." if detected == view else f" (set: {view})."))

    if not pelvis_seen:
        return FramingCheck(advice, notes, detected)
    left_hip, right_hip = lm[L.LEFT_HIP, :2], lm[L.RIGHT_HIP, :2]
    width = float(np.hypot(*(right_hip - left_hip)))
    mid_x = 0.5 * float(left_hip[0] + right_hip[0])
    hip_y = 0.5 * float(left_hip[1] + right_hip[1])
    if width < MIN_HIP_WIDTH_PX:
        advice.append(f"The runner is small in the image (hips {width:.0f} px apart, at least {MIN_HIP_WIDTH_PX:.0f} "
                      "needed): move the camera closer or raise the rear camera's resolution in Settings.")
    scale_m = HIP_WIDTH_M / max(width, 1e-6)  # metres at the runner per pixel
    off_hw = (mid_x - 0.5 * w) / max(width, 1e-6)
    if abs(off_hw) > MAX_OFF_CENTRE_HW:
        direction = "left" if off_hw < 0 else "right"
        advice.append(f"The camera is off the belt's centre line: the runner's pelvis is {direction} of the image's "
                      f"centre. With the runner in the middle of the belt, slide the camera "
                      f"{_about_cm(abs(mid_x - 0.5 * w) * scale_m)} to the {direction} (your {direction}, standing "
                      "behind the camera), keeping it pointed straight along the belt.")
    height_share = hip_y / h
    if height_share < 1 / 3:
        advice.append(f"The camera is below hip height (the hip line is in the top third of the image): raise it "
                      f"{_about_cm((0.5 * h - hip_y) * scale_m)} and keep it level.")
    elif height_share > 2 / 3:
        advice.append(f"The camera is above hip height (the hip line is in the bottom third of the image): lower it "
                      f"{_about_cm((hip_y - 0.5 * h) * scale_m)} and keep it level.")
    notes.append(f"Hips {width:.0f} px apart; pelvis {abs(off_hw):.1f} hip widths "
                 f"{'left' if off_hw < 0 else 'right'} of centre; hip line at {100 * height_share:.0f} % of the height.")
    angles = frontal_frame(lm, 0.0, view)
    if angles is not None:  # what the mounting guide's standing check reads (level: under 1 deg)
        lower = "right" if angles.tilt_deg > 0 else "left"
        tilt = (f"Hip line tilted {abs(angles.tilt_deg):.1f}° ({lower} hip lower)" if abs(angles.tilt_deg) >= 0.05
                else "Hip line level")
        notes.append(f"{tilt}; feet "
                     f"{angles.legs['left'].foot_lateral_hw:.1f} (left) and {angles.legs['right'].foot_lateral_hw:.1f} "
                     "(right) hip widths from the midline.")
    return FramingCheck(advice, notes, detected, width, off_hw, height_share)
