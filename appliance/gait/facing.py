"""Which way the runner faces in the image, voted frame by frame."""

from __future__ import annotations

import math

import numpy as np

from appliance.gait.geometry import HEEL, TOE
from appliance.gait.tuning import GAIT_TUNING, FacingTuning
from appliance.landmarks import L


class FacingVote:
    """A decaying vote of toe-ahead-of-heel (each foot) and nose-ahead-of-ears, weighted by the
    landmarks' visibility, forgotten with the time constant ``memory_s``; ``direction`` is
    ``right``, ``left``, or None until the vote is clear. A standing calibration's direction starts
    it off."""

    def __init__(self, calibrated: str | None = None, tuning: FacingTuning = GAIT_TUNING.facing) -> None:
        self.tuning = tuning
        start = tuning.calibrated_vote
        self._vote = 0.0 if calibrated is None else (start if calibrated == "right" else -start)
        self.direction: str | None = None

    def add(self, lm: np.ndarray, legs: dict, dt: float) -> None:
        """Add one frame's landmarks ``lm`` and leg points ``legs`` (side -> (points, visibility));
        ``dt`` is the frame interval."""
        vote = 0.0
        for pts, vis in legs.values():
            if np.isfinite(pts[[HEEL, TOE]]).all():
                vote += min(vis[HEEL], vis[TOE]) * float(np.sign(pts[TOE, 0] - pts[HEEL, 0]))
        ears = lm[[int(L.LEFT_EAR), int(L.RIGHT_EAR)], :2].astype(np.float64)
        nose = lm[int(L.NOSE), :2].astype(np.float64)
        if np.isfinite(ears).all() and np.isfinite(nose).all():
            vote += float(lm[int(L.NOSE), 3]) * float(np.sign(nose[0] - ears[:, 0].mean()))
        self._vote = math.exp(-dt / self.tuning.memory_s) * self._vote + vote
        if abs(self._vote) >= self.tuning.min_vote:
            self.direction = "right" if self._vote > 0 else "left"
