"""Measure the One-Euro parameters for landmark filtering on real pose-model noise.

Reference trajectory: the slow-motion clip's unfiltered landmarks at full rate (one step ≈ 102
frames) smoothed with a zero-phase Gaussian (non-causal, so no lag) — a far better estimate of
where each joint really was than any single frame. Test stream: every 5th frame of the same
unfiltered track, i.e. what a ~60 fps camera delivers of that runner (the clip's real rate is
unknown; a typical 170 steps/min puts one step at 0.353 s, so ``--time-scale`` defaults to
0.353 s / (102 frames / 29.97 fps)). Each (min_cutoff, beta) pair filters the test stream causally,
and the benchmark prints its median error against the reference for the feet and knees, in % of leg
length, next to the unfiltered error. The best pair is the default in config.py.

    .venv/bin/python bench/filter_tuning.py [--decimate 5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _reference import CLIP, require_clip  # noqa: E402

from appliance.analysis import track_clip  # noqa: E402
from appliance.config import Settings  # noqa: E402
from appliance.pose.engine import PoseEngine  # noqa: E402
from appliance.pose.filter import LandmarkFilter  # noqa: E402

JOINTS = [25, 26, 27, 28, 29, 30, 31, 32]  # knees, ankles, heels, toes


def gaussian_smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    r = int(4 * sigma)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    pad = np.pad(x, ((r, r), (0, 0), (0, 0)), mode="edge")
    return np.apply_along_axis(lambda v: np.convolve(v, k, mode="valid"), 0, pad)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clip", type=Path, default=CLIP)
    ap.add_argument("--decimate", type=int, default=5)
    ap.add_argument("--time-scale", type=float, default=0.353 / (102 / 29.97))
    args = ap.parse_args()
    s = Settings().pose
    engine = PoseEngine(s.model_dir, 2, s.min_detection_score, s.min_presence, filter_min_cutoff=None)
    poses = track_clip(require_clip(args.clip), engine, progress=False)
    xy = poses.landmarks[:, :, :2].astype(np.float64)
    t = poses.t * args.time_scale
    reference = gaussian_smooth(xy, sigma=args.decimate / 2)
    leg = np.nanmedian(np.linalg.norm(xy[:, 23] - xy[:, 27], axis=1) + 0.0)
    body = leg * 2.5  # ROI side ≈ 2.5 leg lengths for a standing/running adult in BlazePose's crop
    idx = np.arange(0, len(t), args.decimate)
    fps = 1 / np.median(np.diff(t[idx]))

    def rms(track):
        """Median error in % of leg length over the joint-frames (robust to the model's
        occasional far-leg flips, which no filter can mend and which would dominate a mean)."""
        err = np.linalg.norm(track[:, JOINTS] - reference[idx][:, JOINTS], axis=-1)
        return float(np.nanmedian(err) / leg * 100)

    print(f"test stream: {len(idx)} frames at {fps:.0f} fps; leg length {leg:.0f} px")
    print(f"unfiltered: median error {rms(xy[idx]):.2f} % of leg length")
    results = []
    for min_cutoff in (1.0, 3.0, 8.0, 20.0, 40.0, 80.0):
        for beta in (0.0, 1.0, 5.0, 20.0, 50.0, 100.0, 300.0):
            f = LandmarkFilter(min_cutoff, beta)
            track = np.stack([f(xy[i], body, t[i]) for i in idx])
            results.append((rms(track), min_cutoff, beta))
    results.sort()
    print("best ten (median error, % of leg length, min_cutoff Hz, beta):")
    for e, mc, b in results[:10]:
        print(f"  {e:.2f} %  min_cutoff={mc}  beta={b}")
    f = LandmarkFilter(s.filter_min_cutoff, s.filter_beta)
    current = rms(np.stack([f(xy[i], body, t[i]) for i in idx]))
    print(f"configured default (min_cutoff={s.filter_min_cutoff}, beta={s.filter_beta}): {current:.2f} %")


if __name__ == "__main__":
    main()
