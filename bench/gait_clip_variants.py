"""Does the gait report hold beyond the one labelled clip's look? Variants of it, measured.

The labelled real clip is one runner, one camera and one room. This bench changes the same frames
the way another clinic's set-up would: the runner facing left, a smaller runner further from the
camera, a dim room, a camera yawed away from square-on (perspective), an upright post between
camera and runner, and a treadmill's side rail hiding the shoes' lower half on the belt. It runs
the real pose engine and the gait report on each variant and prints what a clinician reads off
the report: the direction, the cadence, and how many of the labelled initial contacts are found.
The variants keep the labels' frame numbers (only the image changes).

Contacts are counted at the clip's full rate and thinned to every N-th frame (each offset in turn;
every 10th of this slow motion is about 30 fps real). A contact counts as found within +-5 frames
*of that rate* (capped at 40 % of a step so one contact cannot match two labels): the tolerance a
clip recorded at that rate would be judged with.

    .venv/bin/python bench/gait_clip_variants.py                       # all variants, ~3 min
    .venv/bin/python bench/gait_clip_variants.py --variants original post --every 1 10
    .venv/bin/python bench/gait_clip_variants.py --save /tmp/variants  # keep each landmarks.npz
    .venv/bin/python bench/gait_clip_variants.py --write-video post /tmp/post.mp4   # then, e.g.:
    .venv/bin/python bench/pose_accuracy.py --clip /tmp/post.mp4   # our engine against mediapipe on it
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _reference import CLIP, require_clip  # noqa: E402

from appliance.gait.report import gait_report  # noqa: E402

LABELS = CLIP.with_name("treadmill_side_slowmo.labels.json")
LABELLED_DIRECTION = "right"
STEP_FRAMES = 102.0  # the labelled step period (frames)
TOLERANCE_FRAMES = 5
GREY = (90, 90, 90)


def make_variant(name: str, rgb: np.ndarray) -> np.ndarray:
    """One frame [H, W, 3] as the variant ``name`` would show it."""
    import cv2

    h, w = rgb.shape[:2]
    if name == "original":
        return rgb
    if name == "mirror":  # the runner faces the other way
        return np.ascontiguousarray(rgb[:, ::-1])
    if name == "small":  # half the size: the camera twice as far away
        out = np.full_like(rgb, GREY[0])
        sh, sw = h // 2, w // 2
        top, left = (h - sh) * 5 // 6, w // 12
        out[top:top + sh, left:left + sw] = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
        return out
    if name == "dark":  # a dim room: 45 % of the light
        return np.clip(rgb.astype(np.float32) * 0.45 + 5, 0, 255).astype(np.uint8)
    if name == "oblique":  # the camera yawed: the image's right side is further away
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32([[w * 0.083, 0], [w * 0.917, h * 0.125], [w * 0.917, h * 0.875], [w * 0.083, h]])
        return cv2.warpPerspective(rgb, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=GREY)
    if name == "post":  # an upright post between camera and runner, across the legs' path
        out = rgb.copy()
        out[int(h * 0.31):int(h * 0.74), int(w * 0.483):int(w * 0.521)] = 40
        return out
    if name == "rail":  # the treadmill deck's side rail, hiding the soles and the lower shoes on the belt
        out = rgb.copy()
        out[int(h * 0.628):int(h * 0.667)] = 45
        return out
    raise ValueError(f"unknown variant {name!r}")


VARIANTS = ("original", "mirror", "small", "dark", "oblique", "post", "rail")


def landmarks_of(name: str, clip: Path) -> tuple[str, np.ndarray, np.ndarray, tuple[int, int]]:
    """The pose engine's landmarks on every frame of the variant (a fresh engine, one thread)."""
    from appliance.config import Settings
    from appliance.pose.engine import PoseEngine
    from appliance.sources.video import VideoFileSource
    from appliance.types import Frame

    s = Settings().pose
    engine = PoseEngine(s.model_dir, 1, s.min_detection_score, s.min_presence, s.filter_min_cutoff, s.filter_beta)
    ts, lms = [], []
    size = (0, 0)
    for frame in VideoFileSource(clip):
        image = make_variant(name, frame.image)
        size = (image.shape[1], image.shape[0])
        pose = engine.process(Frame(frame.t, frame.index, image))
        ts.append(frame.t)
        lms.append(pose.landmarks[:, :4] if pose is not None else np.full((33, 4), np.nan, np.float32))
    return name, np.asarray(ts), np.stack(lms), size


