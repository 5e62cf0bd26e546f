"""Small immutable values that travel between the appliance's stages.

Every time is a capture time in seconds on the monotonic clock of the source (sensor timestamp,
presentation time of a file, or simulated time), never the time the code ran.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
