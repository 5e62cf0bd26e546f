"""The treadmill belt's speed in the image, from the feet it carries."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from appliance.gait.foot_samples import FootSample

BASE_S = 0.02  # a foot's speed is measured over at least this long
WINDOW_S = 5.0  # and the belt's speed is the median over this long
MIN_SAMPLES = 20
REFRESH_S = 0.25  # a treadmill's speed changes over seconds
MIN_LEG_PER_S = 0.3  # slowest walking belt, ~0.3 m/s


class BeltSpeedEstimator:
    """Belt speed (px/s, backwards positive): the median backward speed of feet standing on it."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, float]] = deque()
        self._cache = (-math.inf, float("nan"))

    def add(self, hist: deque[FootSample], on_belt: float, dt: float) -> None:
        """Record the backward speed of the newest sample of ``hist``, a foot flat on the belt, over
        >= 20 ms from the last sample as low as ``on_belt`` (its height, leg lengths)."""
        s = hist[-1]
        for prev in reversed(hist):
            if s.t - prev.t >= max(BASE_S, 0.9 * dt):
                if prev.observed and prev.g < on_belt and s.t - prev.t < 3 * max(BASE_S, dt):
                    self._samples.append((s.t, -(s.fwd - prev.fwd) / (s.t - prev.t)))
                break
        while self._samples and self._samples[0][0] < s.t - WINDOW_S:
            self._samples.popleft()

    def speed(self, now: float, leg_px: float) -> float:
        """The belt speed at time ``now`` (NaN until measured, or slower than the slowest belt)."""
        if len(self._samples) < MIN_SAMPLES:
            return float("nan")
        if now - self._cache[0] >= REFRESH_S:
            v = float(np.median([x[1] for x in self._samples]))
            self._cache = (now, v if v > MIN_LEG_PER_S * leg_px else float("nan"))
        return self._cache[1]


def moving_with_belt(hist: deque[FootSample], belt_v: float, dt: float) -> bool:
    """Whether the newest sample's foot moved backwards at >= half the belt speed over the last ~30 ms."""
    s = hist[-1]
    for prev in reversed(hist):
        if s.t - prev.t >= max(0.03, 1.9 * dt) and prev.observed:
            return -(s.fwd - prev.fwd) / (s.t - prev.t) >= 0.5 * belt_v
    return False
