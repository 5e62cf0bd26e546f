"""Cost of the rear camera beside the side camera: the side pipeline's time per frame alone and with
the rear camera running on its own threads, side by side in one run.

The side pipeline (full pose engine, 2 threads, and the foot stage) runs over the same decoded
frames of a real clip twice per repeat, alternating: once alone, once while a ``RearCamera`` reads
another clip paced at its own frame rate (its own pose engine on one thread, and the frontal
tracker), as ``appliance run`` does with ``rear_camera.source``. The rear clip here is any real
clip: what is measured is the cost, not the measures. Prints the medians over ``--repeats``, the
ratio with / alone, the rear camera's time per frame and the rate it kept up.

    .venv/bin/python bench/frontal_cost.py [--side ../shared/data/phone_side_60fps.mp4] \\
        [--rear ../shared/data/treadmill_side_slowmo.mp4] [--frames 120] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from appliance.config import default_model_dir
from appliance.feet.stage import FootStage
from appliance.frontal.rear_camera import RearCamera
from appliance.pose.engine import PoseEngine
from appliance.sources.video import VideoFileSource

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


class TimedEngine:
    """A pose engine with its time per frame kept."""

    def __init__(self, engine: PoseEngine):
        self.engine, self.ms = engine, []

    def process(self, frame):
        t0 = time.perf_counter()
        out = self.engine.process(frame)
        self.ms.append((time.perf_counter() - t0) * 1000)
        return out


def side_ms(frames, model_dir: Path) -> float:
    """Median time per frame (ms) of the side pipeline (pose + foot stage) over ``frames``."""
    engine, stage, ms = PoseEngine(model_dir, threads=2), FootStage(), []
    for frame in frames:
        t0 = time.perf_counter()
        stage.update(frame, engine.process(frame))
        ms.append((time.perf_counter() - t0) * 1000)
    return float(np.median(ms[5:]))  # past the first frames' detector runs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=Path, default=SHARED / "phone_side_60fps.mp4")
    ap.add_argument("--rear", type=Path, default=SHARED / "treadmill_side_slowmo.mp4")
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model-dir", type=Path, default=default_model_dir())
    args = ap.parse_args()
    for clip in (args.side, args.rear):
        if not clip.exists():
            print(f"clip not found: {clip} (../shared/data is absent?)", file=sys.stderr)
            return 2
    source = VideoFileSource(args.side, realtime=False, max_frames=args.frames)
    frames = list(source)
    source.close()
    alone, with_rear, rear_ms, rear_fps = [], [], [], []
    for _ in range(args.repeats):
        alone.append(side_ms(frames, args.model_dir))
        engine = TimedEngine(PoseEngine(args.model_dir, threads=1))
        rear_source = VideoFileSource(args.rear, realtime=True)  # paced at the clip's own rate
        rear = RearCamera(rear_source, engine, view="rear").start()
        t0 = time.monotonic()
        with_rear.append(side_ms(frames, args.model_dir))
        seconds = time.monotonic() - t0
        rear.stop()
        rear_ms.append(float(np.median(engine.ms)) if engine.ms else float("nan"))
        rear_fps.append(rear.frames / seconds)
    a, w = float(np.median(alone)), float(np.median(with_rear))
    print(f"side pipeline (pose 2 threads + foot stage), {args.side.name}, {len(frames)} frames, "
          f"medians of {args.repeats} repeats:")
    print(f"  alone                 {a:7.2f} ms per frame")
    print(f"  with the rear camera  {w:7.2f} ms per frame  ({w / a:.2f}x)")
    print(f"rear camera ({args.rear.name} paced at its rate, pose 1 thread): {float(np.median(rear_ms)):.2f} ms per "
          f"frame, {float(np.median(rear_fps)):.1f} frames/s kept up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
