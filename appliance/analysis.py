"""Offline analysis of a clip: poses for every frame, gait metrics, an overlay and plots.

This is ``appliance analyze``: the same pose engine and causal gait tracker as ``appliance run``,
fed as fast as the machine decodes, writing ``landmarks.npz``, ``report.json``, ``overlay.png``
(the landing foot cropped from the frames around each initial contact, to check a strike by eye)
and one plot per gait metric.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from appliance.feet.looks import ContactLooks
from appliance.feet.stage import FootStage
from appliance.pose.engine import STAGES, PoseEngine
from appliance.sources.video import VideoFileSource
from appliance.types import Frame, Pose

if TYPE_CHECKING:
    from appliance.pose.heavy import LandmarkRunner


@dataclass
class ClipPoses:
    """Every frame's pose of a clip: ``landmarks`` [N, 33, 5] (x px, y px, z, visibility, presence;
    NaN rows where there was no pose) at times ``t`` [N] seconds, and each stage's time [N] in ms."""

    t: np.ndarray
    landmarks: np.ndarray
    stage_ms: dict[str, np.ndarray]
    fps: float
    width: int
    height: int
    detector_runs: int
    feet: list | None = None  # the foot stage's FootEvidence per frame (None: not run)
    rois: list | None = None  # the region the pose engine read each frame on (None: no pose)


class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int, enabled: bool = True):
        self.total = max(total, 1)
        self.enabled = enabled and sys.stderr.isatty()
        self._last = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and done < self.total):
            return
        self._last = now
        frac = min(done / self.total, 1.0)
        bar = "#" * int(frac * 30)
        sys.stderr.write(f"\r[{bar:<30}] {done}/{self.total} frames")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def track_clip(clip: Path, engine: PoseEngine, max_frames: int | None = None, progress: bool = True,
               foot_stage: FootStage | None = None, time_scale: float = 1.0) -> ClipPoses:
    """Run the pose engine, and the foot stage when given (fed real time: clip time x
    ``time_scale``), over every frame of ``clip``."""
    source = VideoFileSource(clip, realtime=False, max_frames=max_frames)
    total = min(source.frame_count or 0, max_frames or 1 << 30)
    bar = Progress(total, progress)
    ts, lms, feet, rois = [], [], [], []
    stage_ms = {s: [] for s in ("decode", *STAGES, *(("feet",) if foot_stage else ()))}
    try:
        for frame in source:
            pose = engine.process(frame)
            ts.append(frame.t)
            lms.append(pose.landmarks if pose is not None else np.full((33, 5), np.nan, np.float32))
            rois.append(engine.last_roi if pose is not None else None)
            stage_ms["decode"].append(source.decode_ms)
            for s in STAGES:
                stage_ms[s].append(engine.times.ms[s])
            if foot_stage is not None:
                t0 = time.perf_counter()
                feet.append(foot_stage.update(*real_time(frame, pose, time_scale)))
                stage_ms["feet"].append((time.perf_counter() - t0) * 1000)
            bar.update(len(ts))
    finally:
        bar.close()
        source.close()
    if not ts:
        raise ValueError(f"{clip} has no frames")
    return ClipPoses(
        np.asarray(ts), np.stack(lms), {k: np.asarray(v) for k, v in stage_ms.items()},
        source.nominal_fps, source.width, source.height, engine.detector_runs, feet if foot_stage else None, rois,
    )


def real_time(frame: Frame, pose: Pose | None, time_scale: float) -> tuple[Frame, Pose | None]:
    """A frame and its pose on the real clock (a slow-motion clip's times x ``time_scale``)."""
    if time_scale == 1.0:
        return frame, pose
    t = frame.t * time_scale
    return Frame(t, frame.index, frame.image), (replace(pose, t=t) if pose is not None else None)


