"""Cost of BlazePose GHUM heavy against full, per landmark invoke, on the same crops of a real clip.

The pose engine tracks the phone clip with full; every ``--every``-th frame is kept with the region
full used for it (``PoseEngine.last_roi``). Both landmark models then run on those same crops,
interleaved frame by frame (full, heavy, full, heavy, ...) so that a busy machine slows both alike,
for ``--repeats`` rounds at each thread count. Reported per model and thread count: the median of
the rounds' median invoke times, and for heavy also the whole per-frame look (crop, invoke,
heatmap refinement, projection: ``HeavyPose.landmarks``), which is what one contact costs when the
gait stage reads one frame. From that: how many contacts per second heavy can read on one core
(threads=1: the spare core the control loop leaves on the Pi), against about 3 per second at a
running cadence of 170-180 steps/min.

    .venv/bin/python bench/pose_heavy_cost.py [--repeats 5] [--every 8] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from appliance.config import Settings
from appliance.pose.engine import LandmarkModel, PoseEngine
from appliance.pose.heavy import HeavyPose
from appliance.pose.model_files import LANDMARKER_FULL, ModelError, verify_heavy, verify_model_dir
from appliance.pose.runtime import runtime_name
from appliance.sources.video import VideoFileSource

PHONE_CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "phone_side_60fps.mp4"
CONTACTS_PER_SECOND_NEEDED = 3.0  # 170-180 steps/min


def tracked_crops(clip: Path, model_dir: Path, every: int) -> list[tuple[np.ndarray, object]]:
    """(image, region full used) for every ``every``-th frame of ``clip`` tracked by the engine."""
    engine = PoseEngine(model_dir, threads=2)
    kept = []
    for frame in VideoFileSource(clip):
        pose = engine.process(frame)
        if pose is not None and frame.index % every == 0:
            kept.append((frame.image, engine.last_roi))
    return kept


def timed_ms(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def measure(crops, full_path: Path, model_dir: Path, threads: int, repeats: int) -> dict[str, float]:
    """Median over rounds of the per-round median ms: full invoke, heavy invoke, heavy whole look."""
    full = LandmarkModel(full_path, threads)
    heavy_model = LandmarkModel(verify_heavy(model_dir), threads)  # the bare invoke
    heavy = HeavyPose(model_dir, threads)  # the whole look, as the gait stage will call it
    for image, roi in crops[:2]:  # warm-up: first invokes allocate and pack weights
        full.set_input(image, roi)
        full.invoke()
        heavy.landmarks(image, roi)
    rounds: dict[str, list[float]] = {"full": [], "heavy": [], "heavy_look": []}
    for _ in range(repeats):
        samples: dict[str, list[float]] = {k: [] for k in rounds}
        for image, roi in crops:
            full.set_input(image, roi)
            samples["full"].append(timed_ms(full.invoke))
            heavy_model.set_input(image, roi)
            samples["heavy"].append(timed_ms(heavy_model.invoke))
            samples["heavy_look"].append(timed_ms(lambda image=image, roi=roi: heavy.landmarks(image, roi)))
        for k, v in samples.items():
            rounds[k].append(float(np.median(v)))
    return {k: float(np.median(v)) for k, v in rounds.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=PHONE_CLIP)
    ap.add_argument("--every", type=int, default=8, help="keep every N-th tracked frame (default 8: 49 frames)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    if not args.clip.is_file():
        sys.exit(f"clip not found: {args.clip} (../shared/data is needed for this benchmark)")
    model_dir = Settings().pose.model_dir
    try:
        full_path = verify_model_dir(model_dir)[LANDMARKER_FULL.name]
        verify_heavy(model_dir)
    except ModelError as e:
        sys.exit(str(e))
    crops = tracked_crops(args.clip, model_dir, args.every)
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, {runtime_name()}; {args.clip.name}: {len(crops)} crops "
          f"(every {args.every}th frame, regions from full's tracking), {args.repeats} rounds, median of round medians")
    print()
    print("threads   full invoke   heavy invoke   heavy/full   heavy look (crop+invoke+post)")
    results = {}
    for threads in args.threads:
        r = results[threads] = measure(crops, full_path, model_dir, threads, args.repeats)
        print(f"{threads:7d}   {r['full']:8.2f} ms   {r['heavy']:9.2f} ms   {r['heavy'] / r['full']:9.2f}x   {r['heavy_look']:8.2f} ms")
    print()
    one_core = results.get(1)
    if one_core is None:
        print("(run with --threads 1 for the one-core budget)")
        return
    per_second = 1000.0 / one_core["heavy_look"]
    print(f"heavy on one core: {per_second:.0f} looks/s, i.e. {per_second:.0f} contacts/s at one frame per contact, "
          f"{per_second / 3:.0f} at three; needed about {CONTACTS_PER_SECOND_NEEDED:g} contacts/s "
          f"({one_core['heavy_look'] * CONTACTS_PER_SECOND_NEEDED / 10:.1f} % of one core at one frame per contact)")


if __name__ == "__main__":
    main()
