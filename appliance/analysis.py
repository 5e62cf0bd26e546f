"""Offline analysis of a clip: poses for every frame, gait metrics, an overlay and plots.

This is ``appliance analyze``: the same pose engine and causal gait tracker as ``appliance run``,
fed as fast as the machine decodes, writing ``landmarks.npz``, ``report.json``, ``overlay.png``
(a contact sheet of the skeleton at each initial contact) and one plot per gait metric.
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


def write_overlay(clip: Path, poses: ClipPoses, frame_indices: list[int], labels: list[str], out: Path) -> Path:
    """A contact sheet of the chosen frames with their skeletons."""
    import cv2

    from appliance.pose.draw import contact_sheet, draw_pose

    wanted = dict(zip(frame_indices, labels, strict=True))
    tiles, tile_labels = [], []
    source = VideoFileSource(clip, realtime=False, max_frames=max(frame_indices) + 1)
    try:
        for frame in source:
            if frame.index in wanted:
                tiles.append(draw_pose(frame.image, poses.landmarks[frame.index]))
                tile_labels.append(wanted[frame.index])
    finally:
        source.close()
    sheet = contact_sheet(tiles, tile_labels)
    cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    return out


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
    from appliance.gait.plots import plot_gait
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
    steps = report.get("steps", [])
    if steps:
        picks = [s["frame_ic"] for s in steps][:12]
        labels = [f"IC {s['frame_ic']} {s['foot']} {s['strike']}" for s in steps][:12]
    else:
        picks = list(np.linspace(0, len(poses.t) - 1, 12).astype(int))
        labels = [f"frame {i}" for i in picks]
    report["overlay"] = write_overlay(clip, poses, picks, labels, out_dir / "overlay.png").name
    report["plots"] = [p.name for p in plot_gait(report, out_dir)]
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, default=_json_default) + "\n")
    return report


def _json_default(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and np.isnan(v):
        return None
    raise TypeError(f"not JSON serialisable: {type(v)}")
