"""Our pose engine against the reference implementation (mediapipe 0.10.14 solutions.pose,
model_complexity=1) on the real clip.

Prints the share of frames with a pose and the share of lower-body landmark-frames (hips, knees,
ankles, heels, toes) within 2 % of image height of the reference, with both smoothed (the
reference's default; our One-Euro filter on) and both raw.

    .venv/bin/python bench/pose_accuracy.py [--clip PATH] [--threads N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _reference import CLIP, agreement, require_clip, run_reference  # noqa: E402

from appliance.analysis import track_clip  # noqa: E402
from appliance.config import Settings  # noqa: E402
from appliance.pose.engine import PoseEngine  # noqa: E402
from appliance.sources.video import VideoFileSource  # noqa: E402
from appliance.types import Frame  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clip", type=Path, default=CLIP)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    clip = require_clip(args.clip)
    s = Settings().pose
    with tempfile.TemporaryDirectory() as tmp:
        for label, smoothing in (("smoothed", True), ("raw", False)):
            ref = run_reference(clip, Path(tmp) / f"ref_{label}.npz", smoothing=smoothing)
            engine = PoseEngine(s.model_dir, args.threads, s.min_detection_score, s.min_presence,
                                s.filter_min_cutoff if smoothing else None, s.filter_beta)
            poses = track_clip(clip, engine, progress=False)
            ours = poses.landmarks[:, :, :4]
            pose_share = float(np.mean(~np.isnan(ours[:, 0, 0])))
            ref_share = float(np.mean(~np.isnan(ref["landmarks"][:, 0, 0])))
            a = agreement(ours, ref["landmarks"], poses.height)
            print(f"[{label}] frames {len(ours)}; pose on {pose_share:.1%} (reference {ref_share:.1%}); "
                  f"detector runs {poses.detector_runs}")
            print(f"[{label}] lower-body landmark-frames within 2 % of image height: {a['within_2pct']:.1%} "
                  f"(median {a['median_px']:.2f} px, p95 {a['p95_px']:.1f} px; mirrored pairing on "
                  f"{a['frames_mirrored']:.0%} of frames)")
            print(f"[{label}] per landmark: " + ", ".join(f"{k}: {v:.0%}" for k, v in a["per_landmark_within"].items()))
    # How stable is the model itself? Our engine against itself on the same clip brightened by one
    # grey level (invisible to a person): if this agreement is no better than the one above, the
    # remaining misses come from the model's sensitivity, not from the implementation.
    unfiltered = PoseEngine(s.model_dir, args.threads, s.min_detection_score, s.min_presence, None)
    base = track_clip(clip, unfiltered, progress=False).landmarks[:, :, :4]
    brightened = PoseEngine(s.model_dir, args.threads, s.min_detection_score, s.min_presence, None)
    shifted = []
    for frame in VideoFileSource(clip):
        img = np.minimum(frame.image.astype(np.int16) + 1, 255).astype(np.uint8)
        pose = brightened.process(Frame(frame.t, frame.index, img))
        shifted.append(pose.landmarks[:, :4] if pose else np.full((33, 4), np.nan, np.float32))
    a = agreement(np.stack(shifted), base, poses.height)
    print(f"[self, +1 grey level] within 2 % of image height: {a['within_2pct']:.1%} (median {a['median_px']:.2f} px)")


if __name__ == "__main__":
    main()
