"""Which gait tuning values matter? Each one scaled, on the simulated runner, across strike types.

Runs the simulated runner (appliance/sim/) through the live tracker with the default tuning
(appliance/gait/tuning.py) and with one value at a time scaled by each of ``--scales`` (default
x0.5, x0.75, x1.25, x1.5), for a rearfoot, a midfoot and a forefoot runner (the toe-first ones
still rotating toe-up into contact, as on the real clips) and a runner seen with the pose model's
errors (label swaps, ghost legs, glitches, dropouts, lost stance feet), and prints for each value the worst
change from the defaults over scales and runners in: the median |contact timing error| (frames),
the median |contact time error| of the valid steps (frames), strike-class agreement (%), and
missed and extra steps (% of the true steps). Values are sorted by how much they matter (the worst
run's frame errors plus a tenth of its percentage points); one that moves nothing at any scale is
a candidate for deletion.

    .venv/bin/python bench/gait_tuning_sweep.py [--fps 30] [--seconds 40] [--seeds 1] [--workers 2]
        [--noise 0.01] [--values tracker.noise_multiplier belt.stance_band ...] [--scales 0.5 0.75 1.25 1.5]

By default every float value of the sections that act on a simulated run is swept (the foot
stage's, which needs rendered pixels, are not).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields

import numpy as np

from appliance.gait import GaitTracker
from appliance.gait.tuning import GAIT_TUNING, GaitTuning
from appliance.sim import RunnerParams, SimulatedRunner

RUNNERS = {
    "rearfoot 14°": {"strike_angle_deg": 14.0},
    "midfoot 3.2° +300°/s": {"strike_angle_deg": 3.2, "terminal_swing_rotation_dps": 300.0},
    "forefoot -8° +500°/s": {"strike_angle_deg": -8.0, "terminal_swing_rotation_dps": 500.0},
    # The pose model's errors of real side views, which most guards are for.
    "rearfoot 10°, pose errors": {"strike_angle_deg": 10.0, "swaps_per_min": 20.0, "ghost_legs_per_min": 60.0,
                                  "leg_glitches_per_s": 2.0, "dropout_fraction": 0.03,
                                  "stance_loss_fraction": 0.3},
}
SCALES = (0.5, 0.75, 1.25, 1.5)
WARMUP_S = 2.0  # the first contacts, before the belt line and belt speed are measured
# Values that act on no run here: presence, standing, buffer sizes, the foot stage, a calibration.
SKIPPED = {"tracker.absent_s", "tracker.standing_contact_s", "tracker.history_s", "tracker.warm_up_s",
           "tracker.pixel_match_leg_lengths", "tracker.pixel_trust_steps", "facing.calibrated_vote",
           "calibration.max_ankle_spread"}
BOUNDED_UNITS = {"quantile", "correlation", "visibility", "confidence ×"}  # at most 1: larger scales are skipped


@dataclass(frozen=True)
class Accuracy:
    """One run's figures against the simulation's truth."""

    ic_error_frames: float  # median |contact time - true contact time|, frames
    contact_error_frames: float  # median |contact duration error| of valid final steps, frames
    strike_agreement: float  # % of matched steps with the true strike class
    missed: float  # % of true steps without a tracker step within 3 frames (>= 40 ms)
    extra: float  # % (of the true steps) of tracker steps matching no true step


def accuracy(tuning: GaitTuning, runner: dict, fps: float = 30.0, seconds: float = 40.0, seed: int = 0,
             noise: float = 0.01) -> Accuracy:
    """The tracker's accuracy with ``tuning`` on one simulated run of ``runner`` (RunnerParams)."""
    sim = SimulatedRunner(RunnerParams(seed=seed, noise_leg_lengths=noise, **runner))
    poses, truth = sim.poses(seconds, fps)
    tracker = GaitTracker(tuning=tuning)
    latest = {}
    for i, pose in enumerate(poses):
        for step in tracker.update(pose, i / fps, i):
            latest[step.index] = step
    end = truth[-1].t_ic
    truth = [x for x in truth if WARMUP_S <= x.t_ic <= end]
    steps = [s for s in latest.values() if WARMUP_S - 0.1 <= s.t_ic <= end + 0.1]
    tol = max(3 / fps, 0.04)
    used: set[int] = set()
    pairs = []
    for x in truth:
        near = [s for s in steps if abs(s.t_ic - x.t_ic) <= tol and s.index not in used]
        if near:
            best = min(near, key=lambda s: abs(s.t_ic - x.t_ic))
            used.add(best.index)
            pairs.append((best, x))
    extra = [s for s in steps if s.index not in used and WARMUP_S <= s.t_ic <= end]
    contact = [abs(s.contact_time_s - x.contact_time_s) * fps for s, x in pairs if s.valid and s.final]
    n = max(len(truth), 1)
    return Accuracy(
        ic_error_frames=float(np.median([abs(s.t_ic - x.t_ic) * fps for s, x in pairs])) if pairs else np.inf,
        contact_error_frames=float(np.median(contact)) if contact else np.inf,
        strike_agreement=100.0 * float(np.mean([s.strike == x.strike for s, x in pairs])) if pairs else 0.0,
        missed=100.0 * (len(truth) - len(pairs)) / n,
        extra=100.0 * len(extra) / n,
    )


