"""Initial contacts on a real clip labelled by eye at its own frame rate (not slow motion).

The labelled clip in ../shared/data is slow motion. This bench measures the same live tracker on a
clip recorded at an ordinary rate, from its labels in ``bench/labels/`` (every initial contact,
placed by eye at one-frame precision; see the JSON for how). The default is ``IMG_5396.mp4`` of the
public repository mhuang24/Running-Form: 60 fps, another runner and treadmill, a hand-held phone
yawed from square-on. The video itself is not kept here; pose it once with the appliance:

    git clone https://github.com/mhuang24/Running-Form /tmp/running-form
    appliance analyze /tmp/running-form/IMG_5396.mp4 --out /tmp/img5396
    .venv/bin/python bench/gait_eye_labelled_clip.py --landmarks /tmp/img5396/landmarks.npz

It prints, at the full rate and on every N-th frame (each offset in turn: 30 fps from 60 fps):
each label's nearest contact and its error, how many labels have a contact within +-1 and +-2
frames of that rate, and the contacts matching no label (extra ones, or ones timed outside the
tolerance).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from appliance.gait.report import gait_report

DEFAULT_LABELS = Path(__file__).resolve().parent / "labels" / "running_form_img5396.json"
TOLERANCES = (1, 2)  # frames of the analysed rate


def match(found: np.ndarray, labels: np.ndarray, tolerance: float) -> tuple[int, int]:
    """(labels with a contact within ``tolerance``, contacts used by no label), one contact per label."""
    used: set[int] = set()
    for x in labels:
        free = [i for i in range(len(found)) if i not in used and abs(found[i] - x) <= tolerance]
        if free:
            used.add(min(free, key=lambda i: abs(found[i] - x)))
    return len(used), len(found) - len(used)


def contacts(t: np.ndarray, landmarks: np.ndarray, size: tuple[int, int], every: int, offset: int) -> tuple[np.ndarray, str]:
    """Clip frame numbers of the contacts the gait report finds on every ``every``-th frame from
    ``offset``, and the direction it reports."""
    idx = np.arange(offset, len(t), every)
    rep = gait_report(t[idx], landmarks[idx], size)
    return np.array([idx[s["frame_ic"]] for s in rep["steps"]], dtype=float), rep["direction"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--landmarks", type=Path, required=True, help="landmarks.npz written by appliance analyze")
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    ap.add_argument("--every", type=int, nargs="+", default=[1, 2], help="thinning factors (1: full rate)")
    args = ap.parse_args()
    for path in (args.landmarks, args.labels):
        if not path.is_file():
            print(f"not found: {path}", file=sys.stderr)
            return 2
    labels = json.loads(args.labels.read_text())
    data = np.load(args.landmarks)
    t, lm = data["t"], data["landmarks"]
    ics = np.array(labels["ic"], dtype=float)
    # Only contacts within the labelled span count as extra (the clip may start or end mid-step).
    step = float(np.median(np.diff(ics)))
    span = (ics[0] - 0.5 * step, ics[-1] + 0.5 * step)
    size = tuple(labels["size"])
    print(f"{labels['video']}: {len(t)} frames at {labels['fps']} fps, {len(ics)} labelled contacts "
          f"(step {step:.1f} frames), faces {labels['faces']}")
    for every in args.every:
        rows = []
        for offset in range(every):
            found, direction = contacts(t, lm, size, every, offset)
            found = found[(found >= span[0]) & (found <= span[1])]
            if every == 1:
                print(f"\ndirection: {direction} (labelled: {labels['faces']})")
                print(" label  nearest  error")
                for x in ics:
                    near = found[np.argmin(np.abs(found - x))] if len(found) else np.nan
                    print(f" {x:5.1f}  {near:7.0f}  {near - x:+5.1f}")
            errors = [np.min(np.abs(found - x)) if len(found) else np.inf for x in ics]
            rows.append([*(match(found, ics, tol * every) for tol in TOLERANCES), float(np.median(errors)) / every])
        rate = labels["fps"] / every
        print(f"\nevery {every} ({rate:g} fps, {every} offsets), tolerance in frames of that rate:")
        for j, tol in enumerate(TOLERANCES):
            hits = [r[j][0] for r in rows]
            extra = [r[j][1] for r in rows]
            print(f"  within +-{tol}: {hits} of {len(ics)}   contacts matching no label (extra or mistimed) {extra}")
        print(f"  median |error| (frames of that rate): {[round(r[-1], 2) for r in rows]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
