"""How well ANY height-based contact detector could do on the labelled real clip, with hindsight.

For each labelled initial contact the landing foot is picked with hindsight (the leg whose foot is
further forward 10 frames after the label: no identity tracking needed), and a hinge (a falling
straight line, then flat) is fitted to its ankle, heel and toe heights over +-30 frames around the
label (non-causal, best instant by least squares). The knee of the hinge is where the foot stops
coming down. If even this hindsight fit misses the labels by more than the +-5 frames asked, no
causal detector on the same landmarks can meet them: the landmark signal, not the tracker, is the
limit.

A second table places each label among three physical events of the landing foot, found with
hindsight on a foot track that follows continuity (not the model's left/right label): when the
foot's lowest point comes within 0.15 foot lengths of its stance level (or below it) and stays there
("down"); when the foot stops moving forward relative to the hip (its most forward position, the
Zeni event, "plant"); when, once down, its heel-to-toe line first comes within 5 degrees of its
stance angle ("flat").
A label outside +-5 frames of all three cannot be met by a detector of any one of them.

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
HIP = 0
EVENT_WINDOW = (-30, 30)  # frames around a label searched for the physical events
STANCE_FROM = 10  # frames after a label from which the landing foot is in stance (by eye: flat and carried back)
DOWN_FOOT_LENGTHS = 0.15
FLAT_DEG = 5.0


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


def follow_foot(lm: np.ndarray, legs: list[np.ndarray], start: int, frames: np.ndarray) -> np.ndarray:
    """[len(frames), 5, 2] leg points of the foot that is further forward at ``start``, followed
    frame by frame to whichever labelled leg's foot is nearest its last position (so the model's
    left/right swaps do not switch feet); NaN where no pose."""
    feet = lm[:, :, :2][:, np.stack(legs)]  # [N, 2 legs, 5, 2]
    mid = np.nanmean(feet[:, :, [HEEL, TOE]], axis=2)  # [N, 2, 2]
    out = np.full((len(frames), 5, 2), np.nan)
    at = {int(f): i for i, f in enumerate(frames)}
    if not np.all(np.isfinite(mid[start])):
        return out
    pick = int(np.argmax(mid[start, :, 0]))  # the clip's runner faces right
    for order in (range(start, frames[-1] + 1), range(start, frames[0] - 1, -1)):
        last = mid[start, pick]
        for f in order:
            d = np.hypot(*(mid[f] - last).T)
            if not np.all(np.isfinite(d)):
                continue
            k = int(np.argmin(d))
            last = mid[f, k]
            out[at[f]] = feet[f, k]
    return out


def majority(ok: np.ndarray) -> np.ndarray:
    """``ok`` as the majority of each 5 frames: landmark glitches of up to two frames are ignored."""
    padded = np.pad(ok.astype(float), 2, mode="edge")
    return np.convolve(padded, np.ones(5), mode="valid") >= 3


def physical_events(lm: np.ndarray, legs: list[np.ndarray], label: int) -> dict[str, int | None]:
    """Frames (minus the label) of the landing foot's touch-down, plant and flat foot, with hindsight."""
    frames = np.arange(max(0, label + EVENT_WINDOW[0]), min(len(lm), label + EVENT_WINDOW[1] + 1))
    foot = follow_foot(lm, legs, int(min(frames[-1], label + STANCE_FROM)), frames)
    stance = frames >= label + STANCE_FROM
    if not np.any(np.isfinite(foot[stance])):
        return dict.fromkeys(("down", "plant", "flat"))
    lowest = np.nanmax(foot[:, [HEEL, TOE], 1], axis=1)
    length = np.nanmedian(np.hypot(*(foot[stance, TOE] - foot[stance, HEEL]).T))
    # image y grows downwards, and a toe-down foot reaches lower than the flat foot's level
    is_down = majority(lowest >= np.nanmedian(lowest[stance]) - DOWN_FOOT_LENGTHS * length)
    down = None  # the first frame from which the foot stays down until stance
    for i in np.nonzero(frames <= label + STANCE_FROM)[0][::-1]:
        if not is_down[i]:
            break
        down = i
    forward = np.nanmean(foot[:, [ANKLE, HEEL, TOE], 0], axis=1) - foot[:, HIP, 0]
    smooth = np.convolve(np.nan_to_num(forward, nan=-np.inf), np.ones(5) / 5, mode="same")
    plant = int(np.argmax(smooth))
    angle = np.degrees(np.arctan2(foot[:, HEEL, 1] - foot[:, TOE, 1], foot[:, TOE, 0] - foot[:, HEEL, 0]))
    is_flat = majority(np.abs(angle - np.nanmedian(angle[stance])) <= FLAT_DEG)
    flat = None if down is None else next((i for i in np.nonzero(is_flat)[0] if i >= down), None)
    return {name: None if i is None else int(frames[i] - label)
            for name, i in (("down", down), ("plant", plant), ("flat", flat))}


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
    print("\nlanding foot's physical events minus label (frames), with hindsight (<= : at or before the window)")
    print(" label   down  plant   flat")
    rows = []
    for label in labels:
        ev = physical_events(lm, legs, label)
        rows.append(ev)
        cells = ["-" if v is None else ("<=" if v <= EVENT_WINDOW[0] else "") + f"{v:+d}" for v in ev.values()]
        print(f"{label:6d} " + " ".join(f"{c:>6s}" for c in cells))
    for name in ("down", "plant", "flat"):
        vals = [r[name] for r in rows if r[name] is not None]
        within = sum(abs(v) <= 5 for v in vals)
        print(f"  {name:5s}: median {np.median(vals):+.0f}, within +-5 of the label {within}/{len(labels)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