def timing_summary(stage_ms: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Median, mean and 95th percentile per stage, in ms (detector frames counted separately)."""
    out = {}
    for stage, ms in stage_ms.items():
        ran = ms[ms > 0] if stage == "detect" else ms
        if ran.size == 0:
            out[stage] = {"runs": 0}
            continue
        out[stage] = {
            "runs": int(ran.size),
            "median_ms": round(float(np.median(ran)), 3),
            "mean_ms": round(float(np.mean(ran)), 3),
            "p95_ms": round(float(np.percentile(ran, 95)), 3),
        }
    per_frame = sum(stage_ms[s] for s in STAGES if s != "detect")
    out["pose_total"] = {"median_ms": round(float(np.median(per_frame)), 3)}
    return out


OVERLAY_CONTACTS = 12
OVERLAY_SPACING_S = 0.012  # real seconds between the frames shown around a contact (adjacent below 83 fps)
OVERLAY_TILE_PX = 160


def write_overlay(clip: Path, poses: ClipPoses, steps: list[dict], direction: str | None, time_scale: float,
                  out: Path) -> Path:
    """A sheet with one row per contact (the first twelve): the landing foot cropped at full
    resolution from the frames just before and after the contact, skeleton drawn, the contact
    frame framed in red, so a clinician can check each strike by eye. Without contacts, twelve
    whole frames spread over the clip."""
    import cv2

    from appliance.pose.draw import contact_sheet, draw_pose

    if not steps:
        picks = [int(i) for i in np.linspace(0, len(poses.t) - 1, 12)]
        frames = _frames_at(clip, set(picks))
        tiles = [draw_pose(frames[i], poses.landmarks[i]) for i in picks if i in frames]
        sheet = contact_sheet(tiles, [f"frame {i}" for i in picks if i in frames])
        cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
        return out
    dt_real = float(np.median(np.diff(poses.t))) * time_scale if len(poses.t) > 1 else 1 / 30
    stride = max(1, round(OVERLAY_SPACING_S / dt_real))
    wanted = {int(s["frame_ic"]) + stride * k for s in steps[:OVERLAY_CONTACTS] for k in (-2, -1, 0, 1, 2)}
    frames = _frames_at(clip, {i for i in wanted if 0 <= i < len(poses.t)})
    sign = -1.0 if direction == "left" else 1.0
    rows = []
    for s in steps[:OVERLAY_CONTACTS]:
        ic = int(s["frame_ic"])
        box = _landing_foot_box(poses.landmarks[ic], sign, poses.width, poses.height)
        tiles = []
        for k in (-2, -1, 0, 1, 2):
            i = ic + stride * k
            tile = np.zeros((OVERLAY_TILE_PX, OVERLAY_TILE_PX, 3), np.uint8)
            if i in frames and box is not None:
                x0, y0, x1, y1 = box
                drawn = draw_pose(frames[i], poses.landmarks[i])
                tile = cv2.resize(drawn[y0:y1, x0:x1], (OVERLAY_TILE_PX, OVERLAY_TILE_PX), interpolation=cv2.INTER_AREA)
            if k == 0:
                cv2.rectangle(tile, (0, 0), (OVERLAY_TILE_PX - 1, OVERLAY_TILE_PX - 1), (230, 30, 30), 3)
            _label(cv2, tile, f"{'+' if k > 0 else ''}{k * stride}" if k else f"frame {i}")
            tiles.append(tile)
        angle = s.get("foot_strike_angle_deg")
        caption = np.full((24, OVERLAY_TILE_PX * 5, 3), 255, np.uint8)
        text = (f"step {s['index']}  {s['foot']}  {s['strike']}" + (f" {angle:+.0f} deg" if angle is not None else "")
                + f"  timed by {s.get('timed_by', 'landmarks')}, angle by {s.get('strike_read_by', 'landmarks')}")
        cv2.putText(caption, text, (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        rows += [caption, np.hstack(tiles)]
    cv2.imwrite(str(out), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
    return out


def _frames_at(clip: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    """The RGB images of the clip's frames ``wanted``."""
    out = {}
    if not wanted:
        return out
    source = VideoFileSource(clip, realtime=False, max_frames=max(wanted) + 1)
    try:
        for frame in source:
            if frame.index in wanted:
                out[frame.index] = frame.image
    finally:
        source.close()
    return out


def _landing_foot_box(lm: np.ndarray, sign: float, width: int, height: int) -> tuple[int, int, int, int] | None:
    """A square pixel box around the front foot of ``lm`` (the landing one at a contact), two and
    a half shoe lengths wide, inside the image; None without feet."""
    from appliance.feet.tuning import FEET_TUNING
    from appliance.gait.geometry import HEEL, TOE, leg_length_px, leg_points

    feet = []
    for side in ("left", "right"):
        pts, _ = leg_points(lm, side)
        if np.isfinite(pts).all():
            feet.append((sign * (pts[HEEL, 0] + pts[TOE, 0]), pts))
    if not feet:
        return None
    _, pts = max(feet, key=lambda f: f[0])
    half = max(16.0, 1.25 * FEET_TUNING.stage.shoe_per_leg * leg_length_px(pts))
    cx, cy = (pts[HEEL] + pts[TOE]) / 2
    half = min(half, width / 2, height / 2)
    x0 = int(np.clip(cx - half, 0, width - 2 * half))
    y0 = int(np.clip(cy - half, 0, height - 2 * half))
    return x0, y0, x0 + int(2 * half), y0 + int(2 * half)


def _label(cv2, tile: np.ndarray, text: str) -> None:
    cv2.putText(tile, text, (5, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(tile, text, (5, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)


def analyze_clip(
    clip: Path,
    out_dir: Path,
    engine: PoseEngine,
    time_scale: float = 1.0,
    max_frames: int | None = None,
    progress: bool = True,
    gait_settings=None,
    replay_warm_up: bool = True,
    feet: bool = True,
    heavy: LandmarkRunner | None = None,
) -> dict:
    """Analyse ``clip`` into ``out_dir``; returns the report that is also written as report.json.
    ``feet`` False times the contacts by the landmarks alone (no foot stage); ``heavy`` (a
    ``HeavyPose``) reads each contact's angles on the frames around it (the clip is decoded a
    second time for them)."""
    from appliance.gait.report import gait_report

    out_dir.mkdir(parents=True, exist_ok=True)
    wall0 = time.perf_counter()
    poses = track_clip(clip, engine, max_frames, progress, FootStage() if feet else None, time_scale)
    wall = time.perf_counter() - wall0
    np.savez_compressed(out_dir / "landmarks.npz", t=poses.t, landmarks=poses.landmarks[:, :, :4])
    with_pose = int(np.sum(~np.isnan(poses.landmarks[:, 0, 0])))
    report = {
        "clip": str(clip),
        "fps": round(poses.fps, 3),
        "frames": int(len(poses.t)),
        "frames_with_pose": with_pose,
        "width": poses.width,
        "height": poses.height,
        "time_scale": time_scale,
        "detector_runs": poses.detector_runs,
        "timing": timing_summary(poses.stage_ms),
        "processing_fps": round(len(poses.t) / wall, 2),
    }
    looks = ContactLooks(runner=heavy) if heavy is not None else None
    frames = VideoFileSource(clip, realtime=False, max_frames=len(poses.t)) if looks is not None else None
    try:
        report.update(gait_report(poses.t, poses.landmarks[:, :, :4], (poses.width, poses.height), time_scale,
                                  settings=gait_settings, replay_warm_up=replay_warm_up, feet=poses.feet,
                                  frames=((f, poses.rois[f.index]) for f in frames) if frames is not None else None,
                                  looks=looks))
    finally:
        if frames is not None:
            frames.close()
    report["overlay"] = write_overlay(clip, poses, report.get("steps", []), report.get("direction"), time_scale,
                                      out_dir / "overlay.png").name
    report["plots"] = write_plots(report, out_dir)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, default=_json_default) + "\n")
    return report


PLOTS_FIX = "install matplotlib for the plots (on the Pi: sudo apt install python3-matplotlib)"


def write_plots(report: dict, out_dir: Path) -> list[str]:
    """The plots are optional: without matplotlib (the Pi's own install does not bring it) they are
    skipped with one line and the report says so (``plots_skipped``); the report is kept either way."""
    try:
        from appliance.gait.plots import plot_gait

        return [p.name for p in plot_gait(report, out_dir)]
    except ImportError as e:
        reason = f"{e.name or 'a module'} is not installed"
    except Exception as e:  # a plot that fails must not lose the report
        reason = f"{type(e).__name__}: {e}"
    report["plots_skipped"] = f"{reason}; {PLOTS_FIX}"
    print(f"plots skipped: {report['plots_skipped']}", file=sys.stderr)
    return []


def _json_default(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and np.isnan(v):
        return None
    raise TypeError(f"not JSON serialisable: {type(v)}")
