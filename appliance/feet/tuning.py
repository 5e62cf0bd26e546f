"""The foot stage's tuning, in one typed set: a frozen section per part, in the style of the gait
stage's (appliance/gait/tuning.py, whose README table lists both).

Every field carries its value, unit, reason and source (``param``). ``FootStage(tuning=...)`` hands
each section to its part; the contact look's functions and ``ContactLooks`` take theirs as a
keyword. Durations are seconds; what stays a count is a number of samples, points or frames a fit,
a buffer or a look needs (memory and model invokes are counted in frames).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Where a comment gave no measurement, the source names the bench that exercises the value.
PIXEL_BED = "design; exercised by bench/feet_pixel_bed.py"
REAL_CLIPS = "design; exercised by bench/feet_real_clips.py"
COST = "cost: bench/feet_cost.py"


def param(value: Any, unit: str, why: str, source: str) -> Any:
    """A tuning field: its default ``value`` with its ``unit``, the reason for the value and its
    ``source`` (a paper, a physiological figure, or the bench/ script that measured it)."""
    return field(default=value, metadata={"unit": unit, "why": why, "source": source})


@dataclass(frozen=True)
class BeltMotionTuning:
    """The belt's image velocity from the feet it carries (belt_motion.py)."""

    window_s: float = param(4.0, "s", "Foot velocities the belt's is found among: a treadmill's speed changes "
                                      "over seconds.", PIXEL_BED)
    min_samples: int = param(16, "samples", "Foot velocities before the belt's is given (half of them in its "
                                            "cluster).", PIXEL_BED)
    min_shoe_per_s: float = param(1.0, "shoe lengths/s", "Slowest walking belt, ~0.3 m/s: about a shoe's length "
                                                         "a second; slower feet are not carried.",
                                  "treadmill minimum speed")
    cluster_radius: float = param(0.15, "of belt speed", "Two stance feet's velocities agree this well.",
                                  PIXEL_BED)
    refresh_s: float = param(0.2, "s", "The belt's velocity is re-estimated this often.", COST)


@dataclass(frozen=True)
class ShoeTrackTuning:
    """Each shoe followed by its own pixels, checked against the landmarks (shoe_track.py)."""

    gate: float = param(1.2, "shoe lengths", "Landmarks farther from where the shoe's pixels took it are a "
                                             "landmark glitch, not the shoe.", REAL_CLIPS)
    reacquire_s: float = param(0.25, "s", "Landmarks that disagree this long on end restart the track from "
                                          "them.", REAL_CLIPS)
    lost_s: float = param(0.15, "s", "A track whose shoe cannot be measured this long is lost.", REAL_CLIPS)
    still_s: float = param(0.1, "s", "A track whose pixels stand still this long has slipped onto the static "
                                     "scene: over twice a swing's turn through standing still (its velocity "
                                     "changes by twice the belt's in ~0.1 s).", REAL_CLIPS)
    keep_frames: int = param(32, "frames", "Placements kept, looked up by frame index: more than the flow's "
                                           "baseline at any rate.", "design (memory)")


@dataclass(frozen=True)
class StageTuning:
    """The stage around the parts (stage.py)."""

    baseline_s: float = param(1 / 60, "s", "Flow is measured over at least this long: at 120-240 fps a foot on "
                                           "a slow belt moves a pixel or less between frames, and the flow's noise "
                                           "(~0.1-0.2 px) would be a large part of it.", PIXEL_BED)
    predict_s: float = param(0.1, "s", "A foot's last velocity still predicts its next this long (a swing's "
                                       "quarter is ~0.1 s).", PIXEL_BED)
    shoe_per_leg: float = param(0.28, "leg lengths", "A shoe is about this long (hip-knee-ankle).",
                                "anthropometry: foot ~0.28 leg lengths")
    min_visibility: float = param(0.3, "visibility", "Ankle, heel and toe at least this visible place a shoe "
                                                     "(the pixels check the placement).", REAL_CLIPS)
    recent_frames: int = param(16, "frames", "Frames kept for the flow's baseline: more than the baseline at "
                                             "any rate.", "design (memory)")
    leg_length_samples: int = param(61, "samples", "The shoe's length follows the median of this many latest "
                                                   "leg lengths.", "robust median")