def count_contacts(t: np.ndarray, lm: np.ndarray, size: tuple[int, int], labels: list[int], every: int,
                   time_scale: float) -> dict:
    """Labelled contacts found within +-5 frames of the thinned rate, extras and timing, over all offsets."""
    dt = float(np.median(np.diff(t)))
    tol = min(TOLERANCE_FRAMES * every, 0.4 * STEP_FRAMES)
    span = (labels[0] - STEP_FRAMES / 2, labels[-1] + STEP_FRAMES / 2)
    hits = extra = 0
    errors = []
    for offset in range(every):
        idx = np.arange(offset, len(t), every)
        rep = gait_report(t[idx], lm[idx], size, time_scale=time_scale)
        found = [s["t_ic"] / time_scale / dt for s in rep["steps"]]
        found = [f for f in found if span[0] <= f <= span[1]]
        used: set[int] = set()
        for label in labels:
            near = [i for i, f in enumerate(found) if abs(f - label) <= tol and i not in used]
            if near:
                i = min(near, key=lambda j: abs(found[j] - label))
                used.add(i)
                errors.append(found[i] - label)
        hits += len(used)
        extra += len(found) - len(used)
    ms = np.median(np.abs(errors)) * dt * time_scale * 1000 if errors else float("nan")
    return {"found": hits, "of": len(labels) * every, "extra": extra, "median_abs_ms": ms,
            "tolerance_frames": tol, "fps_real": 1.0 / (dt * every * time_scale)}


def write_video(name: str, clip: Path, out: Path) -> None:
    """The variant ``name`` of every frame of ``clip`` as a near-lossless H.264 file (for the reference)."""
    import av

    from appliance.sources.video import VideoFileSource

    with av.open(str(out), "w") as container:
        stream = None
        for frame in VideoFileSource(clip):
            image = make_variant(name, frame.image)
            if stream is None:
                stream = container.add_stream("libx264", rate=30)
                stream.height, stream.width = image.shape[:2]
                stream.pix_fmt, stream.options = "yuv420p", {"crf": "12"}
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--every", type=int, nargs="+", default=[1, 4, 10], help="thinning factors (1: full rate)")
    ap.add_argument("--time-scale", type=float, default=0.1, help="real seconds per clip second (assumed)")
    ap.add_argument("--workers", type=int, default=2, help="variants posed in parallel (one thread each)")
    ap.add_argument("--save", type=Path, default=None, help="keep each variant's landmarks.npz here")
    ap.add_argument("--write-video", nargs=2, metavar=("VARIANT", "OUT"), default=None,
                    help="only write that variant of the clip as a video file (e.g. to pose it with mediapipe)")
    args = ap.parse_args()
    clip = require_clip()
    if args.write_video:
        name, out = args.write_video
        if name not in VARIANTS:
            ap.error(f"unknown variant {name!r}; one of {', '.join(VARIANTS)}")
        write_video(name, clip, Path(out))
        print(f"wrote {out}")
        return 0
    labels = [e["frame"] for e in json.loads(LABELS.read_text())["events"] if e["type"] == "IC"]
    print(f"clip: {clip.name}  labelled contacts: {len(labels)}  time scale (assumed): {args.time_scale}")
    print("found: labelled contacts within +-5 frames of that rate (all offsets); x: extra contacts\n")
    header = f"{'variant':9s} {'facing':7s} {'cadence':>8s}"
    for every in args.every:
        header += f"  {'every ' + str(every):>22s}"
    print(header)
    with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
        jobs = [pool.submit(landmarks_of, name, clip) for name in args.variants]
        for job in jobs:
            name, t, lm, size = job.result()
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                np.savez_compressed(args.save / f"{name}.npz", t=t, landmarks=lm)
            rep = gait_report(t, lm, size, time_scale=args.time_scale)
            expected = LABELLED_DIRECTION if name != "mirror" else "left"
            facing = rep["direction"] + ("" if rep["direction"] == expected else "!")
            cadence = rep["cadence_spm"]
            row = f"{name:9s} {facing:7s} {cadence if cadence is None else round(cadence, 1)!s:>8s}"
            for every in args.every:
                c = count_contacts(t, lm, size, labels, every, args.time_scale)
                row += f"  {c['found']:3d}/{c['of']:<3d} x{c['extra']:<3d} {c['median_abs_ms']:4.0f} ms"
            print(row, flush=True)
    print("\n'!' marks a wrong direction; ms: median |timing error| of the found contacts (real time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
