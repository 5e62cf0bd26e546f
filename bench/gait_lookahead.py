"""How long after a contact the gait tracker reports it: the look-ahead issue 3 bounds at 3 frames.

A step is emitted when its contact is confirmed; the cue for the next step depends on that being
quick. This replays the simulated runner (a normal runner, a noisy one, one with pose-model glitches
and ghost legs, a shuffler) at 30, 120 and 240 fps through the live tracker and prints, over all
first emissions, the frames between the contact frame (``frame_ic``) and the frame that emitted
it: median, 90th percentile, maximum and the share beyond 3 frames. ``--landmarks`` adds a real
clip's landmarks (``appliance analyze``'s landmarks.npz), thinned to every N-th frame as asked.

    .venv/bin/python bench/gait_lookahead.py [--seeds 2] [--landmarks DIR/landmarks.npz --every 1 4 10]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from appliance.gait.tracker import MAX_LOOKAHEAD_FRAMES, GaitTracker
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


def lookahead_frames(frames) -> np.ndarray:
    """Frames from each step's contact frame to the frame that first emitted it, over a stream of
    (pose or None, t, frame index)."""
    tracker = GaitTracker()
    out = []
    for pose, t, i in frames:
        for step in tracker.update(pose, t, i):
            if not step.final:
                out.append(i - step.frame_ic)
    return np.asarray(out, dtype=np.float64)


def simulated(job: tuple[str, float, int]) -> np.ndarray:
    runner, fps, seed = job
    poses, _ = SimulatedRunner(RunnerParams(seed=400 + seed, **RUNNERS[runner])).poses(20.0, fps)
    return lookahead_frames((p, i / fps, i) for i, p in enumerate(poses))


def recorded(path: Path, every: int, time_scale: float, size: tuple[int, int]) -> np.ndarray:
    d = np.load(path)
    t, lm = d["t"], d["landmarks"]
    lm = np.concatenate([lm, np.ones(lm.shape[:2] + (1,), lm.dtype)], axis=2)
    out = []
    for offset in range(every):
        idx = np.arange(offset, len(t), every)
        out.append(lookahead_frames(
            (Pose(float(t[i] * time_scale), int(i), lm[i].astype(np.float32), 1.0, size)
             if np.isfinite(lm[i, :, :2]).any() else None, float(t[i] * time_scale), int(i)) for i in idx))
    # Frame indices are the clip's: count in frames of the thinned stream.
    return np.concatenate(out) / every


def row(name: str, lat: np.ndarray) -> str:
    if lat.size == 0:
        return f"{name:48s} no steps"
    beyond = 100 * float(np.mean(lat > MAX_LOOKAHEAD_FRAMES))
    return (f"{name:48s} {lat.size:6d} {np.median(lat):7.1f} {np.percentile(lat, 90):6.1f} {lat.max():6.1f}"
            f" {beyond:9.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--landmarks", type=Path, default=None, help="a clip's landmarks.npz (appliance analyze)")
    ap.add_argument("--every", type=int, nargs="+", default=[1, 4, 10], help="thinning of --landmarks")
    ap.add_argument("--time-scale", type=float, default=0.1, help="real s per clip s of --landmarks")
    ap.add_argument("--size", type=int, nargs=2, default=(480, 360), metavar=("W", "H"), help="image size of --landmarks")
    args = ap.parse_args()
    print(f"{'stream':48s} {'steps':>6s} {'median':>7s} {'p90':>6s} {'max':>6s} {'> 3 (%)':>9s}  (frames)")
    jobs = [(r, f, s) for f in FPS for r in RUNNERS for s in range(args.seeds)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(simulated, jobs))
    for fps in FPS:
        for runner in RUNNERS:
            lat = np.concatenate([res for (r, f, _), res in zip(jobs, results, strict=True) if r == runner and f == fps])
            print(row(f"sim {fps:3.0f} fps, {runner}", lat))
    if args.landmarks:
        name = args.landmarks.parent.name if args.landmarks.stem == "landmarks" else args.landmarks.stem
        for every in args.every:
            print(row(f"{name}, every {every}",
                      recorded(args.landmarks, every, args.time_scale, tuple(args.size))))


if __name__ == "__main__":
    main()
