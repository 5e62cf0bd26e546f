"""Continuous measurement of the control loop: period, jitter, stage times, dropped frames, deadline misses.

The loop calls ``begin_tick()`` when it takes a frame, ``stage(name, ms)`` for each stage, and
``end_tick()``. Figures over the last ``window`` ticks are cheap to read at any time (``summary()``)
and feed the live snapshot, the log, the systemd status line and ``bench/loop_jitter.py``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from appliance.runtime.controller import LoopStats, StageFault

STALL_PERIODS = 5
STALL_MIN_S = 1.0
FIRST_FRAME_GRACE_S = 5.0  # a camera may take a few seconds to deliver its first frame


class LoopMonitor:
    """Rolling statistics of the control loop (single writer: the loop thread)."""

    def __init__(self, frame_period_s: float, window: int = 300, clock: Callable[[], float] = time.perf_counter):
        self.frame_period_s = frame_period_s
        self._clock = clock
        self.ticks = 0
        self.deadline_misses = 0
        self.dropped_frames = 0
        self.last_tick_wall: float | None = None
        self.started_wall: float | None = None  # when the loop thread began waiting for frames
        # No tick for this long is a stall: several frame periods, and never less than a second.
        self.stall_after_s = max(STALL_MIN_S, STALL_PERIODS * frame_period_s)
        self._periods: deque[float] = deque(maxlen=window)
        self._busy: deque[float] = deque(maxlen=window)
        self._drops: deque[int] = deque(maxlen=window)  # frames dropped just before each tick
        self._stages: dict[str, deque[float]] = {}
        self._window = window
        self._tick_start: float | None = None
        self._current: dict[str, float] = {}

    def mark_started(self) -> None:
        """The loop thread is running: from now on a missing tick counts towards a stall."""
        self.started_wall = time.monotonic()

    def since_last_tick_s(self, now: float | None = None) -> float | None:
        """Wall seconds since the last tick (since the start before the first; None before the start)."""
        ref = self.last_tick_wall if self.last_tick_wall is not None else self.started_wall
        return None if ref is None else (time.monotonic() if now is None else now) - ref

    def stalled(self, now: float | None = None) -> bool:
        """True when the loop has not ticked for ``stall_after_s`` (``FIRST_FRAME_GRACE_S`` before the
        first frame). Safe from any thread: it reads two numbers."""
        since = self.since_last_tick_s(now)
        if since is None:
            return False
        limit = self.stall_after_s if self.last_tick_wall is not None else max(self.stall_after_s, FIRST_FRAME_GRACE_S)
        return since > limit

    def with_stall(self, stats: LoopStats) -> LoopStats:
        """``stats`` (as published at the last tick) with the time since that tick; a stalled loop's
        rate is 0, whatever the last ticks measured."""
        since = self.since_last_tick_s()
        update: dict = {"since_last_tick_s": None if since is None else round(since, 3)}
        if self.stalled():
            update.update(fps=0.0, stalled=True)
        return stats.model_copy(update=update)

    def begin_tick(self) -> None:
        now = self._clock()
        if self._tick_start is not None:
            self._periods.append(now - self._tick_start)
        self._tick_start = now
        self._current = {}

    def stage(self, name: str, ms: float) -> None:
        """Add ``ms`` to stage ``name`` of the current tick."""
        self._current[name] = self._current.get(name, 0.0) + ms

    def timed(self, name: str) -> _StageTimer:
        """``with monitor.timed("gait"): ...`` adds the block's wall time to that stage."""
        return _StageTimer(self, name)

    def end_tick(self, dropped_total: int | None = None) -> float:
        """Close the tick; returns its busy time in seconds (a deadline miss when over one frame period)."""
        now = self._clock()
        busy = now - (self._tick_start if self._tick_start is not None else now)
        self._busy.append(busy)
        for name, ms in self._current.items():
            self._stages.setdefault(name, deque(maxlen=self._window)).append(ms)
        self.ticks += 1
        if busy > self.frame_period_s:
            self.deadline_misses += 1
        if dropped_total is not None:
            self._drops.append(max(0, dropped_total - self.dropped_frames))
            self.dropped_frames = dropped_total
        else:
            self._drops.append(0)
        self.last_tick_wall = time.monotonic()
        return busy

    def summary(self) -> LoopStats:
        periods = np.asarray(self._periods, dtype=float)
        fps = float(1.0 / periods.mean()) if periods.size else 0.0
        return LoopStats(
            fps=round(fps, 2),
            period_ms=round(float(np.median(periods)) * 1000, 3) if periods.size else 0.0,
            jitter_ms=round(float(periods.std()) * 1000, 3) if periods.size > 1 else 0.0,
            frames=self.ticks,
            dropped_frames=self.dropped_frames,
            deadline_misses=self.deadline_misses,
            stage_ms={k: round(float(np.median(v)), 3) for k, v in self._stages.items() if v},
        )

    def periods_ms(self) -> np.ndarray:
        return np.asarray(self._periods, dtype=float) * 1000

    def stage_samples_ms(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v, dtype=float) for k, v in self._stages.items()}

    def periods_without_drop_ms(self) -> np.ndarray:
        """Loop periods that ended at a tick whose frame followed the previous one directly (no frame
        dropped in between): the loop's own timing jitter, apart from the drops."""
        periods = np.asarray(self._periods, dtype=float) * 1000
        drops = np.asarray(self._drops, dtype=int)[-len(periods):] if len(periods) else np.zeros(0, int)
        return periods[drops == 0] if len(drops) == len(periods) else periods

    def busy_ms(self) -> np.ndarray:
        return np.asarray(self._busy, dtype=float) * 1000


