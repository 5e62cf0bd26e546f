"""Accuracy of the gait tracker against the simulated runner's exact truth (tests and bench/).

Runs a simulated recording through a fresh GaitTracker and pairs every tracker step with the truth
step whose contact it found, so figures like "IC timing error in frames" are computed one way
everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from appliance.gait import Calibration, GaitTracker
from appliance.sim import RunnerParams, SimulatedRunner, StepTruth
from appliance.types import Step

WARMUP_S = 2.0  # the first contacts, before the belt line and belt speed are measured


@dataclass
class Matched:
    """Tracker steps (final emissions) paired with the truth steps they found."""

    fps: float
    steps: list[Step]
    truth: list[StepTruth]
    pairs: list[tuple[Step, StepTruth]] = field(default_factory=list)
    missed: list[StepTruth] = field(default_factory=list)
    extra: list[Step] = field(default_factory=list)
    state: object = None

    def ic_error_frames(self) -> np.ndarray:
        return np.array([(s.t_ic - x.t_ic) * self.fps for s, x in self.pairs])

    def errors(self, metric: str, truth_metric: str | None = None) -> np.ndarray:
        tm = truth_metric or metric
        return np.array([getattr(s, metric) - getattr(x, tm) for s, x in self.pairs], dtype=float)


def track_simulation(duration_s: float = 40.0, fps: float = 30.0, calibration: Calibration | None = None,
            tolerance_frames: float = 3.0, **params) -> Matched:
    """Simulate, track, and pair each truth step (after the warm-up) with the tracker step within
    ``tolerance_frames`` (at least 40 ms) of its contact."""
    sim = SimulatedRunner(RunnerParams(**params))
    poses, truth = sim.poses(duration_s, fps)
    tracker = GaitTracker(calibration=calibration)
    latest: dict[int, Step] = {}
    for i, pose in enumerate(poses):
        for step in tracker.update(pose, i / fps, i):
            latest[step.index] = step
    steps = [latest[k] for k in sorted(latest)]
    start = params.get("stand_s", 0.0) + WARMUP_S
    end = truth[-1].t_ic if truth else 0.0
    truth = [x for x in truth if start <= x.t_ic <= end]
    steps_in = [s for s in steps if start - 0.1 <= s.t_ic <= end + 0.1]
    tol = max(tolerance_frames / fps, 0.04)
    m = Matched(fps, steps_in, truth, state=tracker.state)
    used: set[int] = set()
    for x in truth:
        cands = [s for s in steps_in if abs(s.t_ic - x.t_ic) <= tol and s.index not in used]
        if cands:
            best = min(cands, key=lambda s: abs(s.t_ic - x.t_ic))
            used.add(best.index)
            m.pairs.append((best, x))
        else:
            m.missed.append(x)
    m.extra = [s for s in steps_in if s.index not in used and start <= s.t_ic <= end]
    return m
