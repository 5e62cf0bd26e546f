"""Helpers shared by the pose benchmarks: the reference run (mediapipe in its own venv) and the clip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CLIP = REPO.parent / "shared" / "data" / "treadmill_side_slowmo.mp4"
REF_PYTHON = BENCH / ".venv-reference" / "bin" / "python"
LOWER_BODY = [23, 24, 25, 26, 27, 28, 29, 30, 31, 32]  # hips, knees, ankles, heels, toes
MIRRORED = [24, 23, 26, 25, 28, 27, 30, 29, 32, 31]


def require_clip(path: Path = CLIP) -> Path:
    if not path.is_file():
        sys.exit(f"clip not found: {path} (../shared/data is needed for this benchmark)")
    return path


def reference_python() -> Path:
    """The reference venv's python, created on first use by bench/reference_env.sh."""
    if not REF_PYTHON.exists():
        subprocess.run(["bash", str(BENCH / "reference_env.sh")], check=True)
    return REF_PYTHON


def run_reference(clip: Path, out: Path, smoothing: bool = True, static: bool = False) -> dict:
    """Landmarks and per-frame times of mediapipe's solutions.pose on ``clip`` (``static``: the
    detector on every frame, no tracking)."""
    cmd = [str(reference_python()), str(BENCH / "mediapipe_reference.py"), str(clip), "--out", str(out)]
    if not smoothing:
        cmd.append("--no-smoothing")
    if static:
        cmd.append("--static")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data = np.load(out)
    return {k: data[k] for k in data.files}


def agreement(ours: np.ndarray, ref: np.ndarray, height: int) -> dict:
    """Share of lower-body landmark-frames within 2 % of image height of the reference.

    A side view may swap the model's left and right, so each frame is compared with the better of
    the two pairings (as labelled, or mirrored).
    """
    a, b = ours[:, LOWER_BODY, :2], ref[:, LOWER_BODY, :2]
    direct = np.linalg.norm(a - b, axis=-1)
    mirrored = np.linalg.norm(a - ref[:, MIRRORED, :2], axis=-1)
    use_mirror = np.nanmean(mirrored, axis=1) < np.nanmean(direct, axis=1)
    err = np.where(use_mirror[:, None], mirrored, direct)
    both = ~np.isnan(err)
    within = (err < 0.02 * height) & both
    return {
        "within_2pct": float(within.sum() / max(both.sum(), 1)),
        "median_px": float(np.nanmedian(err)),
        "p95_px": float(np.nanpercentile(err, 95)),
        "per_landmark_within": {int(j): float(within[:, k].sum() / max(both[:, k].sum(), 1)) for k, j in enumerate(LOWER_BODY)},
        "frames_mirrored": float(use_mirror.mean()),
    }


def run_reference_stage(mode: str, source: Path, out: Path) -> np.ndarray:
    """One stage of the reference alone (see bench/mediapipe_stages.py)."""
    cmd = [str(reference_python()), str(BENCH / "mediapipe_stages.py"), mode, str(source), "--out", str(out)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return np.load(out)
