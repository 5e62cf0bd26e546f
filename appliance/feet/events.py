"""A foot's contact events from its motion relative to the belt.

Each measured sample gives two slips (velocity relative to the belt's, over the belt's speed; 0 =
carried by the belt): the **shoe's** (its fastest point's, translation plus rotation: 0 only when
the whole shoe moves with the belt) and the **sole's** (its lowest point's, the one that meets the
belt: the heel in a heel-first landing, the toe at push-off; a 2-D vector). Three moments follow:

* **belt lock**: the shoe's slip stays below ``lock_slip`` for ``lock_run_s``: the whole foot moves
  with the belt. Never missed by a foot that stands on the belt, and the event that confirms a
  contact.
* **touch** (initial contact): found once the lock is seen, in the sole's motion before it: the
  onset of the arrest. Until the touch the sole approaches the belt (forwards relative to it and
  down). At the touch its descent stops at once, but its motion along the belt does not: only
  friction drags it to the belt's velocity, and friction is bounded (mu times a load that is still
  building), so the sole decelerates steadily over tens of milliseconds (50-130 ms measured on real
  video; appliance/sim/treadmill_pixels.py says where). So the sole's relative velocity along the
  image's x (the belt's direction) is modelled as a straight line in time up to the touch (the
  approach), then a straight fall, continuous at the touch, to a constant (the belt's velocity)
  reached at most ``max_arrest_s`` later (0: a jump); along the vertical, as a line up to the touch
  and a constant after it (the descent stops). Both share the touch; each sample is the model
  averaged over the time between its two frames, and the touch is the instant that fits best, at
  sub-frame resolution. The vertical is used only where the sole is seen coming down (at least
  ``min_descent``) before the landing: a sole measured level or rising just before it meets the
  belt is mismeasured there (motion blur, or the lowest tracked points moving as the foot rolls),
  and then the onset of the arrest along the belt alone times the touch.
* **release** (toe-off): the sole's slip rises above ``release_slip`` for ``lock_run_s``; its
  instant is fitted the same way, mirrored (constant while on the belt, a line once it leaves).

The values are ``EventTuning``'s (appliance/feet/tuning.py).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from appliance.feet.tuning import FEET_TUNING, EventTuning


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


def _box(f, start: np.ndarray, end: np.ndarray, substeps: int) -> np.ndarray:
    """f's mean over each sample's [start, end] (midpoint rule, ``substeps`` points): ``f`` maps
    times [n, substeps] to values [..., n, substeps] (broadcast); returns [..., n]."""
    u = (np.arange(substeps) + 0.5) / substeps
    return f(start[:, None] + (end - start)[:, None] * u).mean(axis=-1)


def _sse(basis: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The least-squares residual sum of squares of ``y`` [n] on each basis [..., n, k]."""
    bt = np.swapaxes(basis, -1, -2)
    gram = bt @ basis + 1e-9 * np.eye(basis.shape[-1])
    coef = np.linalg.solve(gram, (bt @ y)[..., None])
    return np.sum((basis @ coef - y[:, None]) ** 2, axis=(-2, -1))


