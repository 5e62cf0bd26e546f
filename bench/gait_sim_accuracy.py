"""Gait tracker accuracy on the simulated runner: the figures issue 3 asks for, printed.

Landmark noise 1 % of leg length (per coordinate), 60 s runs, several seeds; figures are medians
over the seeds of each run's statistic.

    .venv/bin/python bench/gait_sim_accuracy.py [--seeds 3] [--fps 30]
"""

from __future__ import annotations

import argparse

import numpy as np

from appliance.sim.evaluate import track_simulation


def run(fps: float, seeds: int, **params) -> dict[str, float]:
    """One scenario's figures: each seed's statistic, then the median over the seeds."""
    rows = []
    for seed in range(seeds):
        m = track_simulation(60.0, fps, noise_leg_lengths=0.01, seed=100 + seed, **params)
        ic = np.abs(m.ic_error_frames())
        true_cad = m.truth[-1].cadence_spm
        rolling = np.array([s.cadence_spm for s, _ in m.pairs[20:]])
        shank = m.errors("shank_angle_deg")
        valid = [(s, x) for s, x in m.pairs if s.valid and s.final]
        contact = np.abs([(s.contact_time_s - x.contact_time_s) * fps for s, x in valid])
        rows.append({
            "steps": len(m.truth),
            "missed %": 100 * len(m.missed) / len(m.truth),
            "extra %": 100 * len(m.extra) / len(m.truth),
            "IC |err| median (frames)": np.median(ic),
            "IC |err| p95 (frames)": np.percentile(ic, 95),
            "cadence |err| median (spm)": np.median(np.abs(rolling - true_cad)),
            "cadence |err| p95 (spm)": np.percentile(np.abs(rolling - true_cad), 95),
            "strike correct %": 100 * np.mean([s.strike == x.strike for s, x in m.pairs]),
            "FSA error median (deg)": np.median(m.errors("foot_strike_angle_deg", "strike_angle_deg")),
            "shank error median (deg)": np.median(shank),
            "shank |err| median (deg)": np.median(np.abs(shank)),
            "knee error median (deg)": np.median(m.errors("knee_flexion_deg")),
            "heel-hip error median (LL)": np.median(m.errors("heel_to_hip_leg_lengths")),
            "wrong foot %": 100 * np.mean([s.foot != x.foot for s, x in m.pairs]),
            "valid with TO %": 100 * len(valid) / len(m.truth),
            "contact |err| med (frames)": np.median(contact),
            "contact |err| > 3 frames %": 100 * np.mean(contact > 3),
        })
    return {k: float(np.median([r[k] for r in rows])) for k in rows[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--fps", type=float, nargs="+", default=[30.0])
    args = ap.parse_args()
    scenarios = {
        "rearfoot 14 deg": {"strike_angle_deg": 14.0},
        "midfoot 3.2 deg": {"strike_angle_deg": 3.2},
        "forefoot -8 deg": {"strike_angle_deg": -8.0},
        "rear 14 +150/s": {"strike_angle_deg": 14.0, "terminal_swing_rotation_dps": 150.0},
        "mid 3.2 +300/s": {"strike_angle_deg": 3.2, "terminal_swing_rotation_dps": 300.0},
        "fore -8 +500/s": {"strike_angle_deg": -8.0, "terminal_swing_rotation_dps": 500.0},
        "swaps 20/min": {"swaps_per_min": 20.0},
        "facing left, roll 3 deg": {"direction": "left", "roll_deg": 3.0},
        "dropouts 5 %": {"dropout_fraction": 0.05},
        "ghost legs 2/s": {"ghost_legs_per_min": 120.0},
        "stance lost 1/2 steps": {"stance_loss_fraction": 0.5},
    }
    for fps in args.fps:
        print(f"\n=== {fps:g} fps, noise 1 % of leg length, 60 s x {args.seeds} seeds (medians over seeds)")
        results = {name: run(fps, args.seeds, **p) for name, p in scenarios.items()}
        keys = list(next(iter(results.values())))
        print(f"{'':28s}" + "".join(f"{n[:15]:>16s}" for n in results))
        for k in keys:
            print(f"{k:28s}" + "".join(f"{r[k]:16.2f}" for r in results.values()))


if __name__ == "__main__":
    main()
