"""Cost of the gait tracker per frame (budget: gait + coach <= 1 ms per frame).

Feeds a pre-generated simulated run (so only the tracker is timed) through a fresh GaitTracker,
repeats, and prints the median over repeats of the mean and the 99th percentile per frame.

    .venv/bin/python bench/gait_cost.py [--fps 30] [--seconds 60] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from appliance.gait import GaitTracker
from appliance.sim import RunnerParams, SimulatedRunner


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    poses, _ = SimulatedRunner(RunnerParams(noise_leg_lengths=0.01, swaps_per_min=6, seed=1)).poses(args.seconds, args.fps)
    means, p99s, steps = [], [], 0
    for _ in range(args.repeats):
        tracker = GaitTracker()
        per_frame = np.empty(len(poses))
        steps = 0
        for i, pose in enumerate(poses):
            t0 = time.perf_counter()
            steps += len(tracker.update(pose, i / args.fps, i))
            per_frame[i] = time.perf_counter() - t0
        means.append(per_frame.mean() * 1e3)
        p99s.append(np.percentile(per_frame, 99) * 1e3)
    print(f"gait tracker at {args.fps:g} fps, {len(poses)} frames, {steps} step emissions per run, {args.repeats} runs")
    print(f"mean per frame: {np.median(means):.3f} ms (median over runs)   p99: {np.median(p99s):.3f} ms   budget 1 ms")


if __name__ == "__main__":
    main()
