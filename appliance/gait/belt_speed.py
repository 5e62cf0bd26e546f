"""The treadmill belt's speed in the image, from the feet it carries."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from appliance.gait.foot_samples import FootSample
from appliance.gait.tuning import GAIT_TUNING, BeltSpeedTuning


class BeltSpeedEstimator:
    """Belt speed (px/s, backwards positive): the median backward speed of feet standing on it."""

    def __init__(self, tuning: BeltSpeedTuning = GAIT_TUNING.belt_speed) -> None:
        self.tuning = tuning
        self._samples: deque[tuple[float, float]] = deque()
        self._cache = (-math.inf, float("nan"))

    def add(self, hist: deque[FootSample], on_belt: float, dt: float) -> None:
        """Record the backward speed of the newest sample of ``hist``, a foot flat on the belt, over
        >= ``base_s`` (and about a frame) from the last sample as low as ``on_belt`` (its height,
        leg lengths)."""
        s = hist[-1]
        base = self.tuning.base_s
        for prev in reversed(hist):
            if s.t - prev.t >= max(base, 0.9 * dt):
                if prev.observed and prev.g < on_belt and s.t - prev.t < 3 * max(base, dt):
                    self._samples.append((s.t, -(s.fwd - prev.fwd) / (s.t - prev.t)))
                break
        while self._samples and self._samples[0][0] < s.t - self.tuning.window_s:
            self._samples.popleft()

    def speed(self, now: float, leg_px: float) -> float:
        """The belt speed at time ``now`` (NaN until measured, or slower than the slowest belt)."""
        if len(self._samples) < self.tuning.min_samples:
            return float("nan")
        if now - self._cache[0] >= self.tuning.refresh_s:
            v = float(np.median([x[1] for x in self._samples]))
            self._cache = (now, v if v > self.tuning.min_leg_per_s * leg_px else float("nan"))
        return self._cache[1]


def moving_with_belt(hist: deque[FootSample], belt_v: float, dt: float,
                     tuning: BeltSpeedTuning = GAIT_TUNING.belt_speed) -> bool:
    """Whether the newest sample's foot moved backwards at >= ``carried_fraction`` of the belt
    speed over the last ``carried_s`` (and about two frames)."""
    s = hist[-1]
    for prev in reversed(hist):
        if s.t - prev.t >= max(tuning.carried_s, 1.9 * dt) and prev.observed:
            return -(s.fwd - prev.fwd) / (s.t - prev.t) >= tuning.carried_fraction * belt_v
    return False