def scalable(path: str, scale: float, tuning: GaitTuning = GAIT_TUNING) -> bool:
    """Whether ``path`` scaled by ``scale`` is a value it can take (a quantile stays <= 1)."""
    section, name = path.split(".")
    unit = next(f.metadata["unit"] for f in fields(getattr(tuning, section)) if f.name == name)
    return unit not in BOUNDED_UNITS or tuning.value(path) * scale <= 1.0


def swept_values(tuning: GaitTuning = GAIT_TUNING) -> list[str]:
    """Every float value (``section.name``) that acts on a simulated run."""
    out = []
    for section in fields(tuning):
        for f in fields(getattr(tuning, section.name)):
            path = f"{section.name}.{f.name}"
            if isinstance(tuning.value(path), float) and path not in SKIPPED:
                out.append(path)
    return out


def _run(job: tuple) -> tuple:
    path, scale, runner, fps, seconds, seed, noise = job
    tuning = GAIT_TUNING if path is None else GAIT_TUNING.replaced(path, GAIT_TUNING.value(path) * scale)
    return job[:6], accuracy(tuning, RUNNERS[runner], fps, seconds, seed, noise)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--noise", type=float, default=0.01, help="landmark noise, leg lengths (real clips: 0.02-0.04)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--values", nargs="+", default=None, help="section.name of the values to sweep (default: all)")
    ap.add_argument("--scales", type=float, nargs="+", default=list(SCALES))
    args = ap.parse_args()
    values = args.values or swept_values()
    seeds = range(args.seeds)
    jobs = [(None, 1.0, r, args.fps, args.seconds, s, args.noise) for r in RUNNERS for s in seeds]
    jobs += [(p, k, r, args.fps, args.seconds, s, args.noise)
             for p in values for k in args.scales if scalable(p, k) for r in RUNNERS for s in seeds]
    with ProcessPoolExecutor(args.workers) as pool:
        results = dict(pool.map(_run, jobs, chunksize=4))

    def mean(path, scale, runner, metric):
        return float(np.mean([getattr(results[(path, scale, runner, args.fps, args.seconds, s)], metric) for s in seeds]))

    metrics = ("ic_error_frames", "contact_error_frames", "strike_agreement", "missed", "extra")
    print(f"{args.fps:g} fps, {args.seconds:g} s x {args.seeds} seed(s), landmark noise {100 * args.noise:g} %; defaults:")
    for r in RUNNERS:
        print(f"  {r:28s}" + "  ".join(f"{m} {mean(None, 1.0, r, m):6.2f}" for m in metrics))
    print("\nworst loss against the defaults over scales x" + "/".join(f"{k:g}" for k in args.scales)
          + " and runners (IC, contact: frames; strike, missed, extra: percentage points)")
    print(f"{'value':40s}{'default':>9s}{'IC err':>8s}{'contact':>8s}{'strike':>8s}{'missed':>8s}{'extra':>8s}  worst at")
    rows = []
    for p in values:
        worst = dict.fromkeys(metrics, 0.0)
        at = ""
        score = 0.0
        for k in args.scales:
            if not scalable(p, k):
                continue
            for r in RUNNERS:
                d = {m: mean(p, k, r, m) - mean(None, 1.0, r, m) for m in metrics}
                d["strike_agreement"] = -d["strike_agreement"]  # a loss is positive, like the others
                s = d["ic_error_frames"] + d["contact_error_frames"] + (d["strike_agreement"] + d["missed"] + d["extra"]) / 10
                if s > score:
                    score, at = s, f"x{k:g} {r}"
                for m in metrics:
                    worst[m] = max(worst[m], d[m])
        rows.append((score, p, worst, at))
    for _, p, worst, at in sorted(rows, key=lambda row: -row[0]):
        print(f"{p:40s}{GAIT_TUNING.value(p):9.4g}" + "".join(f"{worst[m]:8.2f}" for m in metrics) + f"  {at}")


if __name__ == "__main__":
    main()