def arrest_onset(start: np.ndarray, end: np.ndarray, along: np.ndarray, across: np.ndarray | None, lo: float,
                 hi: float, step: float, tuning: EventTuning = FEET_TUNING.events) -> float:
    """The instant T in [lo, hi] where a landing's arrest begins (module docstring): ``along`` [n]
    is a straight line in time up to T, then falls straight to a constant reached within
    ``tuning.max_arrest_s`` (continuous at T); ``across`` [n] (None: not used) is a line up to T and a
    constant after it. Least squares on samples that each average the signal over [start, end];
    T on a grid of ``step`` s, refined to a tenth of it around the best; the arrest durations tried
    are ``tuning.arrest_step_s`` apart."""
    arrests = np.maximum(np.arange(0.0, tuning.max_arrest_s + 1e-12, tuning.arrest_step_s), 1e-9)[None, :, None, None]
    n_sub = tuning.substeps

    def errors(grid: np.ndarray) -> np.ndarray:
        T = grid[:, None, None]  # [nT, 1, 1] against times [n, substeps]
        before = _box(lambda t: (t < T).astype(float), start, end, n_sub)  # [nT, n]
        line = _box(lambda t: np.minimum(t - T, 0.0), start, end, n_sub)
        # [nT, nD, n]: 1 at T falling to 0 at T + D, 0 elsewhere
        falling = _box(lambda t: np.clip(1.0 - (t - T[:, None]) / arrests, 0.0, 1.0) * (t >= T[:, None]), start, end,
                       n_sub)
        b = np.broadcast_to(before[:, None], falling.shape)
        basis = np.stack([b + falling, np.broadcast_to(line[:, None], falling.shape), 1.0 - b - falling], axis=-1)
        err = _sse(basis, along).min(axis=1)
        if across is not None:
            err = err + _sse(np.stack([before, line, 1.0 - before], axis=-1), across)
        return err

    coarse = np.arange(lo, hi + 1e-12, step)
    best = float(coarse[int(np.argmin(errors(coarse)))])
    fine = np.clip(np.arange(best - step, best + step + 1e-12, step / 10), lo, hi)
    return float(fine[int(np.argmin(errors(fine)))])


def step_instant(start: np.ndarray, end: np.ndarray, y: np.ndarray, lo: float, hi: float, step: float) -> float:
    """The instant T in [lo, hi] (grid of ``step`` s) where a signal changes from a constant to a
    straight line in time, fitted by least squares to samples ``y`` [n, d] that each average the
    signal over [start, end]."""
    width = np.maximum(end - start, 1e-9)
    best, best_err = lo, math.inf
    for T in np.arange(lo, hi + 1e-12, step):
        before = (np.minimum(end, T) - np.minimum(start, T)) / width
        a2, b2 = np.maximum(start, T), np.maximum(end, T)
        ramp_after = ((b2 - T) ** 2 - (a2 - T) ** 2) / (2 * width)  # the mean of (t - T) after T
        basis = np.stack([before, 1.0 - before, ramp_after], axis=1)
        coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
        err = float(np.sum((basis @ coef - y) ** 2))
        if err < best_err - 1e-12:
            best, best_err = float(T), err
    return best


