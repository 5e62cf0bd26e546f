"""Step rate from initial contact times: instantaneous and a robust rolling value."""

from __future__ import annotations

from collections import deque

import numpy as np

# An interval counts towards the rolling cadence when it is within this fraction of the median
# step period (after allowing for missed steps): step-to-step variability in steady running is a
# few percent, so 25 % rejects only false or missed contacts.
INTERVAL_TOLERANCE = 0.25


class CadenceEstimator:
    """Rolling cadence over the last ``window_s`` seconds of initial contacts (both feet).

    The rolling value is the total time spanned by the accepted intervals over the number of steps
    they hold, rather than a median of single intervals: its error falls with the window length
    (each contact's timing error enters only at the two ends of a run), which a median does not.
    """

    def __init__(self, window_s: float = 10.0, min_period_s: float = 0.24, max_period_s: float = 0.75):
        self.window_s = window_s
        self.min_period_s = min_period_s
        self.max_period_s = max_period_s
        self._ics: deque[tuple[float, int]] = deque()
        self.rolling_spm = float("nan")
        self.instant_spm = float("nan")

    def add(self, t_ic: float, track: int) -> tuple[float, float]:
        """Record a contact of ``track``; returns (rolling, instantaneous) cadence in steps/min."""
        self.instant_spm = float("nan")
        if self._ics:
            t_prev, k_prev = self._ics[-1]
            steps = 1 if k_prev != track else 2  # same foot twice: the other foot's contact was missed
            d = (t_ic - t_prev) / steps
            if self.min_period_s * 0.5 <= d <= self.max_period_s * 1.5:
                self.instant_spm = 60.0 / d
        self._ics.append((t_ic, track))
        while self._ics and self._ics[0][0] < t_ic - self.window_s:
            self._ics.popleft()
        self.rolling_spm = self._rolling()
        return self.rolling_spm, self.instant_spm

    def period_s(self) -> float:
        return 60.0 / self.rolling_spm if np.isfinite(self.rolling_spm) else float("nan")

    def _rolling(self) -> float:
        if len(self._ics) < 3:
            return self.instant_spm
        t = np.array([x[0] for x in self._ics])
        d = np.diff(t)
        d = d[(d > 0) & (d <= 2.5 * self.max_period_s)]
        if d.size == 0:
            return float("nan")
        m = float(np.median(d))
        n = np.maximum(1, np.round(d / m))
        ok = np.abs(d / n - m) < INTERVAL_TOLERANCE * m
        if not ok.any():
            return float("nan")
        return 60.0 * float(n[ok].sum()) / float(d[ok].sum())
