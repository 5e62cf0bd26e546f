"""The foot stage's touches and the gait report's contacts on the labelled real clips, in frames.

Runs the foot stage (appliance/feet) over a clip with the pose landmarks that ``appliance analyze``
wrote for it (landmarks.npz), and compares with the hand labels (how many labelled contacts have
one within the tolerance, the extra ones between the first and last label, the timing errors):
the stage's own touch events, and the contacts of the gait report (the live tracker replayed)
with the foot stage's evidence and without it (landmarks alone), side by side. ``--every N``
feeds every N-th frame only (the 60 fps clip thinned to 30 fps), against the labels divided by
N. Also prints the stage's cost per frame (median, ms).

    .venv/bin/appliance analyze ../shared/data/phone_side_60fps.mp4 --out /tmp/an_phone
    .venv/bin/python bench/feet_real_clips.py ../shared/data/phone_side_60fps.mp4 --landmarks /tmp/an_phone/landmarks.npz
    .venv/bin/python bench/feet_real_clips.py ../shared/data/phone_side_60fps.mp4 --landmarks /tmp/an_phone/landmarks.npz --every 2
    .venv/bin/appliance analyze ../shared/data/treadmill_side_slowmo.mp4 --time-scale 0.125 --out /tmp/an_slow
    .venv/bin/python bench/feet_real_clips.py ../shared/data/treadmill_side_slowmo.mp4 --landmarks /tmp/an_slow/landmarks.npz --time-scale 0.125
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from appliance.feet.stage import FootStage
from appliance.gait.report import gait_report
from appliance.sources.video import VideoFileSource
from appliance.types import Frame, Pose

REPO = Path(__file__).resolve().parents[1]
LABELS = {
    "phone_side_60fps.mp4": (REPO / "bench" / "labels" / "running_form_img5396.json", 1.5),
    "treadmill_side_slowmo.mp4": (REPO.parent / "shared" / "data" / "treadmill_side_slowmo.labels.json", 5.0),
}


def labelled_contacts(path: Path) -> list[float]:
    data = json.loads(path.read_text())
    if "ic" in data:
        return [float(x) for x in data["ic"]]
    return [float(e["frame"]) for e in data["events"] if e["type"] == "IC"]


def run_stage(clip: Path, landmarks: np.ndarray, time_scale: float, every: int):
    """The foot stage over the fed frames: their clip times, landmarks and evidence, its median
    cost per frame (ms), and the clip's fps."""
    stage = FootStage()
    source = VideoFileSource(clip, realtime=False)
    fps, size = source.nominal_fps, (source.width, source.height)
    times, rows, evidence, cost = [], [], [], []
    try:
        for frame in source:
            if frame.index % every or frame.index >= len(landmarks):
                continue
            lm = landmarks[frame.index]
            pose = None
            if np.isfinite(lm[:, :2]).all():
                lm5 = np.concatenate([lm, lm[:, 3:4]], axis=1).astype(np.float32)  # presence = visibility
                pose = Pose(frame.t * time_scale, frame.index // every, lm5, 1.0, frame.size)
            fed = Frame(frame.t * time_scale, frame.index // every, frame.image)
            t0 = time.perf_counter()
            evidence.append(stage.update(fed, pose))
            cost.append(time.perf_counter() - t0)
            times.append(frame.t)
            rows.append(lm)
    finally:
        source.close()
    return np.asarray(times), np.stack(rows), evidence, 1000 * float(np.median(cost)), fps, size


def compare(name: str, labels: list[float], found: list[float], tol: float) -> None:
    """Print how ``found`` (clip frames) matches ``labels``."""
    errors, used = [], set()
    for label in labels:
        near = [(abs(f - label), i) for i, f in enumerate(found) if i not in used]
        d, i = min(near, default=(np.inf, -1))
        if d <= tol:
            used.add(i)
            errors.append(found[i] - label)
    inside = [i for i, f in enumerate(found) if labels[0] - tol <= f <= labels[-1] + tol]
    extra = [round(found[i], 1) for i in inside if i not in used]
    line = f"  {name:28s} {len(errors):2d}/{len(labels)} within ±{tol:g} frames, {len(extra)} extra"
    if errors:
        line += f"; error median {np.median(errors):+.2f}, max |e| {np.max(np.abs(errors)):.2f}"
    print(line + (f"; extra at {extra}" if extra else ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip", type=Path)
    ap.add_argument("--landmarks", type=Path, required=True, help="landmarks.npz written by appliance analyze")
    ap.add_argument("--time-scale", type=float, default=1.0)
    ap.add_argument("--every", type=int, default=1)
    args = ap.parse_args()
    if args.clip.name not in LABELS:
        print(f"no labels known for {args.clip.name}", file=sys.stderr)
        return 2
    labels_path, tolerance = LABELS[args.clip.name]
    for path in (args.clip, args.landmarks, labels_path):
        if not path.is_file():
            print(f"not found: {path}", file=sys.stderr)
            return 2
    labels = [x / args.every for x in labelled_contacts(labels_path)]
    t, rows, evidence, ms, fps, size = run_stage(args.clip, np.load(args.landmarks)["landmarks"], args.time_scale,
                                                 args.every)
    tol = max(tolerance / args.every, 1.0)  # at least one frame of the thinned clip
    per_frame = fps / args.every / args.time_scale  # fed frames per real second
    print(f"{args.clip.name} every {args.every} ({fps / args.every:g} fps), labels in fed frames:")
    touches = sorted(e.t * per_frame for ev in evidence for e in ev.events if e.kind == "touch")
    compare("foot stage touches", labels, touches, tol)
    for name, feet in (("gait report, with the feet", evidence), ("gait report, landmarks only", None)):
        report = gait_report(t, rows, size, args.time_scale, feet=feet)
        contacts = [s["t_ic"] * per_frame for s in report["steps"]]
        compare(name, labels, contacts, tol)
        if feet is not None:
            print(f"  {'':28s} contacts timed by {report['contacts_timed_by']}")
    print(f"  foot stage cost: {ms:.2f} ms per frame (median, this machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