@dataclass(frozen=True)
class EventTuning:
    """Touch, lock and release from a foot's slip against the belt (events.py)."""

    lock_slip: float = param(0.3, "of belt speed", "A foot carried by the belt moves at its velocity to "
                                                   "within the flow's noise.", PIXEL_BED)
    release_slip: float = param(0.5, "of belt speed", "The toe leaving: well above the locked foot's noise, "
                                                      "below a swing's ~1-2.", PIXEL_BED)
    lock_run: int = param(2, "samples", "A lock or release needs this many samples past its threshold (one "
                                        "sample is no run) ...", PIXEL_BED)
    lock_run_s: float = param(0.02, "s", "... spanning this long: the shortest locked stance (a sprinter's "
                                         "forefoot, ~0.08 s) holds for longer.", "physiology: sprint contact")
    approach_s: float = param(0.3, "s", "The swing peak before a landing lies within this (a fast step's swing "
                                        "is ~0.25 s).", "physiology: swing duration")
    min_approach_slip: float = param(0.8, "of belt speed", "A landing foot arrives at least this fast relative "
                                                           "to the belt.", PIXEL_BED)
    landing_s: float = param(0.12, "s", "Touch to the lock's first sample at most: a forefoot landing rolls down "
                                        "in ~0.05-0.1 s, and an arrest of up to max_arrest_s reaches lock_slip "
                                        "after (1 - lock_slip / its approach slip) of it.", PIXEL_BED)
    fit_before_s: float = param(0.1, "s", "Approach fitted before the touch: its velocity is about a straight "
                                          "line.", PIXEL_BED)
    max_arrest_s: float = param(0.15, "s", "Friction drags a landed sole to the belt's velocity within this "
                                           "(measured 0.05-0.13 s).", REAL_CLIPS)
    arrest_step_s: float = param(0.005, "s", "Arrest durations tried: under half a frame interval up to "
                                             "100 fps.", PIXEL_BED)
    min_descent: float = param(0.1, "of belt speed", "A landing sole comes down at 0.5-1 m/s, over a seventh of "
                                                     "a 2.5-3.5 m/s belt's speed; below this the descent is not "
                                                     "seen (a locked foot's vertical noise is ~0.05).", PIXEL_BED)
    descent_s: tuple = param((0.15, 0.05), "s before the lock", "The approach's last stretch, before the touch, "
                                                                "where the descent is read.", PIXEL_BED)
    leaving_s: float = param(0.12, "s", "How far back from its confirmation a release is looked for.", PIXEL_BED)
    substeps: int = param(8, "points", "Points per sample's interval for the fit's averages.", "numerics")
    history_s: float = param(256 / 240, "s", "Slips kept: more than the longest look-back (approach + fit, "
                                             "~0.5 s). 256 samples at 240 fps.", "design (240 fps)")


@dataclass(frozen=True)
class MotionTuning:
    """One shoe's motion between two frames by its pixels (motion.py)."""

    shoe_px: float = param(64.0, "crop px", "The shoe's length in the crop: a few dozen corners to follow, cheap "
                                            "at any resolution.", COST)
    box_margin: float = param(0.35, "shoe lengths", "Around the shoe's landmarks: their error, and room for "
                                                    "LK's window.", REAL_CLIPS)
    capture: float = param(0.35, "shoe lengths", "How far from a predicted motion the search still finds the "
                                                 "shoe.", PIXEL_BED)
    max_points: int = param(30, "points", "Corners per shoe: enough for a robust rigid fit, few enough for the "
                                          "cost.", COST)
    min_points: int = param(5, "points", "Followed points needed to fit a rigid motion (3 unknowns) with a "
                                         "check.", "numerics")
    enough: float = param(0.5, "of points", "Share of the points followed that ends the search: most of the shoe "
                                            "was found.", COST)
    quality: float = param(0.001, "of strongest corner", "The shoe's weaker corners too (LK's window and the "
                                                         "check sort them).", REAL_CLIPS)
    window: int = param(11, "crop px", "LK window: a sixth of the shoe, on one rigid part of it.", PIXEL_BED)
    levels: int = param(3, "levels", "Pyramid levels: capture ~ window/2 x 2^levels ~ 0.7 shoe lengths from the "
                                     "guess.", PIXEL_BED)
    fb_max: float = param(1.0, "crop px", "A followed point comes back this close (1.5 % of a shoe), well above "
                                          "LK's ~0.1 px noise.", PIXEL_BED)
    inlier_min: float = param(0.3, "crop px", "The smallest residual cut of the rigid fit (LK's noise).",
                              PIXEL_BED)
    patch_ncc: float = param(0.5, "correlation", "A shoe's patch matches its blurred, turning self in the next "
                                                 "frame at least this well (the scene behind: ~0.3).", REAL_CLIPS)
    fb_patch: float = param(1.5, "crop px", "A patch matched back comes home this close (its match is to "
                                            "~0.3 px, blur changes).", REAL_CLIPS)
    still_shoe_per_s: float = param(1.0, "shoe lengths/s", "Slower is standing still (below the slowest walking "
                                                           "belt's ~0.3 m/s), which a shoe on a running belt does "
                                                           "only for ~10-20 ms at a swing's turn: such a reading "
                                                           "is the static scene.", REAL_CLIPS)
    low_quantile: float = param(0.9, "quantile", "The lowest tenth of the shoe's points (along the image's "
                                                 "vertical) is its sole.", PIXEL_BED)


