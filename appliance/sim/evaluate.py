"""Accuracy of the gait tracker against the simulated runner's exact truth (tests and bench/).

Runs a simulated recording through a fresh GaitTracker and pairs every tracker step with the truth
step whose contact it found, so figures like "IC timing error in frames" are computed one way
everywhere; ``track_rear_view`` runs the frontal tracker over the runner's rear view the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from appliance.frontal.tracker import FrontalStep, FrontalTracker
from appliance.gait import Calibration, GaitTracker
from appliance.sim import RunnerParams, SimulatedRunner, StepTruth
from appliance.sim.rear_view import FrontalTruth, RearView
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


def track_rear_view(rear: RearView, seconds: float, fps: float, joined: bool) -> tuple[list[FrontalStep], list[FrontalTruth]]:
    """The frontal tracker's steps over ``seconds`` of the rear view at ``fps``, with the truth;
    ``joined``: stances from the side runner's contacts (as with both cameras), else the rear view's own."""
    poses, truth = rear.poses(seconds, fps)
    tracker = FrontalTracker(view=rear.params.view)
    if joined:
        for c in rear.runner._contacts:
            tracker.add_contact(c.foot, c.t_ic, c.t_to)
    steps: list[FrontalStep] = []
    for i, pose in enumerate(poses):
        steps += tracker.update(pose.landmarks if pose is not None else None, i / fps)
    return steps, truth