class _StageTimer:
    __slots__ = ("_monitor", "_name", "_t0")

    def __init__(self, monitor: LoopMonitor, name: str):
        self._monitor = monitor
        self._name = name
        self._t0 = 0.0

    def __enter__(self) -> None:
        self._t0 = time.perf_counter()

    def __exit__(self, *exc) -> None:
        self._monitor.stage(self._name, (time.perf_counter() - self._t0) * 1000)


# ---- stage faults --------------------------------------------------------------------------

STAGE_FAULT_HOLD_S = 1.0  # cues stay paused this long after a stage's last failure
STAGE_GIVE_UP_S = 10.0  # a stage failing on every frame this long ends the loop (systemd restarts it)
STAGE_GIVE_UP_MIN_FAILURES = 10  # ... and at least this many times in a row (not two failures a stall apart)


class _StageFault:
    __slots__ = ("stage", "failures", "kinds", "last_error", "last_wall", "run_since", "run_failures", "kept_running")

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.failures = 0  # since the start
        self.kinds: dict[str, int] = {}  # exception type -> failures
        self.last_error = ""
        self.last_wall = 0.0
        self.run_since: float | None = None  # first failure of the current run (None: it works now)
        self.run_failures = 0
        self.kept_running = False  # gave up once already: the appliance goes on without it


class StageFaults:
    """Failures of the loop's stages (pose, feet, gait, coach, record, outputs): counted per stage
    and per kind, each kind logged once (by the loop), the current run of failures timed so that a
    stage failing on every frame for ``give_up_s`` can end the loop. Written by the loop thread,
    read by any (a lock around the few numbers)."""

    def __init__(self, give_up_s: float | None = None, hold_s: float | None = None,
                 min_failures: int | None = None, clock: Callable[[], float] = time.monotonic):
        self.give_up_s = STAGE_GIVE_UP_S if give_up_s is None else give_up_s
        self.hold_s = STAGE_FAULT_HOLD_S if hold_s is None else hold_s
        self.min_failures = STAGE_GIVE_UP_MIN_FAILURES if min_failures is None else min_failures
        self._clock = clock
        self._faults: dict[str, _StageFault] = {}
        self._lock = threading.Lock()
        self.cues_paused = 0  # cue events neither played nor recorded while a stage failed

    def failed(self, stage: str, err: BaseException) -> bool:
        """Count a failure; True when it is the first of its kind for that stage (to be logged)."""
        now = self._clock()
        kind = type(err).__name__
        with self._lock:
            f = self._faults.get(stage)
            if f is None:
                f = self._faults[stage] = _StageFault(stage)
            first = kind not in f.kinds
            f.kinds[kind] = f.kinds.get(kind, 0) + 1
            f.failures += 1
            f.last_error = f"{kind}: {err}"[:300]
            f.last_wall = now
            if f.run_since is None:
                f.run_since = now
                f.run_failures = 0
            f.run_failures += 1
        return first

    def succeeded(self, stage: str) -> int:
        """The stage worked on this frame; returns the length of the run of failures it ends (0: none)."""
        f = self._faults.get(stage)
        if f is None or f.run_since is None:
            return 0
        with self._lock:
            ended = f.run_failures
            f.run_since = None
            f.run_failures = 0
            f.kept_running = False
        return ended

    def active(self, now: float | None = None) -> bool:
        """A stage failed within ``hold_s``, or is failing now: cues are paused."""
        now = self._clock() if now is None else now
        return any(f.run_since is not None or now - f.last_wall < self.hold_s for f in self._faults.values())

    def failing_too_long(self, now: float | None = None) -> _StageFault | None:
        """A stage that has failed on every frame for ``give_up_s`` (and not already been let run on)."""
        now = self._clock() if now is None else now
        for f in self._faults.values():
            if (f.run_since is not None and not f.kept_running and f.run_failures >= self.min_failures
                    and now - f.run_since >= self.give_up_s):
                return f
        return None

    def keep_running(self, stage: str) -> None:
        """Do not give up on ``stage`` again while this run of failures lasts."""
        with self._lock:
            self._faults[stage].kept_running = True

    def report(self, now: float | None = None) -> list[StageFault]:
        now = self._clock() if now is None else now
        with self._lock:
            return [StageFault(stage=f.stage, failures=f.failures, kinds=dict(f.kinds), last_error=f.last_error,
                               seconds_since_last=round(now - f.last_wall, 1),
                               failing_for_s=None if f.run_since is None else round(now - f.run_since, 1),
                               kept_running=f.kept_running)
                    for f in self._faults.values()]

    def sentence(self, now: float | None = None) -> str | None:
        """One line for Live, Health and STATUS while a stage fails (or failed within ``hold_s``)."""
        now = self._clock() if now is None else now
        with self._lock:
            failing = [f for f in self._faults.values() if f.run_since is not None or now - f.last_wall < self.hold_s]
            if not failing:
                return None
            f = max(failing, key=lambda f: f.last_wall)
            if f.kept_running:
                return (f"the {f.stage} stage fails on every frame, also after a restart ({f.last_error}); "
                        "the appliance keeps running without it and gives no cues: change the setting that "
                        "causes it (Settings; it works again at once) or run appliance selftest")
            return (f"the {f.stage} stage fails ({f.last_error}; {f.failures} times since the start): "
                    "those frames are dropped and cues are paused")
