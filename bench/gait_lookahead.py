"""How long after a contact the gait tracker reports it: the look-ahead issue 3 bounds at 3 frames.

A step is first emitted when its contact is confirmed (the coach cues on that emission) and again,
re-timed, after its toe-off. This replays the simulated runner (a normal runner, a noisy one, one
with pose-model glitches and ghost legs, a shuffler) at 30, 120 and 240 fps through the live
tracker and prints, over all steps, the frames from the contact frame (the first frame at or after
the contact) to the frame of the first emission: median, 90th percentile, maximum and the share
beyond 3 frames. The contact is the simulation's true one (the nearest within 40 ms or 3 frames of
the step's final time; steps with none are counted apart as unmatched), and for ``--landmarks`` (a
real clip's landmarks, ``appliance analyze``'s landmarks.npz, thinned to every N-th frame as
asked) the step's final, re-timed ``frame_ic``. A negative figure is a step reported before the
contact it was finally given.

    .venv/bin/python bench/gait_lookahead.py [--seeds 2] [--landmarks DIR/landmarks.npz --every 1 4 10]
"""

from __future__ import annotations

import argparse
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from appliance.gait.tracker import GaitTracker
from appliance.sim.runner import RunnerParams, SimulatedRunner
from appliance.types import Pose

RUNNERS = {
    "runner, noise 1 %": {"noise_leg_lengths": 0.01},
    "runner, noise 3 %": {"noise_leg_lengths": 0.03},
    "noise 2 %, glitches 4/s, ghost legs": {"noise_leg_lengths": 0.02, "leg_glitches_per_s": 4.0,
                                            "ghost_legs_per_min": 30.0},
    "shuffler, noise 2 %": {"noise_leg_lengths": 0.02, "foot_lift_mps": 0.8, "cadence_spm": 160.0,
                            "speed_mps": 2.2},
}
FPS = (30.0, 120.0, 240.0)
LOOKAHEAD_BOUND_FRAMES = 3  # frames after a contact by which the live tracker must have reported it


def first_emissions(frames) -> list[tuple[int, int, float]]:
    """(frame index of the first emission, final ``frame_ic``, final ``t_ic``) of every step, over
    a stream of (pose or None, t, frame index)."""
    tracker = GaitTracker()
    emitted: dict[int, int] = {}
    final: dict[int, tuple[int, float]] = {}
    for pose, t, i in frames:
        for step in tracker.update(pose, t, i):
            emitted.setdefault(step.index, i)
            final[step.index] = (step.frame_ic, step.t_ic)
    return [(emitted[k], *final[k]) for k in sorted(emitted)]


def simulated(job: tuple[str, float, int]) -> tuple[np.ndarray, int]:
    """Frames from each true contact's frame (the first at or after it) to the first emission of
    its step, and the number of steps matching no true contact."""
    runner, fps, seed = job
    poses, truth = SimulatedRunner(RunnerParams(seed=400 + seed, **RUNNERS[runner])).poses(20.0, fps)
    true_ic = np.array([x.t_ic for x in truth])
    tol = max(3 / fps, 0.04)
    out, unmatched = [], 0
    for emitted, _, t_ic in first_emissions((p, i / fps, i) for i, p in enumerate(poses)):
        j = int(np.argmin(np.abs(true_ic - t_ic)))
        if abs(true_ic[j] - t_ic) <= tol:
            out.append(emitted - math.ceil(true_ic[j] * fps - 1e-9))
        else:
            unmatched += 1
    return np.asarray(out, dtype=np.float64), unmatched


def recorded(path: Path, every: int, time_scale: float, size: tuple[int, int]) -> np.ndarray:
    """Frames of the thinned stream from each step's final contact frame to its first emission."""
    d = np.load(path)
    t, lm = d["t"], d["landmarks"]
    lm = np.concatenate([lm, np.ones(lm.shape[:2] + (1,), lm.dtype)], axis=2)
    out = []
    for offset in range(every):
        idx = np.arange(offset, len(t), every)
        out += [(emitted - frame_ic) / every for emitted, frame_ic, _ in first_emissions(
            (Pose(float(t[i] * time_scale), int(i), lm[i].astype(np.float32), 1.0, size)
             if np.isfinite(lm[i, :, :2]).any() else None, float(t[i] * time_scale), int(i)) for i in idx)]
    return np.asarray(out, dtype=np.float64)


def row(name: str, lat: np.ndarray, unmatched: int | str = "") -> str:
    if lat.size == 0:
        return f"{name:48s} no steps"
    beyond = 100 * float(np.mean(lat > LOOKAHEAD_BOUND_FRAMES))
    return (f"{name:48s} {lat.size:6d} {np.median(lat):7.1f} {np.percentile(lat, 90):6.1f} {lat.max():6.1f}"
            f" {beyond:9.1f} {unmatched:>9}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--landmarks", type=Path, default=None, help="a clip's landmarks.npz (appliance analyze)")
    ap.add_argument("--every", type=int, nargs="+", default=[1, 4, 10], help="thinning of --landmarks")
    ap.add_argument("--time-scale", type=float, default=0.1, help="real s per clip s of --landmarks")
    ap.add_argument("--size", type=int, nargs=2, default=(480, 360), metavar=("W", "H"), help="image size of --landmarks")
    args = ap.parse_args()
    print(f"{'stream':48s} {'steps':>6s} {'median':>7s} {'p90':>6s} {'max':>6s} {'> 3 (%)':>9s} {'unmatched':>9s}  (frames)")
    jobs = [(r, f, s) for f in FPS for r in RUNNERS for s in range(args.seeds)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(simulated, jobs))
    for fps in FPS:
        for runner in RUNNERS:
            mine = [res for (r, f, _), res in zip(jobs, results, strict=True) if r == runner and f == fps]
            print(row(f"sim {fps:3.0f} fps, {runner}", np.concatenate([m[0] for m in mine]), sum(m[1] for m in mine)))
    if args.landmarks:
        name = args.landmarks.parent.name if args.landmarks.stem == "landmarks" else args.landmarks.stem
        for every in args.every:
            print(row(f"{name}, every {every}", recorded(args.landmarks, every, args.time_scale, tuple(args.size))))


if __name__ == "__main__":
    main()
