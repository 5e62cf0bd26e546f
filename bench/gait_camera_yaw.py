"""How far off square-on may the camera be? Gait figures on the simulated runner seen with a yawed camera.

The mounting guide asks for a camera square to the belt (hardware/mounting.md). This bench turns the
simulated camera away from square-on towards the runner's front (``RunnerParams.yaw_deg``;
orthographic, so forward distances shrink by cos(yaw) and the near and far leg stand apart by
sin(yaw) times the hip width) and prints what the tracker then measures against the sagittal truth:
contacts, timing, foot identity, and the strike and overstride figures a clinician reads. Landmark
noise 1 % of leg length, 60 s runs, figures are medians over the seeds.

    .venv/bin/python bench/gait_camera_yaw.py [--fps 60] [--seeds 3] [--yaw 0 10 20 30 45]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gait_sim_accuracy import run  # noqa: E402

SHOWN = ("missed %", "extra %", "IC |err| median (frames)", "IC |err| p95 (frames)", "wrong foot %",
         "cadence |err| median (spm)", "strike correct %", "FSA error median (deg)", "shank error median (deg)",
         "knee error median (deg)", "heel-hip error median (LL)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fps", type=float, default=60.0)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--yaw", type=float, nargs="+", default=[0.0, 10.0, 20.0, 30.0, 45.0])
    args = ap.parse_args()
    for label, strike in (("rearfoot 14 deg, overstride 0.20 LL, shank ~4 deg", 14.0),
                          ("forefoot -8 deg, overstride 0.20 LL, shank ~3 deg", -8.0)):
        print(f"\n=== {label}; {args.fps:g} fps, yaw from square-on (deg) across")
        results = {yaw: run(args.fps, args.seeds, strike_angle_deg=strike, yaw_deg=yaw) for yaw in args.yaw}
        print(f"{'':28s}" + "".join(f"{y:>9g}" for y in results))
        for k in SHOWN:
            print(f"{k:28s}" + "".join(f"{r[k]:9.2f}" for r in results.values()))


if __name__ == "__main__":
    main()
