"""Cost of the foot stage and of heavy's look per contact, against the per-frame pipeline.

On the same frames of a real clip, in one run: per frame the pose engine (full), the foot stage and
the gait tracker are timed separately, so the pipeline without the stage (pose + gait) and with it
(pose + feet + gait) are compared frame for frame; heavy's looks (ContactLooks, synchronous) are
timed per contact. Repeated ``--repeats`` times (fresh engine and stage each time); the figures
are medians over the repeats. Heavy runs on one thread, as on the Pi's spare core.

    .venv/bin/python bench/feet_cost.py [--clip ../shared/data/phone_side_60fps.mp4] [--frames 240]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from appliance.config import default_model_dir
from appliance.feet.looks import ContactLooks
from appliance.feet.stage import FootStage
from appliance.gait import GaitTracker
from appliance.pose.engine import PoseEngine
from appliance.pose.heavy import HeavyPose
from appliance.sources.video import VideoFileSource

REPO = Path(__file__).resolve().parents[1]
PI_FULL_BUDGET_MS = 25.0  # ARCHITECTURE.md: full on the tracked region, per frame, on the Pi 5


class TimedRunner:
    """Heavy, with its time per invoke kept."""

    def __init__(self, heavy: HeavyPose):
        self.heavy, self.ms = heavy, []

    def landmarks(self, image, roi):
        t0 = time.perf_counter()
        out = self.heavy.landmarks(image, roi)
        self.ms.append((time.perf_counter() - t0) * 1000)
        return out


def one_run(frames, model_dir: Path, threads: int) -> dict:
    engine = PoseEngine(model_dir, threads=threads)
    heavy = TimedRunner(HeavyPose(model_dir, threads=1))
    stage, tracker, looks = FootStage(), GaitTracker(), ContactLooks(runner=heavy)
    ms = {k: [] for k in ("pose", "feet", "gait", "looks")}
    n_looks = 0
    for frame in frames:
        t0 = time.perf_counter()
        pose = engine.process(frame)
        t1 = time.perf_counter()
        evidence = stage.update(frame, pose)
        t2 = time.perf_counter()
        looks.add_frame(frame, engine.last_roi if pose is not None else None)
        for look in looks.results():
            tracker.apply_look(look)
            n_looks += 1
        t3 = time.perf_counter()
        for step in tracker.update(pose, frame.t, frame.index, evidence):
            if not step.final:
                looks.request(tracker.look_request(step))
        t4 = time.perf_counter()
        for k, v in zip(ms, (t1 - t0, t2 - t1, t4 - t3, t3 - t2), strict=True):
            ms[k].append(v * 1000)
    a = {k: np.asarray(v) for k, v in ms.items()}
    without, with_feet = a["pose"] + a["gait"], a["pose"] + a["feet"] + a["gait"]
    return {"pose": np.median(a["pose"]), "feet": np.median(a["feet"]), "gait": np.median(a["gait"]),
            "without": np.median(without), "with": np.median(with_feet), "ratio": np.median(with_feet) / np.median(without),
            "looks": n_looks, "look_ms": a["looks"].sum() / max(n_looks, 1),
            "invoke_ms": float(np.median(heavy.ms)) if heavy.ms else float("nan"),
            "frames_per_look": len(heavy.ms) / max(n_looks, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=REPO.parent / "shared" / "data" / "phone_side_60fps.mp4")
    ap.add_argument("--frames", type=int, default=240)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="threads of the per-frame model")
    ap.add_argument("--model-dir", type=Path, default=None)
    args = ap.parse_args()
    if not args.clip.is_file():
        print(f"not found: {args.clip}", file=sys.stderr)
        return 2
    model_dir = args.model_dir or default_model_dir()
    source = VideoFileSource(args.clip, realtime=False, max_frames=args.frames)
    frames = list(source)
    source.close()
    runs = [one_run(frames, model_dir, args.threads) for _ in range(args.repeats)]
    m = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
    print(f"{args.clip.name}: {len(frames)} frames {frames[0].image.shape[1]}x{frames[0].image.shape[0]}, "
          f"{args.repeats} runs (medians), full on {args.threads} threads, heavy on 1")
    print(f"  per frame: pose {m['pose']:.2f} ms, foot stage {m['feet']:.2f} ms, gait {m['gait']:.3f} ms")
    print(f"  pipeline without the foot stage {m['without']:.2f} ms, with it {m['with']:.2f} ms: "
          f"{m['ratio']:.2f}x (aim <= 1.3x)")
    print(f"  heavy: {m['looks']:.0f} looks, {m['frames_per_look']:.1f} frames each, {m['invoke_ms']:.1f} ms per invoke, "
          f"{m['look_ms']:.0f} ms per look: {1000 / m['look_ms']:.1f} looks/s on one core")
    pi_frame = PI_FULL_BUDGET_MS * m["ratio"]
    pi_look = m["look_ms"] * PI_FULL_BUDGET_MS / m["pose"]
    print(f"  Pi 5 by ratio from the {PI_FULL_BUDGET_MS:g} ms budget of full (not measured on a Pi): "
          f"loop {1000 / pi_frame:.0f} fps, heavy {pi_look:.0f} ms per look, {1000 / pi_look:.1f} looks/s per spare core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
