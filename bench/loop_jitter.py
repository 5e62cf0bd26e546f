"""Loop period jitter, dropped frames and per-stage time of ``appliance run`` on a replayed clip.

The clip is replayed at its own frame rate through the real runtime (capture thread keeping only
the newest frame, TFLite pose, gait, session, outputs, recorder), exactly as a camera would feed
it: when a tick takes longer than a frame period, frames are dropped, never queued.

    .venv/bin/python bench/loop_jitter.py [CLIP] [--repeats 3] [--threads 4] [--replay realtime|fast]

Prints, per repeat and as the median over repeats: the loop period (median, p95, standard deviation
= jitter), ticks, dropped frames, deadline misses, and each stage's median and p95 time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = REPO.parent / "shared" / "data" / "treadmill_side_slowmo.mp4"


def one_run(clip: Path, threads: int | None, replay: str) -> dict:
    from appliance.config import Settings
    from appliance.runtime.app import RunOptions, Runtime

    settings = Settings()
    if threads:
        settings.pose.threads = threads
    settings.audio.sink = "null"
    settings.gpio.pin_factory = "mock"
    settings.button.enabled = False
    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime(settings, RunOptions(source=f"video:{clip}", data_dir=Path(tmp), replay=replay, panel=False,
                                          stats_window=1_000_000))
        rt.start()
        t0 = time.monotonic()
        try:
            rt.loop.finished.wait()
        finally:
            wall = time.monotonic() - t0
            loop = rt.loop
            monitor = loop.monitor
            periods = monitor.periods_ms()
            stages = monitor.stage_samples_ms()
            result = {
                "frames_in": rt.capture.frames_in,
                "ticks": monitor.ticks,
                "dropped": rt.capture.dropped,
                "misses": monitor.deadline_misses,
                "period_median_ms": float(np.median(periods)),
                "period_p95_ms": float(np.percentile(periods, 95)),
                "jitter_ms": float(np.std(periods)),
                "jitter_no_drop_ms": float(np.std(monitor.periods_without_drop_ms())),
                "frame_period_ms": monitor.frame_period_s * 1000,
                "busy_median_ms": float(np.median(monitor.busy_ms())),
                "stages": {k: (float(np.median(v)), float(np.percentile(v, 95))) for k, v in stages.items()},
                "wall_s": wall,
            }
            rt.shutdown()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clip", nargs="?", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="inference threads (default pose.threads)")
    ap.add_argument("--replay", choices=("realtime", "fast"), default="realtime")
    args = ap.parse_args()
    if not args.clip.is_file():
        print(f"clip not found: {args.clip} (../shared/data is absent?)", file=sys.stderr)
        return 2
    import logging

    logging.basicConfig(level=logging.WARNING)
    print(f"clip {args.clip.name}, replay {args.replay}, {os.cpu_count()} CPUs, {args.repeats} repeats")
    runs = []
    for i in range(args.repeats):
        r = one_run(args.clip, args.threads, args.replay)
        runs.append(r)
        stages = ", ".join(f"{k} {m:.2f}/{p:.2f}" for k, (m, p) in r["stages"].items())
        print(f"run {i + 1}: {r['ticks']} ticks of {r['frames_in']} frames in {r['wall_s']:.1f} s; "
              f"period median {r['period_median_ms']:.2f} ms (frame period {r['frame_period_ms']:.2f}), "
              f"p95 {r['period_p95_ms']:.2f}, jitter (std) {r['jitter_ms']:.2f} ms "
              f"({r['jitter_no_drop_ms']:.2f} ms between undropped frames); dropped {r['dropped']}, "
              f"deadline misses {r['misses']}; busy median {r['busy_median_ms']:.2f} ms; stage ms median/p95: {stages}")

    def med(key):
        return statistics.median(r[key] for r in runs)

    print(f"median over {len(runs)} runs: loop period {med('period_median_ms'):.2f} ms, p95 {med('period_p95_ms'):.2f} ms, "
          f"jitter {med('jitter_ms'):.2f} ms ({med('jitter_no_drop_ms'):.2f} ms between undropped frames), dropped {med('dropped'):.0f} of {med('frames_in'):.0f} frames "
          f"({100 * med('dropped') / max(med('frames_in'), 1):.1f} %), deadline misses {med('misses'):.0f}")
    for stage in runs[0]["stages"]:
        m = statistics.median(r["stages"][stage][0] for r in runs if stage in r["stages"])
        p = statistics.median(r["stages"][stage][1] for r in runs if stage in r["stages"])
        print(f"  {stage:8s} median {m:7.3f} ms   p95 {p:7.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
