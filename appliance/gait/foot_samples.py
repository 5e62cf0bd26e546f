"""One foot track's per-frame samples in belt coordinates, and reading them over a time window."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np

from appliance.gait.tuning import GAIT_TUNING, FootSampleTuning

# A sample exactly ``span_s`` older than the newest is dropped despite rounding in its capture time.
_TIME_EPS = 1e-9


@dataclass
class FootSample:
    """One frame of one foot track. Heights are above that landmark's own stance level on the belt,
    in leg lengths; NaN (and ``observed`` False) in a frame without the foot."""

    t: float
    frame: int
    points: np.ndarray  # [5, 2] hip, knee, ankle, heel, toe (px)
    vis: np.ndarray  # [5]
    observed: bool
    ambiguous: bool
    g: float  # lowest landmark's height (heel or toe)
    toe_h: float
    heel_h: float
    fwd: float  # foot centre (mid heel-toe) along the belt, forward positive, px
    ankle_h: float  # ankle height above the heel's stance level
    held: tuple | None = None  # (g, toe_h, heel_h, fwd, ankle_h) while set aside as implausible


class TimeWindow(deque):
    """The items of the last ``span_s`` seconds, oldest first; ``time(item)`` is an item's capture
    time (by default its ``t``, or its first element for a tuple)."""

    def __init__(self, span_s: float, time: Callable[[Any], float] | None = None) -> None:
        super().__init__(())
        self.span_s = span_s
        self._time = time or (lambda x: x[0] if isinstance(x, tuple) else x.t)

    def append(self, item: Any) -> None:
        super().append(item)
        oldest = self._time(item) - self.span_s + _TIME_EPS
        while self and self._time(self[0]) < oldest:
            self.popleft()


class FootHistory(TimeWindow):
    """A foot track's samples of the last ``history_s`` seconds, oldest first. Each sample also has
    a number that does not change as older ones drop out (how many were appended before it), so a
    state machine can remember a sample across frames."""

    def __init__(self, history_s: float, tuning: FootSampleTuning = GAIT_TUNING.foot_samples) -> None:
        super().__init__(history_s)
        self.tuning = tuning
        self.appended = 0

    def append(self, sample: FootSample) -> None:
        self.appended += 1
        super().append(sample)

    @property
    def newest_number(self) -> int:
        return self.appended - 1

    def number(self, index: int) -> int:
        """The number of the sample at position ``index`` in this deque."""
        return self.appended - len(self) + index

    def index(self, number: int) -> int:
        """Position in this deque of the sample numbered ``number`` (negative once dropped)."""
        return number - (self.appended - len(self))

    def persists(self, held: Callable[[FootSample], bool]) -> bool:
        """Whether ``held(sample)`` is true for every observed sample of the last ``glitch_s`` and
        for at least the last two: for less it may be a pose-model glitch."""
        now = self[-1].t
        n = 0
        for x in reversed(self):
            if not x.observed:
                continue
            if not held(x):
                return False
            n += 1
            if n >= 2 and now - x.t >= self.tuning.glitch_s:
                return True
        return False

    def drop_spike(self, first: int, thr: float) -> bool:
        """If the samples from index ``first`` to the one before the newest rose above both
        neighbours by more than ``thr`` (a pose-model glitch, not the foot lifting), mark them
        unobserved so that no fit uses them, and return True."""
        run = [x for x in islice(self, first, len(self) - 1) if x.observed]
        before = next((self[i].g for i in range(first - 1, -1, -1) if self[i].observed), float("nan"))
        if not run or not max(x.g for x in run) - max(before, self[-1].g) > thr:
            return False
        for x in run:
            x.observed = False
            x.g = x.toe_h = x.heel_h = x.fwd = x.ankle_h = float("nan")  # as for a frame without the foot
        return True

    def first_on_belt(self, first: int, level: float, run: int) -> float | None:
        """Time of the first sample from index ``first`` that starts ``run`` samples all within
        ``level`` of the belt (None if there is none yet)."""
        xs = list(islice(self, first, None))
        for i in range(len(xs) - run + 1):
            if all(x.g <= level for x in xs[i:i + run]):
                return xs[i].t
        return None

    def airborne_between(self, t0: float, t1: float, air: float) -> bool:
        """Whether the foot was above ``air`` for ``glitch_s`` and two observed samples in a row
        between ``t0`` and ``t1``."""
        run_from, run = float("nan"), 0
        for x in observed_between(self, t0, t1):
            if x.g <= air:
                run = 0
                continue
            if run == 0:
                run_from = x.t
            run += 1
            if run >= 2 and x.t - run_from >= self.tuning.glitch_s:
                return True
        return False


def observed_between(hist: deque[FootSample], t0: float, t1: float) -> list[FootSample]:
    """The observed samples of ``hist`` (oldest first) with ``t0 <= t <= t1``."""
    out = []
    for x in reversed(hist):
        if x.t < t0:
            break
        if x.t <= t1 and x.observed:
            out.append(x)
    out.reverse()
    return out


def height_slopes(samples: list[FootSample]) -> dict[str, float]:
    """Least-squares rate of change (leg lengths/s) of heel, toe and ankle heights over
    ``samples``, for each of them seen throughout."""
    if len(samples) < 2:
        return {}
    tt = np.array([x.t for x in samples])
    dtt = tt - tt.mean()
    span = float((dtt * dtt).sum())
    if span <= 0:
        return {}
    slopes = {}
    for name in ("heel_h", "toe_h", "ankle_h"):
        h = np.array([getattr(x, name) for x in samples])
        if np.isfinite(h).all():
            slopes[name] = float((dtt * (h - h.mean())).sum()) / span
    return slopes