@dataclass(frozen=True)
class ContactLookTuning:
    """Heavy's look at each contact (contact_look.py, looks.py)."""

    buffer_s: float = param(0.5, "s", "A landing's frames from just before touch to mid-stance (~0.15 s after), "
                                      "with room.", "bench/heavy_contact_angles.py")
    buffer_max_frames: int = param(240, "frames", "A hard bound whatever the rate (0.5 s at 480 fps).",
                                   "design (memory)")
    contact_frames_before: int = param(
        2, "frames", "The contact's angles are read from the frame nearest the instant and this many before it, "
                     "and extrapolated to it: after it the foot turns fast to flat (frames either side read a "
                     "16° heel strike ~6° flat at 30 fps; frames before, within 0.1°).",
        "bench/heavy_contact_angles.py")
    contact_window_s: float = param(0.03, "s", "... spread over about this long (adjacent frames at <= 66 fps).",
                                    "bench/heavy_contact_angles.py")
    mid_stance_frames: int = param(3, "frames", "Mid-stance frames for the flat reference: six invokes a contact "
                                                "in all (heavy costs ~3x full per frame).", COST)
    shoe_length_tolerance: float = param(0.3, "fraction", "A heel-toe length this far from the median is a "
                                                          "misread.", "bench/heavy_contact_angles.py")
    sole_px_per_shoe: float = param(64.0, "box px", "The shoe's length in the sole box (resampled), whatever the "
                                                    "camera.", "bench/heavy_contact_angles.py")
    sole_along: tuple = param((-0.25, 1.25), "shoe lengths", "Sole box extent along heel->toe, from the heel.",
                              "bench/heavy_contact_angles.py")
    sole_across: tuple = param((-0.1, 0.3), "shoe lengths", "... and across it, downwards (0.45 reached the belt "
                                                            "edge on the phone clip).", "bench/heavy_contact_angles.py")
    sole_columns: tuple = param((0.0, 1.0), "shoe lengths", "Columns searched for the edge, from the heel.",
                                "bench/heavy_contact_angles.py")
    sole_max_tilt_deg: float = param(35.0, "deg", "An edge point's gradient within this of the box's vertical.",
                                     "bench/heavy_contact_angles.py")
    sole_inlier_px: float = param(1.5, "box px", "RANSAC inlier distance.", "bench/heavy_contact_angles.py")
    sole_min_inliers: float = param(0.4, "of columns", "Share of the searched columns the line must explain.",
                                    "bench/heavy_contact_angles.py")
    look_buffer_s: float = param(0.6, "s", "Frames from just before a contact to the end of its mid-stance window "
                                           "(at most ~0.45 of a 0.35 s contact after it), with room for the "
                                           "worker's lag.", COST)
    look_buffer_bytes: int = param(96 * 2**20, "bytes", "At most this much frame memory (the appliance stays under "
                                                        "300 MB): 0.6 s is 33 MB at 640x480 and 60 fps, 220 MB at "
                                                        "1920x1080.", "design (memory)")


@dataclass(frozen=True)
class FeetTuning:
    """All of the foot stage's tuning, a section per part."""

    belt_motion: BeltMotionTuning = field(default_factory=BeltMotionTuning)
    shoe_track: ShoeTrackTuning = field(default_factory=ShoeTrackTuning)
    stage: StageTuning = field(default_factory=StageTuning)
    events: EventTuning = field(default_factory=EventTuning)
    motion: MotionTuning = field(default_factory=MotionTuning)
    contact_look: ContactLookTuning = field(default_factory=ContactLookTuning)


FEET_TUNING = FeetTuning()
