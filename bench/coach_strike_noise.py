"""Strike cues on the simulated runner as landmark noise grows: step by step against the median of 5.

The coach judges the foot strike on the median angle of the last ``coach.strike_median_steps``
steps, and withholds strike cues while the foot's mid-stance angle wanders 10 deg or more between
steps (``coach.strike_max_spread_deg``). This prints what that does to the cues a runner gets with
a "midfoot" strike target (Altman & Davis: rearfoot above 8 deg): for a runner landing midfoot
(3 deg, every strike flash a false alarm) and one landing on the heel (14 deg, every flash
deserved), the share of feedback-on steps that flash the strip and the spoken cues, judged step by
step (``strike_median_steps`` 1) and on the median of 5, from the same tracked steps, plus the
median of the steps' ``strike_spread_deg`` and the share withheld as ``strike_unsteady``.

    .venv/bin/python bench/coach_strike_noise.py [--minutes 4] [--fps 30] [--seeds 2] [--workers 2]
"""

from __future__ import annotations

import argparse
import math
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from appliance.coach import Coach, SessionPlan, StrikeTarget, Targets
from appliance.config import CoachSettings
from appliance.gait.tracker import GaitTracker
from appliance.sim.runner import RunnerParams, SimulatedRunner
from appliance.types import Step

RUNNERS = {"midfoot runner (3 deg)": 3.0, "heel striker (14 deg)": 14.0}
NOISES = (0.01, 0.02, 0.03)
SETTINGS = CoachSettings(warmup_minutes=0.5, retention_minutes=0.5, min_block_minutes=0.5)


def contact_steps(strike_deg: float, noise: float, minutes: float, fps: float, seed: int) -> list[Step]:
    """The steps as the coach receives them: each one's first emission, at its contact."""
    sim = SimulatedRunner(RunnerParams(strike_angle_deg=strike_deg, noise_leg_lengths=noise, seed=seed))
    poses, _ = sim.poses(minutes * 60.0, fps)
    tracker = GaitTracker()
    first: dict[int, Step] = {}
    for i, pose in enumerate(poses):
        for step in tracker.update(pose, i / fps, i):
            first.setdefault(step.index, step)
    return [first[k] for k in sorted(first)]


def coach_strike(steps: list[Step], minutes: float, median_steps: int) -> tuple[int, int, int, int]:
    """(feedback-on steps, of which flashed for the strike, spoken strike cues, strike_unsteady) of a
    session that is all feedback after its warm-up."""
    settings = SETTINGS.model_copy(update={"strike_median_steps": median_steps})
    coach = Coach(SessionPlan(number=1, run_minutes=max(2.0, minutes), feedback_share=1.0),
                  Targets(cadence=None, strike=StrikeTarget(aim="midfoot")), settings)
    coach.start(steps[0].t_ic - 1e-3)
    on_steps = flashed = cues = unsteady = 0
    for step in steps:
        events = coach.on_step(step)
        block = coach.block
        if block is None or block.kind != "feedback_on":
            continue
        on_steps += 1
        for e in events:
            flashed += e.kind == "light_flag" and "strike" in e.payload["metrics"]
            cues += e.kind == "cue_given" and e.payload["metric"] == "strike"
            unsteady += e.kind == "cue_withheld" and e.payload["reason"] == "strike_unsteady"
    return on_steps, flashed, cues, unsteady


def run_one(job: tuple[float, float, float, float, int]) -> tuple[list[int], list[int], float]:
    strike, noise, minutes, fps, seed = job
    steps = contact_steps(strike, noise, minutes, fps, seed)
    spreads = [s.strike_spread_deg for s in steps if math.isfinite(s.strike_spread_deg)]
    return (list(coach_strike(steps, minutes, 1)), list(coach_strike(steps, minutes, 5)),
            float(np.median(spreads)) if spreads else float("nan"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=4.0)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    jobs = [(strike, noise, args.minutes, args.fps, 500 + s)
            for strike in RUNNERS.values() for noise in NOISES for s in range(args.seeds)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run_one, jobs))
    print(f"{args.minutes:g}-min sessions at {args.fps:g} fps, {args.seeds} seeds pooled; strike target midfoot "
          "(flash above 8 deg); per step = strike_median_steps 1, median 5 = the default")
    print(f"{'runner':24s} {'noise':>5s} {'steps':>6s} {'spread':>7s}  {'flashed % per step':>18s}"
          f" {'median 5':>8s}  {'cues per step':>13s} {'median 5':>8s}  {'unsteady %':>10s}")
    for name, strike in RUNNERS.items():
        for noise in NOISES:
            rows = [r for j, r in zip(jobs, results, strict=True) if j[0] == strike and j[1] == noise]
            one = np.sum([r[0] for r in rows], axis=0)
            five = np.sum([r[1] for r in rows], axis=0)
            spread = float(np.nanmedian([r[2] for r in rows]))
            print(f"{name:24s} {noise:5.2f} {one[0]:6d} {spread:7.1f}  {100 * one[1] / max(one[0], 1):18.1f}"
                  f" {100 * five[1] / max(five[0], 1):8.1f}  {one[2]:13d} {five[2]:8d}"
                  f"  {100 * five[3] / max(five[0], 1):10.1f}")


if __name__ == "__main__":
    main()
