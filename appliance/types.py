"""Small immutable values that travel between the appliance's stages.

Every time is a capture time in seconds on the monotonic clock of the source (sensor timestamp,
presentation time of a file, or simulated time), never the time the code ran.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A real foot is flat in mid-stance within a few degrees from step to step: a wider spread of the
# mid-stance foot angle is the pose model's foot landmarks wandering, and single steps' strike
# angles are then about that uncertain (Step.strike_spread_deg, report.json flat_foot_reference).
UNSTEADY_FOOT_SPREAD_DEG = 10.0


@dataclass(frozen=True, slots=True)
class Frame:
    """One camera image: RGB uint8 array [H, W, 3] captured at ``t`` (seconds)."""

    t: float
    index: int
    image: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])


@dataclass(frozen=True, slots=True)
class Pose:
    """33 landmarks of one person in one frame.

    ``landmarks`` is float32 [33, 5]: x and y in image pixels, z (same scale as x, relative to the
    hips), visibility and presence (0..1). ``score`` is the landmark model's pose flag (0..1).
    ``image_size`` is (width, height) of the frame the pose was found in.
    """

    t: float
    frame_index: int
    landmarks: np.ndarray
    score: float
    image_size: tuple[int, int]

    @property
    def xy(self) -> np.ndarray:
        """[33, 2] pixel coordinates."""
        return self.landmarks[:, :2]

    @property
    def visibility(self) -> np.ndarray:
        return self.landmarks[:, 3]


@dataclass(frozen=True, slots=True)
class Step:
    """One step, emitted by the gait tracker shortly after its initial contact (IC).

    Angles in degrees, times in seconds (capture clock, real time: slow-motion clips are scaled),
    distances in leg lengths. ``foot`` is the tracker's own foot identity ("A"/"B" kept by
    continuity, mapped to "left"/"right" when the side is known). Metrics that could not be measured
    are NaN. ``valid`` is False for low-quality steps: they are reported, never cued on.
    """

    index: int
    foot: str
    frame_ic: int
    t_ic: float
    strike: str  # "rearfoot" | "midfoot" | "forefoot" | "unknown"
    foot_strike_angle_deg: float
    shank_angle_deg: float
    knee_flexion_deg: float
    heel_to_hip_leg_lengths: float
    cadence_spm: float  # rolling median at this step
    instant_cadence_spm: float
    confidence: float
    valid: bool
    frame_to: int | None = None  # toe-off ending this step's stance (set in the final emission)
    t_to: float | None = None
    contact_time_s: float = float("nan")
    flight_time_s: float = float("nan")
    duty_factor: float = float("nan")
    vertical_oscillation_leg_lengths: float = float("nan")
    trunk_lean_deg: float = float("nan")
    calibrated: bool = False
    # Interquartile range of the foot angle in the recent mid-stances (deg; NaN before three):
    # how far this step's strike angle can be trusted (see UNSTEADY_FOOT_SPREAD_DEG).
    strike_spread_deg: float = float("nan")
    # The gait tracker emits each step twice: at its IC (final=False: contact time, TO and duty
    # factor still NaN/None) and again, same index, after its toe-off (final=True, all filled).
    final: bool = False
    # What timed the contact: "landmarks" (the foot's height) or "pixels" (the foot stage's touch,
    # whose instant and the belt lock after it are t_touch and t_lock, capture seconds).
    timed_by: str = "landmarks"
    t_touch: float = float("nan")
    t_lock: float = float("nan")
    # What read the foot-strike, shank and knee angles: "landmarks" (the per-frame model) or
    # "heavy" (the larger landmark model's look at the frames around this contact).
    strike_read_by: str = "landmarks"
