"""The frontal measures against the simulator's exact truth (appliance/sim/rear_view.py).

For each case (a runner's frontal plane, the rear camera's frame rate and landmark noise), runs
the frontal tracker over the simulated rear view, with the stances from the rear view alone and
joined with the side camera's contacts (the simulator's own, on the same clock), and prints per
measure: the steps matched, the median and 90th percentile of the per-step error, and the error
of the per-side median (what the session report and the coach's rolling median use).

    .venv/bin/python bench/frontal_sim_accuracy.py
    .venv/bin/python bench/frontal_sim_accuracy.py --fps 30 60 --noise 0.01 0.02 --seconds 40
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from appliance.sim.evaluate import track_rear_view
from appliance.sim.rear_view import FrontalParams, simulated_pair
from appliance.sim.runner import RunnerParams

MEASURES = ("pelvic_drop_deg", "hip_adduction_deg", "knee_fppa_deg", "foot_lateral_hw")
CASES = {
    "typical": FrontalParams(),
    "asymmetric": FrontalParams(pelvic_drop_deg=(8.0, 3.0), knee_valgus_deg=(12.0, 2.0), foot_lateral_hw=(0.1, 0.45)),
    "crossover": FrontalParams(pelvic_drop_deg=6.0, knee_valgus_deg=10.0, foot_lateral_hw=-0.15),
    "front view, off centre": FrontalParams(view="front", offset_m=0.25),
}


def evaluate(case: FrontalParams, fps: float, noise: float, seconds: float, joined: bool, seed: int) -> dict:
    """Per-step and per-side-median errors of one simulated run."""
    from dataclasses import replace

    rear = simulated_pair(RunnerParams(noise_leg_lengths=0.0, seed=seed), replace(case, noise_leg_lengths=noise, seed=seed))
    steps, truth = track_rear_view(rear, seconds, fps, joined)
    pairs = []
    for tr in truth[1:]:
        near = [s for s in steps if s.foot == tr.foot and abs(s.t_mid - 0.5 * (tr.t_ic + tr.t_to)) < 0.5 * (tr.t_to - tr.t_ic)]
        if near:
            pairs.append((tr, near[0]))
    out = {"matched": len(pairs), "truth": len(truth) - 1, "steps": len(steps),
           "swapped": sum(1 for s in steps if not any(s.foot == tr.foot and abs(s.t_mid - 0.5 * (tr.t_ic + tr.t_to)) < 0.5 * (tr.t_to - tr.t_ic) for tr in truth))}
    for m in MEASURES:
        err = np.array([getattr(s, m) - getattr(tr, m) for tr, s in pairs])
        side = [np.median([getattr(s, m) for tr, s in pairs if tr.foot == f]) - np.median([getattr(tr, m) for tr, s in pairs if tr.foot == f])
                for f in ("left", "right") if any(tr.foot == f for tr, _ in pairs)]
        out[m] = (float(np.median(err)), float(np.percentile(np.abs(err), 90)), float(np.max(np.abs(side))))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fps", type=float, nargs="+", default=[30.0])
    ap.add_argument("--noise", type=float, nargs="+", default=[0.01], help="landmark noise, leg lengths")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print("per measure: median per-step error / 90th percentile |error| / worst per-side median error")
    for name, case in CASES.items():
        for fps in args.fps:
            for noise in args.noise:
                for joined in (False, True):
                    r = evaluate(case, fps, noise, args.seconds, joined, args.seed)
                    how = "joined" if joined else "rear alone"
                    cols = "  ".join(f"{m.split('_')[0]}:{r[m][0]:+.2f}/{r[m][1]:.2f}/{r[m][2]:.2f}" for m in MEASURES)
                    print(f"{name:24s} {fps:4.0f} fps noise {noise:.3f} {how:10s} steps {r['matched']}/{r['truth']} "
                          f"(found {r['steps']}, unmatched {r['swapped']})  {cols}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
