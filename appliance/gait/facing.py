"""Which way the runner faces in the image, voted frame by frame."""

from __future__ import annotations

import numpy as np

from appliance.gait.geometry import HEEL, TOE
from appliance.landmarks import L

DECAY = 0.98  # per-frame decay of the vote (forgets after ~50 frames)
MIN_VOTE = 3.0
CALIBRATED_VOTE = 10.0


class FacingVote:
    """A decaying vote of toe-ahead-of-heel (each foot) and nose-ahead-of-ears, weighted by the
    landmarks' visibility; ``direction`` is ``right``, ``left``, or None until the vote is clear.
    A standing calibration's direction starts it off."""

    def __init__(self, calibrated: str | None = None) -> None:
        self._vote = 0.0 if calibrated is None else (CALIBRATED_VOTE if calibrated == "right" else -CALIBRATED_VOTE)
        self.direction: str | None = None

    def add(self, lm: np.ndarray, legs: dict) -> None:
        """Add one frame's landmarks ``lm`` and leg points ``legs`` (side -> (points, visibility))."""
        vote = 0.0
        for pts, vis in legs.values():
            if np.isfinite(pts[[HEEL, TOE]]).all():
                vote += min(vis[HEEL], vis[TOE]) * float(np.sign(pts[TOE, 0] - pts[HEEL, 0]))
        ears = lm[[int(L.LEFT_EAR), int(L.RIGHT_EAR)], :2].astype(np.float64)
        nose = lm[int(L.NOSE), :2].astype(np.float64)
        if np.isfinite(ears).all() and np.isfinite(nose).all():
            vote += float(lm[int(L.NOSE), 3]) * float(np.sign(nose[0] - ears[:, 0].mean()))
        self._vote = DECAY * self._vote + vote
        if abs(self._vote) >= MIN_VOTE:
            self.direction = "right" if self._vote > 0 else "left"
