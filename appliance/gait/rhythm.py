"""The step period from the rhythm of the trunk, without any foot event.

A runner's trunk rises and falls once per step (twice per stride), and shoulders and hips are the
landmarks a side-view pose model tracks best: they are large, always visible and never swapped in
a way that matters here (both sides are averaged). The autocorrelation of the trunk's height over
the last seconds therefore gives the step period even when foot contacts are missed, doubled or
mistimed (the far foot hidden or hallucinated, the model's left/right swaps), the way a trunk-worn
accelerometer gives cadence. The tracker uses it to number its contacts and to flag contacts that
break the rhythm; the report uses it for the clip's cadence.

The period is read at the stride lag (two steps) and halved: left/right differences repeat every
stride, so the stride peak is the sharper and the more stable one.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from appliance.gait.tuning import GAIT_TUNING, RhythmTuning


def step_period(height: np.ndarray, dt: float, min_period_s: float, max_period_s: float,
                min_strength: float = GAIT_TUNING.rhythm.min_strength) -> tuple[float, float]:
    """Step period (s) and its strength (stride-lag correlation, <= 1) of a trunk height series
    sampled every ``dt`` seconds; (NaN, 0) when the series is too short or not rhythmic (its stride
    correlation below ``min_strength``: standing, or noise).

    The series must span at least one stride of the longest plausible step (2 x ``max_period_s``).
    """
    x = np.asarray(height, dtype=np.float64)
    n = x.size
    lo, hi = max(2, int(min_period_s / dt)), int(math.ceil(max_period_s / dt))
    if n < 2 * hi + 3 or not np.isfinite(x).all():
        return float("nan"), 0.0
    # A straight-line trend (the runner drifting on the belt, towards or away from the camera) would
    # correlate with itself at every lag.
    idx = np.arange(n, dtype=np.float64)
    x = x - np.polyval(np.polyfit(idx, x, 1), idx)
    energy = float(x @ x)
    if energy <= 0:
        return float("nan"), 0.0
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n] / energy
    ac = ac * n / (n - np.arange(n))  # unbiased: long lags are sums over fewer products
    # Lag scores: a true step period P has high correlation at P and 2P and a trough at P/2 (half a
    # step out of phase); a stride taken for a step (P = 2 steps) has a peak, not a trough, at P/2.
    # This holds while the stride-rate part of the bounce (one side bouncing higher) stays below
    # ~80 % of the step-rate part; beyond, the step is not a repeating pattern of the trunk at all.
    lags = np.arange(lo, hi + 1)
    score = ac[lags] + ac[2 * lags] - ac[lags // 2]
    best = int(lags[int(np.argmax(score))])
    near_stride = ac[2 * best - 2:2 * best + 3]
    strength = float(near_stride[1:4].max())
    if strength < min_strength:
        return float("nan"), strength
    if int(np.argmax(near_stride)) in (0, near_stride.size - 1):
        # No stride peak there, only the slope of a slower swell (a period beyond the plausible
        # range: slow motion not declared, or a person walking far below the slowest cadence).
        return float("nan"), 0.0
    # Refine on every stride peak up to half the series (beyond, too few products are left): each
    # peak's sub-sample lag (a parabola through the local maximum near m strides and its
    # neighbours), then the stride as the least-squares slope of lag over stride count, so that
    # the error shrinks with the number of strides seen rather than resting on one peak.
    period = 2.0 * best
    num = den = 0.0
    for m in range(1, max(1, int((n // 2) / period)) + 1):
        centre = int(round(m * period))
        j0, j1 = max(centre - 2, 1), min(centre + 2, n - 2)
        if j0 > j1:
            break
        j = j0 + int(np.argmax(ac[j0:j1 + 1]))
        a, b, c = ac[j - 1], ac[j], ac[j + 1]
        curvature = a - 2 * b + c
        lag = j + (max(-0.5, min(0.5, 0.5 * (a - c) / curvature)) if curvature < 0 else 0.0)
        num += lag * m
        den += m * m
        period = num / den  # the next peak is looked for where this estimate puts it
    return period * dt / 2, strength


class RhythmEstimator:
    """Step period from the trunk height of the last ``tuning.window_s`` seconds (at least four of
    the slowest steps), causal, updated every ``tuning.update_s``. Frames may be dropped or
    unevenly timed: the samples are resampled onto a uniform grid at the camera's frame interval
    before the autocorrelation."""

    def __init__(self, min_period_s: float, max_period_s: float, tuning: RhythmTuning = GAIT_TUNING.rhythm):
        self.tuning = tuning
        self.min_period_s = min_period_s
        self.max_period_s = max_period_s
        self.window_s = max(tuning.window_s, 4 * max_period_s)
        self._samples: deque[tuple[float, float]] = deque()
        self._next_update = -math.inf
        self.period_s = float("nan")
        self.strength = 0.0

    def add(self, t: float, height: float, dt: float) -> None:
        """Record the trunk height (any unit, up or down) at capture time ``t``; ``dt`` is the
        camera's frame interval. Recomputes the period when due."""
        if not math.isfinite(height):
            return
        self._samples.append((t, height))
        while self._samples and self._samples[0][0] < t - self.window_s:
            self._samples.popleft()
        if t < self._next_update:
            return
        self._next_update = t + self.tuning.update_s
        ts = np.fromiter((s[0] for s in self._samples), np.float64, len(self._samples))
        hs = np.fromiter((s[1] for s in self._samples), np.float64, len(self._samples))
        if ts.size < 3 or ts[-1] - ts[0] < 2 * self.max_period_s + 3 * dt:
            return
        grid = np.arange(ts[0], ts[-1] + 1e-9, dt)
        self.period_s, self.strength = step_period(np.interp(grid, ts, hs), dt, self.min_period_s, self.max_period_s,
                                                   self.tuning.min_strength)

    @property
    def cadence_spm(self) -> float:
        return 60.0 / self.period_s if math.isfinite(self.period_s) else float("nan")
