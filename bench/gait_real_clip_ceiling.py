"""How well ANY height-based contact detector could do on the labelled real clip, with hindsight.

For each labelled initial contact the landing foot is picked with hindsight (the leg whose foot is
further forward 10 frames after the label: no identity tracking needed), and a hinge (a falling
straight line, then flat) is fitted to its ankle, heel and toe heights over +-30 frames around the
label (non-causal, best instant by least squares). The knee of the hinge is where the foot stops
coming down. If even this hindsight fit misses the labels by more than the +-5 frames asked, no
causal detector on the same landmarks can meet them: the landmark signal, not the tracker, is the
limit.

    .venv/bin/python bench/gait_real_clip_ceiling.py --landmarks /tmp/slowmo_ours/landmarks.npz
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from appliance.gait.geometry import LEG_INDEX

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LABELS = REPO.parent / "shared" / "data" / "treadmill_side_slowmo.labels.json"
HALF_WINDOW = 30
ANKLE, HEEL, TOE = 2, 3, 4


def hinge_knee(frames: np.ndarray, y: np.ndarray) -> float | None:
    """Frame where a descending line joins a flat level (image y grows downwards), by least squares."""
    best = None
    for knee in frames[5:-5]:
        a = np.maximum(knee - frames, 0.0)
        design = np.stack([np.ones_like(a), a], axis=1)
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        resid = float(((design @ coef - y) ** 2).sum())
        if coef[1] < 0 and (best is None or resid < best[0]):  # y smaller (higher) before the knee
            best = (resid, float(knee))
    return None if best is None else best[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--landmarks", type=Path, required=True, help="landmarks.npz (t, landmarks)")
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    args = ap.parse_args()
    for path in (args.landmarks, args.labels):
        if not path.is_file():
            print(f"not found: {path}", file=sys.stderr)
            return 2
    lm = np.load(args.landmarks)["landmarks"]
    labels = [e["frame"] for e in json.loads(args.labels.read_text())["events"] if e["type"] == "IC"]
    legs = [LEG_INDEX["left"], LEG_INDEX["right"]]
    n = len(lm)
    print(f"hindsight hinge knee minus label (frames), +-{HALF_WINDOW} frames around each of {len(labels)} labels")
    for name, part in (("ankle", ANKLE), ("heel", HEEL), ("toe", TOE)):
        errors = []
        for label in labels:
            probe = min(n - 1, label + 10)
            forward = [np.nanmean(lm[probe, leg[[HEEL, TOE]], 0]) for leg in legs]
            # The clip's runner faces right; the landing foot is the further forward (larger x).
            leg = legs[int(np.argmax(forward))]
            frames = np.arange(max(0, label - HALF_WINDOW), min(n, label + HALF_WINDOW))
            y = lm[frames, leg[part], 1].astype(np.float64)
            ok = np.isfinite(y)
            knee = hinge_knee(frames[ok].astype(np.float64), y[ok])
            errors.append(None if knee is None else int(round(knee - label)))
        within = sum(e is not None and abs(e) <= 5 for e in errors)
        print(f"  {name:5s}: {errors}  within +-5: {within}/{len(labels)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
