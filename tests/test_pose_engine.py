"""The pose engine on the real clip: tracking, hand-off, timestamps, and ``appliance analyze``."""

import json
import subprocess
import sys

import numpy as np
import pytest

from appliance.landmarks import L
from appliance.pose.engine import PoseEngine
from appliance.sources.video import VideoFileSource
from appliance.types import Frame


@pytest.fixture(scope="module")
def frames(slowmo_clip):
    return list(VideoFileSource(slowmo_clip, max_frames=60))


@pytest.fixture()
def engine(model_dir):
    return PoseEngine(model_dir, threads=2)


def test_video_timestamps_are_presentation_times(frames):
    t = np.array([f.t for f in frames])
    assert t[0] == 0.0
    np.testing.assert_allclose(np.diff(t), 1 / 29.97, atol=2e-3)
    assert [f.index for f in frames] == list(range(60))
    assert frames[0].image.shape == (360, 480, 3) and frames[0].image.dtype == np.uint8


def test_tracks_the_runner_with_one_detection(engine, frames):
    poses = [engine.process(f) for f in frames]
    assert all(p is not None for p in poses)
    assert engine.detector_runs == 1  # the ROI is tracked from the landmarks after the first frame
    p = poses[30]
    assert p.t == frames[30].t and p.frame_index == 30
    # Anatomy in a side view: feet below knees below hips below shoulders, all inside the image.
    for side in ("LEFT", "RIGHT"):
        y = {n: p.landmarks[L[f"{side}_{n}"], 1] for n in ("SHOULDER", "HIP", "KNEE", "HEEL")}
        assert y["SHOULDER"] < y["HIP"] < y["KNEE"] < y["HEEL"] <= 360
    assert (p.visibility[[L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE]] > 0.5).all()


def test_hand_off_when_the_runner_leaves_and_returns(engine, frames):
    assert engine.process(frames[0]) is not None
    empty = Frame(frames[1].t, 1, np.full_like(frames[1].image, 128))
    for k in range(3):  # an empty belt: the pose flag drops, then the detector finds nobody
        assert engine.process(Frame(empty.t + k, 1 + k, empty.image)) is None
    assert not engine.tracking
    runs = engine.detector_runs
    back = frames[10]
    pose = engine.process(Frame(back.t + 10, 10, back.image))
    assert pose is not None and engine.detector_runs == runs + 1
    assert engine.tracking


def test_analyze_cli_end_to_end(slowmo_clip, model_dir, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "appliance", "analyze", str(slowmo_clip), "--out", str(out),
         "--max-frames", "320", "--model-dir", str(model_dir), "--threads", "2"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    data = np.load(out / "landmarks.npz")
    assert data["t"].shape == (320,) and data["landmarks"].shape == (320, 33, 4)
    report = json.loads((out / "report.json").read_text())
    assert report["frames"] == 320 and report["frames_with_pose"] >= 317
    assert report["fps"] == pytest.approx(29.97, abs=0.01)
    for stage in ("decode", "preprocess", "invoke", "postprocess", "filter"):
        assert report["timing"][stage]["median_ms"] > 0
    assert (out / report["overlay"]).stat().st_size > 10_000
    assert report["direction"] == "right"
    assert {"frame_ic", "t_ic", "foot", "strike"} <= set(report["steps"][0])
    # Slow motion analysed without its time scale: no step rhythm in the plausible range (a step
    # spans 3.4 clip seconds), so no cadence is made up from the trunk, and the fix is printed.
    assert report["cadence_source"] == "steps" and "give --time-scale" in proc.stdout
    # The clinician running it is told on the terminal too when the feet were seen unsteadily.
    assert ("warning: the foot angle in mid-stance varies" in proc.stdout) == report["strike_unsteady"]


def test_missing_model_is_a_clear_cli_error(slowmo_clip, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "appliance", "analyze", str(slowmo_clip), "--out", str(tmp_path / "o"),
         "--model-dir", str(tmp_path / "nothing")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    assert "appliance fetch-model" in proc.stderr and "Traceback" not in proc.stderr
