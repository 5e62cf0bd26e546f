"""``appliance analyze --frontal``: the frontal measures of a clip filmed from behind or in front.

The same pose engine as the side view runs over every frame; the frontal tracker (the rear view
alone: no side camera) measures each stance. Writes ``landmarks.npz``, ``report.json`` (the view,
each step with the runner's foot, its frames and measures, the per-side medians and asymmetry),
one plot per measure and ``overlay.png``: each step's mid-stance frame with the pelvis, thighs and
shanks drawn and the step's values, to check a measure by eye.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from appliance.frontal.tracker import FrontalStep, FrontalTracker, frontal_summary
from appliance.landmarks import LEG_LANDMARKS, L
from appliance.pose.engine import PoseEngine

MEASURES = {
    "pelvic_drop_deg": ("Contralateral pelvic drop (peak in stance)", "deg"),
    "hip_adduction_deg": ("Hip adduction (peak in stance; + = knee towards the midline)", "deg"),
    "knee_fppa_deg": ("Knee frontal-plane projection angle (peak; + = valgus)", "deg"),
    "foot_lateral_hw": ("Foot's position from the pelvis midline (mid-stance; < 0 = crossover)", "hip widths"),
}
# Steps per minute above which a clip's time is surely not real time: the fastest sprinters
# reach ~240; slow motion played at 30 fps shows several times that.
SLOW_MOTION_SPM = 260
# From behind or in front the hips are about 0.2 leg lengths apart; from the side they overlap.
SIDE_VIEW_HIP_LEG_RATIO = 0.08
OVERLAY_STEPS = 12
OVERLAY_TILE_PX = 240


def detect_view(landmarks: np.ndarray) -> str:
    """"front" when the runner faces the camera, else "rear": the pose model's depth puts the nose
    nearer the camera than the ears when the face is towards it (median over the frames)."""
    nose_z = landmarks[:, L.NOSE, 2]
    ears_z = 0.5 * (landmarks[:, L.LEFT_EAR, 2] + landmarks[:, L.RIGHT_EAR, 2])
    ok = np.isfinite(nose_z) & np.isfinite(ears_z)
    if not ok.any():
        return "rear"
    return "front" if float(np.median(nose_z[ok] - ears_z[ok])) < 0 else "rear"


def hips_apart(landmarks: np.ndarray) -> float | None:
    """The median distance between the hips over the leg's length (hip-knee-ankle) in the frames
    with a pose: about 0.2 from behind or in front, near 0 from the side."""
    lh, lk, la = (landmarks[:, i, :2] for i in LEG_LANDMARKS["left"][:3])
    rh = landmarks[:, L.RIGHT_HIP, :2]
    leg = np.linalg.norm(lk - lh, axis=1) + np.linalg.norm(la - lk, axis=1)
    ratio = np.linalg.norm(rh - lh, axis=1) / np.maximum(leg, 1e-6)
    ok = np.isfinite(ratio)
    return float(np.median(ratio[ok])) if ok.any() else None


def frontal_steps(t: np.ndarray, landmarks: np.ndarray, view: str) -> list[FrontalStep]:
    """The frontal tracker over a clip's poses (NaN rows: no pose), times in real seconds."""
    tracker = FrontalTracker(view=view)
    steps: list[FrontalStep] = []
    for ti, lm in zip(t, landmarks, strict=True):
        steps += tracker.update(lm if np.isfinite(lm[:, 0]).any() else None, float(ti))
    return steps


def _frame_of(t: np.ndarray, ti: float) -> int:
    return int(np.argmin(np.abs(t - ti)))


def analyze_frontal(clip: Path, out_dir: Path, engine: PoseEngine, view: str = "auto", time_scale: float = 1.0,
                    max_frames: int | None = None, progress: bool = True) -> dict:
    """Analyse ``clip`` (filmed from behind or in front: ``view`` rear, front or auto) into
    ``out_dir``; returns the report also written as report.json."""
    from appliance.analysis import track_clip

    out_dir.mkdir(parents=True, exist_ok=True)
    poses = track_clip(clip, engine, max_frames, progress)
    np.savez_compressed(out_dir / "landmarks.npz", t=poses.t, landmarks=poses.landmarks[:, :, :4])
    detected = detect_view(poses.landmarks)
    used = detected if view == "auto" else view
    real_t = poses.t * time_scale
    steps = frontal_steps(real_t, poses.landmarks, used)
    report: dict = {
        "clip": str(clip), "plane": "frontal", "view": used,
        "view_from": "detected (nose against ears in depth)" if view == "auto" else "given",
        "view_detected": detected, "frames": int(len(poses.t)),
        "frames_with_pose": int(np.sum(np.isfinite(poses.landmarks[:, 0, 0]))), "fps": poses.fps,
        "time_scale": time_scale, "image_size": [poses.width, poses.height],
        "stances_from": "the rear view alone (the stance foot is the lower one in the image)",
    }
    starts = np.array([s.t_ic for s in steps])
    cadence = 60.0 / float(np.median(np.diff(starts))) if len(starts) > 2 else None
    report["cadence_spm"] = round(cadence, 1) if cadence else None
    report["slow_motion_suspected"] = bool(cadence and cadence > SLOW_MOTION_SPM)
    ratio = hips_apart(poses.landmarks)
    report["hips_apart_leg_lengths"] = round(ratio, 3) if ratio is not None else None
    report["side_view_suspected"] = bool(ratio is not None and ratio < SIDE_VIEW_HIP_LEG_RATIO)
    report["steps"] = [dict(s.to_dict(), frame_ic=_frame_of(real_t, s.t_ic), frame_to=_frame_of(real_t, s.t_to),
                            frame_mid=_frame_of(real_t, s.t_mid)) for s in steps]
    report["summary"] = frontal_summary(steps)
    report["plots"] = [p.name for p in plot_frontal(report, out_dir)]
    report["overlay"] = write_frontal_overlay(clip, poses.landmarks, report["steps"], out_dir / "overlay.png")
    (out_dir / "report.json").write_text(json.dumps(report, indent=1))
    return report


