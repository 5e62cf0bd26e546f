"""The foot stage on the pixel test bed: rendered treadmill scenes with exact truth.

For each frame rate and strike type, renders a runner (appliance/sim/treadmill_pixels.py) and runs
the foot stage over it; prints, per event (touch, lock, release), how many of the true events have
a detected one within 2 frames, the extra ones, and the median and 90th percentile of the timing
error in frames; and the stage's cost per frame (median, ms).

    .venv/bin/python bench/feet_pixel_bed.py
    .venv/bin/python bench/feet_pixel_bed.py --fps 30 120 --strikes heel toe --steps 40
    .venv/bin/python bench/feet_pixel_bed.py --arrest-s 0   # the old landings: no arrest after touch
    .venv/bin/python bench/feet_pixel_bed.py --steps 202    # the issue's 200 steps (after 2 of warm-up)

The first ``--warm-up`` steps (2) are not counted: the belt's velocity is learned from the first
stance foot, so the first landings have nothing to be measured against.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from appliance.feet.stage import FootStage
from appliance.sim.treadmill_pixels import PixelScene, TreadmillRender

MATCH_FRAMES = 2.0


def run(fps: float, strike: str, steps: int, seed: int, arrest_s: float | None = None, warm_up: int = 0) -> dict:
    """Events found against the truth for one rendered run; the first ``warm_up`` steps (and what
    is found before them) are not counted."""
    render = TreadmillRender(PixelScene(fps=fps, strike=strike, seed=seed, arrest_s=arrest_s), steps)
    stage = FootStage()
    found: dict[str, list[float]] = {"touch": [], "lock": [], "release": []}
    cost = []
    for frame, pose in render.frames():
        t0 = time.perf_counter()
        evidence = stage.update(frame, pose)
        cost.append(time.perf_counter() - t0)
        for e in evidence.events:
            found[e.kind].append(e.t)
    counted = render.truth[warm_up:]
    truth = {"touch": [s.t_touch for s in counted], "lock": [s.t_lock for s in counted],
             "release": [s.t_release for s in counted]}
    t0 = counted[0].t_touch - MATCH_FRAMES / fps if counted else np.inf
    found = {kind: [t for t in times if t >= t0] for kind, times in found.items()}
    out = {"cost_ms": 1000 * float(np.median(cost))}
    for kind, true_times in truth.items():
        errors, used = [], set()
        for tt in true_times:
            near = [(abs(f - tt), i) for i, f in enumerate(found[kind]) if i not in used]
            d, i = min(near, default=(np.inf, -1))
            if d * fps <= MATCH_FRAMES:
                used.add(i)
                errors.append((found[kind][i] - tt) * fps)
        out[kind] = (len(errors), len(true_times), len(found[kind]) - len(used), errors)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fps", type=float, nargs="+", default=[30.0, 60.0, 120.0])
    ap.add_argument("--strikes", nargs="+", default=["heel", "flat", "toe"])
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--warm-up", type=int, default=2,
                    help="steps not counted at the start: the belt's velocity is learned from the first stance")
    ap.add_argument("--arrest-s", type=float, default=None,
                    help="touch to the contact point carried by the belt (s); default: drawn per step, 0.05-0.13")
    args = ap.parse_args()
    print(f"{'fps':>5} {'strike':6} {'event':8} {'found':>7} {'extra':>5} {'median err':>10} {'p90 |err|':>9}  (frames)")
    for fps in args.fps:
        for strike in args.strikes:
            r = run(fps, strike, args.steps, args.seed, args.arrest_s, args.warm_up)
            for kind in ("touch", "lock", "release"):
                hit, total, extra, errors = r[kind]
                med = f"{np.median(errors):+.2f}" if errors else "-"
                p90 = f"{np.percentile(np.abs(errors), 90):.2f}" if errors else "-"
                print(f"{fps:5.0f} {strike:6} {kind:8} {hit:3d}/{total:<3d} {extra:5d} {med:>10} {p90:>9}")
            print(f"{fps:5.0f} {strike:6} cost     {r['cost_ms']:.2f} ms per frame")
    return 0


if __name__ == "__main__":
    sys.exit(main())
