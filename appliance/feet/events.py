"""A foot's contact events from its motion relative to the belt.

The foot's velocity relative to the belt's, over the belt's speed (``slip``: 0 = carried by the
belt), tells its phase: in swing it is large (the foot swings forwards at up to twice the running
speed and comes down); on the belt it is about 0. Three moments of a landing follow from it:

* **belt lock**: the slip stays below ``LOCK_SLIP`` for ``LOCK_RUN`` samples: the whole foot moves
  with the belt. Never missed by a foot that stands on the belt, and the event that confirms a
  contact.
* **touch** (initial contact): the instant the foot's approach ends, found once the lock is seen:
  from its swing peak to the lock the slip falls slowly (the foot's late-swing retraction), then
  quickly once the foot meets the belt and friction stops it. The knee of a two-segment fit over
  that stretch is the touch, at sub-frame resolution.
* **release** (toe-off): the slip rises above ``RELEASE_SLIP`` for ``LOCK_RUN`` samples; the
  instant is where that rise, extrapolated back, leaves the level the foot had while locked.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

LOCK_SLIP = 0.3  # a foot carried by the belt moves at its velocity to within the flow's noise
RELEASE_SLIP = 0.5
LOCK_RUN = 2  # samples, and at least LOCK_RUN_S
LOCK_RUN_S = 0.02
APPROACH_S = 0.3  # the swing peak before a landing lies within this (a fast step's swing is ~0.25 s)
MIN_APPROACH_SLIP = 0.8  # a landing foot arrives at least this fast relative to the belt
HISTORY = 256


@dataclass(frozen=True, slots=True)
class FootEvent:
    """A contact event of one foot track: ``kind`` is touch, lock or release; ``t`` in capture
    seconds; ``centre`` is where the shoe was (px) when the event was confirmed."""

    kind: str
    t: float
    foot: str
    centre: tuple[float, float] | None = None


def hinge_knee(t: np.ndarray, y: np.ndarray, step: float) -> float:
    """The knee of the continuous two-segment line fitted to ``y(t)`` by least squares, searched
    on a grid of ``step`` seconds between the second and the second-last sample."""
    best, best_err = float(t[0]), math.inf
    for knee in np.arange(t[1], t[-2] + 1e-12, step):
        basis = np.stack([np.ones_like(t), np.minimum(t - knee, 0.0), np.maximum(t - knee, 0.0)], axis=1)
        coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
        err = float(np.sum((basis @ coef - y) ** 2))
        if err < best_err:
            best, best_err = float(knee), err
    return best


class FootContactDetector:
    """Touch, lock and release of one foot from its measured slip samples, causally.

    >>> detector = FootContactDetector("left")
    >>> for event in detector.add(t, slip):   # slip: NaN when the foot was not measured
    ...     print(event.kind, event.t)
    """

    def __init__(self, foot: str):
        self.foot = foot
        self.locked = False
        self._samples: deque[tuple[float, float]] = deque(maxlen=HISTORY)
        self._run = 0

    def add(self, t: float, slip: float) -> list[FootEvent]:
        if not math.isfinite(slip):
            self._run = 0
            return []
        self._samples.append((t, slip))
        if not self.locked:
            self._run = self._run + 1 if slip < LOCK_SLIP else 0
            if self._confirmed():
                events = self._landing()
                self.locked, self._run = True, 0
                return events
            return []
        self._run = self._run + 1 if slip > RELEASE_SLIP else 0
        if self._confirmed():
            event = FootEvent("release", self._release_time(), self.foot)
            self.locked, self._run = False, 0
            return [event]
        return []

    def _confirmed(self) -> bool:
        """Whether the current run of samples past a threshold is long enough to believe."""
        if self._run < LOCK_RUN:
            return False
        return self._samples[-1][0] - self._samples[-self._run][0] >= LOCK_RUN_S * 0.999

    def _landing(self) -> list[FootEvent]:
        """The lock and, when a swing led to it, the touch before it."""
        t = np.array([s[0] for s in self._samples])
        y = np.array([s[1] for s in self._samples])
        first_locked = len(t) - self._run
        t_lock = _crossing(t, y, first_locked, LOCK_SLIP)
        events = [FootEvent("lock", t_lock, self.foot)]
        window = np.nonzero(t >= t[first_locked] - APPROACH_S)[0]
        window = window[window <= first_locked]
        if len(window) < 3:
            return events
        peak = window[int(np.argmax(y[window]))]
        if y[peak] < MIN_APPROACH_SLIP or first_locked - peak < 2:
            return events
        seg = slice(peak, first_locked + 1)
        dt = float(np.median(np.diff(t[seg])))
        t_touch = hinge_knee(t[seg], y[seg], dt / 10) if first_locked - peak >= 3 else float(t[peak])
        return [FootEvent("touch", min(t_touch, t_lock), self.foot), *events]

    def _release_time(self) -> float:
        """Where the slip's rise out of the lock, fitted by a line and extrapolated back, leaves
        the level the foot had while locked."""
        t = np.array([s[0] for s in self._samples])
        y = np.array([s[1] for s in self._samples])
        end = len(t) - self._run + 1  # the rise's samples end with the run's second
        start = end - 1
        level = float(np.min(y[max(0, start - 8):start + 1]))
        while start > 0 and y[start - 1] > level + 0.1:
            start -= 1
        if end - start < 2:
            return float(t[start])
        slope, intercept = np.polyfit(t[start:end + 1], y[start:end + 1], 1)
        if slope <= 0:
            return float(t[start])
        lo = t[start - 1] if start > 0 else t[start]
        return float(np.clip((level - intercept) / slope, lo, t[start]))


def _crossing(t: np.ndarray, y: np.ndarray, i: int, level: float) -> float:
    """Where ``y`` crossed ``level`` between samples i-1 and i (linear), else t[i]."""
    if i <= 0 or (y[i - 1] - level) * (y[i] - level) > 0 or y[i - 1] == y[i]:
        return float(t[i])
    f = (level - y[i - 1]) / (y[i] - y[i - 1])
    return float(t[i - 1] + f * (t[i] - t[i - 1]))