def plot_frontal(report: dict, out_dir: Path) -> list[Path]:
    """One PNG per measure, step by step and per side; none (said on stderr) without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        print("plots skipped: matplotlib is not installed (the report is complete without them)", file=sys.stderr)
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    steps = report["steps"]
    for key, (title, unit) in MEASURES.items():
        if not steps:
            break
        fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
        for side, colour in (("left", "#1f77b4"), ("right", "#d62728")):
            mine = [s for s in steps if s["foot"] == side]
            if mine:
                med = report["summary"][side][key]
                ax.plot([s["t_mid"] for s in mine], [s[key] for s in mine], "o-", color=colour, ms=4,
                        label=f"{side} (median {med:.1f})")
        ax.set_title(title)
        ax.set_xlabel("time (s)")
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        path = out_dir / f"frontal_{key}.png"
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written


def write_frontal_overlay(clip: Path, landmarks: np.ndarray, steps: list[dict], path: Path) -> str | None:
    """Each step's mid-stance frame (up to OVERLAY_STEPS) with the hip line, thighs and shanks drawn
    and its values, tiled into one image; None when there are no steps."""
    import cv2

    from appliance.sources.video import VideoFileSource

    chosen = steps[:OVERLAY_STEPS]
    if not chosen:
        return None
    wanted = {s["frame_mid"]: s for s in chosen}
    tiles = []
    source = VideoFileSource(clip, realtime=False)
    try:
        for frame in source:
            if frame.index > max(wanted):
                break
            step = wanted.get(frame.index)
            if step is None:
                continue
            tiles.append(_tile(cv2, frame.image, landmarks[frame.index], step))
    finally:
        source.close()
    cols = 4
    blank = np.zeros_like(tiles[0])
    rows = [np.hstack(tiles[i:i + cols] + [blank] * (cols - len(tiles[i:i + cols]))) for i in range(0, len(tiles), cols)]
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
    return path.name


def _tile(cv2, image: np.ndarray, lm: np.ndarray, step: dict) -> np.ndarray:
    """The body's lower half around the pelvis and legs, with the segments and the step's values."""
    img = image.copy()
    pts = {name: lm[int(i), :2] for side in ("left", "right")
           for name, i in zip((f"{side}_hip", f"{side}_knee", f"{side}_ankle"), LEG_LANDMARKS[side][:3], strict=True)}
    if all(np.isfinite(p).all() for p in pts.values()):
        def draw(a, b, colour):
            cv2.line(img, tuple(int(v) for v in pts[a]), tuple(int(v) for v in pts[b]), colour, 2, cv2.LINE_AA)
        draw("left_hip", "right_hip", (255, 255, 0))
        for side in ("left", "right"):
            colour = (0, 255, 0) if side == step["foot"] else (160, 160, 160)
            draw(f"{side}_hip", f"{side}_knee", colour)
            draw(f"{side}_knee", f"{side}_ankle", colour)
        xs = np.array([p[0] for p in pts.values()])
        ys = np.array([p[1] for p in pts.values()])
        span = max(xs.max() - xs.min(), ys.max() - ys.min()) * 0.7 + 20
        cx, cy = xs.mean(), ys.mean()
        h, w = img.shape[:2]
        x0, x1 = int(max(0, cx - span)), int(min(w, cx + span))
        y0, y1 = int(max(0, cy - span)), int(min(h, cy + span))
        img = img[y0:y1, x0:x1]
    tile = cv2.resize(img, (OVERLAY_TILE_PX, OVERLAY_TILE_PX), interpolation=cv2.INTER_AREA)
    lines = [f"{step['foot']} t={step['t_mid']:.2f}s", f"drop {step['pelvic_drop_deg']:.1f}",
             f"add {step['hip_adduction_deg']:.1f} fppa {step['knee_fppa_deg']:.1f}",
             f"foot {step['foot_lateral_hw']:.2f} hw"]
    for k, text in enumerate(lines):
        cv2.putText(tile, text, (4, 14 + 14 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return tile
