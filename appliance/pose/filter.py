"""One-Euro filtering of landmark tracks, timed by capture timestamps.

The One-Euro filter (Casiez et al., 2012) is a low-pass filter whose cutoff rises with speed:
still landmarks are smoothed hard (jitter gone), fast ones barely (little lag). Positions are
filtered in pixels, but their speed is measured in body sizes per second (the diameter of the
circle spanned by the two auxiliary tracking landmarks, hip centre to beyond the head), so the same
parameters hold for a runner who fills the frame and one who is small in it. The default
parameters come from ``bench/filter_tuning.py`` (see the README's pose section).
"""

from __future__ import annotations

import math

import numpy as np


def _alpha(cutoff_hz: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * np.asarray(cutoff_hz))
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Vectorised One-Euro filter over an array of values (e.g. [33, 2] landmark positions)."""

    def __init__(self, min_cutoff: float, beta: float, d_cutoff: float = 1.0):
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self.reset()

    def reset(self) -> None:
        self._t: float | None = None
        self._x: np.ndarray | None = None
        self._raw: np.ndarray | None = None
        self._dx: np.ndarray | None = None

    def __call__(self, x: np.ndarray, t: float, speed_scale: float = 1.0) -> np.ndarray:
        """The filtered value of ``x`` observed at capture time ``t`` (seconds).

        ``speed_scale`` converts the speed of ``x`` into the units ``beta`` is meant for."""
        x = np.asarray(x, np.float64)
        if self._t is None or t <= self._t or self._x is None or self._x.shape != x.shape:
            self._t, self._x, self._raw, self._dx = t, x.copy(), x.copy(), np.zeros_like(x)
            return x.copy()
        dt = t - self._t
        # Speed from the raw samples: the filtered track lags, and its speed would lag twice.
        dx = (x - self._raw) / dt * speed_scale
        self._raw = x.copy()
        a_d = _alpha(self.d_cutoff, dt)
        self._dx = self._dx + a_d * (dx - self._dx)
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        a = _alpha(cutoff, dt)
        self._x = self._x + a * (x - self._x)
        self._t = t
        return self._x.copy()


class LandmarkFilter:
    """Filters a pose's landmark positions in body-size units; visibility is passed through."""

    def __init__(self, min_cutoff: float, beta: float):
        self._filter = OneEuroFilter(min_cutoff, beta)

    def reset(self) -> None:
        self._filter.reset()

    def __call__(self, xy_px: np.ndarray, body_size_px: float, t: float) -> np.ndarray:
        if body_size_px <= 0:
            return xy_px
        return self._filter(xy_px, t, speed_scale=1.0 / body_size_px)
