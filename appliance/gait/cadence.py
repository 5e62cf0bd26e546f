"""Step rate from initial contact times: instantaneous and a robust rolling value."""

from __future__ import annotations

from collections import deque

import numpy as np

from appliance.gait.tuning import GAIT_TUNING, RhythmTuning


class CadenceEstimator:
    """Rolling cadence over the last ``window_s`` seconds of initial contacts (both feet).

    The rolling value is the slope of contact time over step number (least squares, contacts more
    than a quarter period off the line left out), rather than a median of single intervals: its
    error falls with the window length as every contact's timing error is averaged. No rolling
    value before ``tuning.min_contacts`` contacts; contacts more than ``tuning.interval_tolerance``
    of a period off the line are left out.
    """

    def __init__(self, window_s: float = 10.0, min_period_s: float = 0.24, max_period_s: float = 0.75,
                 tuning: RhythmTuning = GAIT_TUNING.rhythm):
        self.tuning = tuning
        self.window_s = window_s
        self.min_period_s = min_period_s
        self.max_period_s = max_period_s
        self._ics: deque[tuple[float, int]] = deque()
        self.rolling_spm = float("nan")
        self.instant_spm = float("nan")

    def add(self, t_ic: float, track: int, reference_period_s: float = float("nan")) -> tuple[float, float]:
        """Record a contact of ``track``; returns (rolling, instantaneous) cadence in steps/min.

        ``reference_period_s`` (the trunk's rhythm, when known) numbers the contacts instead of
        their own median interval, so missed and spurious contacts cannot shift the numbering."""
        self._ics.append((t_ic, track))
        while self._ics and self._ics[0][0] < t_ic - self.window_s:
            self._ics.popleft()
        return self._update(reference_period_s)

    def retime(self, t_old: float, t_new: float, reference_period_s: float = float("nan")) -> tuple[float, float]:
        """Move the contact recorded at ``t_old`` to ``t_new`` (a contact re-timed after it was
        added); returns the rolling cadence and the re-timed contact's instantaneous one."""
        i = next((i for i in range(len(self._ics) - 1, -1, -1) if self._ics[i][0] == t_old), None)
        if i is None:
            raise ValueError(f"no contact recorded at t={t_old}")
        self._ics[i] = (t_new, self._ics[i][1])
        self.rolling_spm = self._rolling(reference_period_s)
        self.instant_spm = self._instant(len(self._ics) - 1)
        return self.rolling_spm, self._instant(i)

    def _update(self, reference_period_s: float) -> tuple[float, float]:
        self.instant_spm = self._instant(len(self._ics) - 1)
        self.rolling_spm = self._rolling(reference_period_s)
        return self.rolling_spm, self.instant_spm

    def _instant(self, i: int) -> float:
        """Instantaneous cadence at contact ``i``, from the interval since the one before (NaN
        for the first or an implausible interval)."""
        if i < 1:
            return float("nan")
        (t_prev, k_prev), (t_ic, track) = self._ics[i - 1], self._ics[i]
        steps = 1 if k_prev != track else 2  # same foot twice: the other foot's contact was missed
        d = (t_ic - t_prev) / steps
        return 60.0 / d if self.min_period_s * 0.5 <= d <= self.max_period_s * 1.5 else float("nan")

    def period_s(self) -> float:
        return 60.0 / self.rolling_spm if np.isfinite(self.rolling_spm) else float("nan")

    def _rolling(self, reference_period_s: float) -> float:
        if len(self._ics) < self.tuning.min_contacts:
            return float("nan")
        t = np.array([x[0] for x in self._ics])
        d = np.diff(t)
        if not (d > 0).all():
            return float("nan")
        m = reference_period_s if np.isfinite(reference_period_s) else float(np.median(d))
        # Step number of every contact (a missed contact leaves a double interval), then the
        # period as the least-squares slope of contact time over step number: every contact's
        # timing error is averaged, not only the window's two ends.
        k = np.concatenate([[0.0], np.cumsum(np.maximum(1.0, np.round(d / m)))])
        keep = np.ones(t.size, bool)
        for _ in range(2):
            if keep.sum() < 3:
                return float("nan")
            slope, icept = np.polyfit(k[keep], t[keep], 1)
            resid = t - (icept + slope * k)
            keep = np.abs(resid) <= self.tuning.interval_tolerance * m
        if keep.sum() < 3 or slope <= 0:
            return float("nan")
        slope, _ = np.polyfit(k[keep], t[keep], 1)
        return 60.0 / float(slope)