class FootContactDetector:
    """Touch, lock and release of one foot from its measured slips, causally.

    >>> detector = FootContactDetector("A")
    >>> for event in detector.add(t, slip, sole, dt):  # slip: NaN when the foot was not measured
    ...     print(event.kind, event.t)

    ``slip`` is the shoe's (its fastest point's) slip; ``sole`` the lowest point's relative
    velocity over the belt speed (a 2-vector, or its size; the shoe's slip when not given); ``dt``
    the time between the sample's two frames (0: an instant).
    """

    def __init__(self, foot: str, tuning: EventTuning = FEET_TUNING.events):
        self.foot = foot
        self.tuning = tuning
        self.locked = False
        self._samples: deque[tuple[float, float, float, float, float]] = deque()  # t, dt, slip, sole (last history_s)
        self._run = 0

    def add(self, t: float, slip: float, sole=None, dt: float = 0.0) -> list[FootEvent]:
        if not math.isfinite(slip):
            self._run = 0
            return []
        sole_v = np.atleast_1d(np.asarray(slip if sole is None else sole, np.float64))
        sole_v = np.pad(sole_v, (0, 2 - len(sole_v)))[:2]
        self._samples.append((t, dt, slip, float(sole_v[0]), float(sole_v[1])))
        # A sample exactly history_s older than the newest is dropped despite rounding in its time.
        while self._samples[0][0] < t - self.tuning.history_s + 1e-9:
            self._samples.popleft()
        if not self.locked:
            self._run = self._run + 1 if slip < self.tuning.lock_slip else 0
            if self._confirmed():
                events = self._landing()
                self.locked, self._run = True, 0
                return events
            return []
        self._run = self._run + 1 if math.hypot(sole_v[0], sole_v[1]) > self.tuning.release_slip else 0
        if self._confirmed():
            event = FootEvent("release", self._release_time(), self.foot)
            self.locked, self._run = False, 0
            return [event]
        return []

    def _confirmed(self) -> bool:
        """Whether the current run of samples past a threshold is long enough to believe."""
        if self._run < self.tuning.lock_run:
            return False
        return self._samples[-1][0] - self._samples[-self._run][0] >= self.tuning.lock_run_s * 0.999

    def _arrays(self):
        a = np.asarray(self._samples)
        return a[:, 0], a[:, 1], a[:, 2], a[:, 3:5]

    def _landing(self) -> list[FootEvent]:
        """The lock and, when a swing led to it, the touch before it."""
        tuning = self.tuning
        t, dt, slip, sole = self._arrays()
        first_locked = len(t) - self._run
        t_lock = _crossing(t, slip, first_locked, tuning.lock_slip)
        events = [FootEvent("lock", t_lock, self.foot)]
        window = np.nonzero(t >= t[first_locked] - tuning.approach_s)[0]
        window = window[window <= first_locked]
        if len(window) < 3:
            return events
        speed = np.hypot(sole[:, 0], sole[:, 1])
        peak = window[int(np.argmax(speed[window]))]
        if speed[peak] < tuning.min_approach_slip:
            return events
        # The touch lies between the last fast sole sample and the lock: the fit covers the approach
        # before it and the locked samples after it.
        lo_t = max(t[peak] - 0.5 * dt[peak], t[first_locked] - tuning.landing_s)
        fit = np.nonzero(t + 0.5 * dt >= lo_t - tuning.fit_before_s)[0]
        fit = fit[fit >= peak]
        if len(fit) < 4:
            return events
        start, end = t[fit] - 0.5 * dt[fit], t[fit] + 0.5 * dt[fit]
        frame = float(np.median(np.maximum(dt[fit], 1e-3)))
        hi = float(t[first_locked] + 0.5 * dt[first_locked])
        # The vertical only where the sole was seen coming down (module docstring).
        late = (t >= t[first_locked] - tuning.descent_s[0]) & (t <= t[first_locked] - tuning.descent_s[1])
        descending = bool(late.any()) and float(np.median(sole[late, 1])) >= tuning.min_descent
        t_touch = arrest_onset(start, end, sole[fit, 0], sole[fit, 1] if descending else None, lo_t, hi, frame / 2,
                               tuning)
        return [FootEvent("touch", min(t_touch, t_lock), self.foot), *events]

    def _release_time(self) -> float:
        """The instant the sole leaves the belt: its relative velocity fitted as a constant (on the
        belt) then a line (leaving), over the run that confirmed it and the locked samples before."""
        t, dt, _, sole = self._arrays()
        first = len(t) - self._run
        fit = np.nonzero(t >= t[first] - self.tuning.leaving_s)[0]
        if len(fit) < 4:
            return float(t[first] - 0.5 * dt[first])
        start, end = t[fit] - 0.5 * dt[fit], t[fit] + 0.5 * dt[fit]
        frame = float(np.median(np.maximum(dt[fit], 1e-3)))
        lo = float(t[fit[0]])
        hi = float(t[first] + 0.5 * dt[first])
        return step_instant(start, end, sole[fit], lo, hi, frame / 20)


def _crossing(t: np.ndarray, y: np.ndarray, i: int, level: float) -> float:
    """Where ``y`` crossed ``level`` between samples i-1 and i (linear), else t[i]."""
    if i <= 0 or (y[i - 1] - level) * (y[i] - level) > 0 or y[i - 1] == y[i]:
        return float(t[i])
    f = (level - y[i - 1]) / (y[i] - y[i - 1])
    return float(t[i - 1] + f * (t[i] - t[i - 1]))
