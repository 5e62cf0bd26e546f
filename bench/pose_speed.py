"""Per-frame cost of our pose engine against mediapipe's solutions.pose and against the floor.

Measured in one run on the same clip and machine, alternating the two implementations over
``--repeats`` rounds and reporting medians, so that a busy machine slows both alike:
- ours: ``PoseEngine.process`` per frame (decoding excluded, as for the reference);
- reference: mediapipe 0.10.14 ``Pose.process`` per frame (its own venv, see reference_env.sh);
- floor: the bare landmark-model invoke on the same crops.
Also prints the breakdown per stage (decode, detect, pre-process, invoke, post-process, filter).

    .venv/bin/python bench/pose_speed.py [--threads N] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _reference import CLIP, require_clip, run_reference  # noqa: E402

from appliance.analysis import timing_summary, track_clip  # noqa: E402
from appliance.config import Settings  # noqa: E402
from appliance.pose.engine import STAGES, PoseEngine  # noqa: E402


def bare_invoke_ms(engine: PoseEngine, n: int = 300) -> float:
    """Median time of the landmark model's invoke alone, input already in place."""
    lm = engine._landmarker
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        lm.invoke()
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clip", type=Path, default=CLIP)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    clip = require_clip(args.clip)
    s = Settings().pose
    ours, ref, floor, breakdowns = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            engine = PoseEngine(s.model_dir, args.threads, s.min_detection_score, s.min_presence,
                                s.filter_min_cutoff, s.filter_beta)
            poses = track_clip(clip, engine, progress=False)
            per_frame = sum(poses.stage_ms[k] for k in STAGES)
            ours.append(float(np.median(per_frame)))
            breakdowns.append(timing_summary(poses.stage_ms))
            floor.append(bare_invoke_ms(engine))
            ref.append(float(np.median(run_reference(clip, Path(tmp) / f"ref{r}.npz")["ms"])))
            print(f"round {r + 1}: ours {ours[-1]:.2f} ms, reference {ref[-1]:.2f} ms, floor {floor[-1]:.2f} ms")
    o, m, f = np.median(ours), np.median(ref), np.median(floor)
    print(f"\nper frame (median of {args.repeats} rounds, threads={args.threads} for ours):")
    print(f"  ours       {o:7.2f} ms")
    print(f"  mediapipe  {m:7.2f} ms   ours/mediapipe = {o / m:.2f}  (must be < 1, aim <= 0.5)")
    print(f"  floor      {f:7.2f} ms   ours/floor     = {o / f:.2f}  (aim <= 1.3)")
    print("stage breakdown (last round, median ms per frame where the stage ran):")
    for stage in ("decode", *STAGES):
        b = breakdowns[-1][stage]
        print(f"  {stage:12s} {b.get('median_ms', 0):6.2f} ms  (runs {b['runs']})")


if __name__ == "__main__":
    main()
