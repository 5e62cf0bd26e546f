"""BlazePose GHUM heavy on the regions the full model used, and the worker that runs it off the loop."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from appliance.landmarks import L
from appliance.pose.engine import PoseEngine
from appliance.pose.geometry import Roi
from appliance.pose.heavy import HeavyPose, HeavyResult, HeavyWorker
from appliance.pose.model_files import ModelError, verify_heavy
from appliance.sources.video import VideoFileSource
from appliance.types import Frame

PHONE_CLIP = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "phone_side_60fps.mp4"
# Frames at and next to eye-labelled initial contacts (bench/labels/running_form_img5396.json: 28.5,
# 49, 71.5), where the gait stage will run heavy. Single frames can disagree a lot: on frame 29 heavy
# folds both legs onto the midline while full has them right, so the gait stage reads several frames.
CONTACT_FRAMES = (28, 30, 49, 71, 72)
LEFT = [L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE]
RIGHT = [L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE]


@pytest.fixture(scope="module")
def heavy_model_dir(model_dir) -> Path:
    try:
        verify_heavy(model_dir)
    except ModelError as e:
        pytest.skip(f"heavy pose model not available: {e}")
    return model_dir


@pytest.fixture(scope="module")
def phone_contacts(model_dir) -> list[tuple[Frame, Roi, np.ndarray]]:
    """(frame, the ROI full used, full's landmarks) at CONTACT_FRAMES, tracked from the first frame."""
    if not PHONE_CLIP.is_file():
        pytest.skip(f"real clip not available: {PHONE_CLIP} (../shared/data is absent)")
    engine = PoseEngine(model_dir, threads=2)
    kept = []
    for frame in VideoFileSource(PHONE_CLIP, max_frames=max(CONTACT_FRAMES) + 1):
        pose = engine.process(frame)
        if frame.index in CONTACT_FRAMES:
            assert pose is not None and engine.last_roi is not None
            kept.append((frame, engine.last_roi, pose.landmarks))
    return kept


@pytest.fixture(scope="module")
def heavy(heavy_model_dir) -> HeavyPose:
    return HeavyPose(heavy_model_dir, threads=1)


# --- the engine's region ---


@pytest.mark.model
@pytest.mark.real_data
def test_engine_exposes_the_region_it_ran_the_landmark_model_on(model_dir, phone_contacts):
    frame, roi, _ = phone_contacts[0]
    assert isinstance(roi, Roi) and roi.size > 0.3 * frame.image.shape[0]
    assert 0 <= roi.cx < frame.image.shape[1] and 0 <= roi.cy < frame.image.shape[0]
    engine = PoseEngine(model_dir, threads=1)
    assert engine.last_roi is None
    assert engine.process(Frame(0.0, 0, np.full((360, 480, 3), 128, np.uint8))) is None  # nobody: no landmark model
    assert engine.last_roi is None


# --- heavy on a given region ---


@pytest.mark.model
@pytest.mark.real_data
def test_heavy_agrees_with_full_on_the_big_joints(heavy, phone_contacts):
    for frame, roi, full in phone_contacts:
        landmarks = heavy.landmarks(frame.image, roi)
        assert landmarks.shape == (33, 5) and landmarks.dtype == full.dtype == np.float32
        assert ((landmarks[:, 3:] >= 0) & (landmarks[:, 3:] <= 1)).all()
        assert heavy.last_presence > 0.9
        # Left and right legs look alike from the side: either model may name them the other way.
        height = frame.image.shape[0]
        same = np.linalg.norm(landmarks[LEFT + RIGHT, :2] - full[LEFT + RIGHT, :2], axis=1)
        swapped = np.linalg.norm(landmarks[LEFT + RIGHT, :2] - full[RIGHT + LEFT, :2], axis=1)
        worst = min(same.max(), swapped.max())
        assert worst < 0.06 * height, f"frame {frame.index}: hips/knees/ankles {worst:.0f} px apart ({worst / height:.1%} of the height)"


def test_heavy_missing_names_the_fix(tmp_path):
    with pytest.raises(ModelError, match="pose_landmark_heavy.tflite is missing; fix: run `appliance fetch-model"):
        HeavyPose(tmp_path)


@pytest.mark.model
def test_heavy_refuses_an_image_that_is_not_rgb_uint8(heavy):
    roi = Roi(100, 100, 150, 0.0)
    with pytest.raises(ValueError, match="RGB uint8"):
        heavy.landmarks(np.zeros((200, 200), np.uint8), roi)
    with pytest.raises(ValueError, match="RGB uint8"):
        heavy.landmarks(np.zeros((200, 200, 3), np.float32), roi)


# --- the worker ---


class GatedModel:
    """A stand-in for HeavyPose: waits for ``gate`` on each call, fails on the key-image ``bad``."""

    def __init__(self):
        self.gate = threading.Event()
        self.started = threading.Event()
        self.bad = np.zeros((1, 1, 3), np.uint8)

    def landmarks(self, image, roi):
        self.started.set()
        assert self.gate.wait(10), "test gate never opened"
        if image is self.bad:
            raise ValueError("a broken request")
        return np.full((33, 5), roi.size, np.float32)


def _roi(k: int) -> Roi:
    return Roi(0.0, 0.0, float(k + 1), 0.0)


def test_worker_drops_the_oldest_waiting_request_when_full():
    model = GatedModel()
    worker = HeavyWorker(model, max_pending=3)
    image = np.zeros((4, 4, 3), np.uint8)
    worker.submit(0, image, _roi(0))
    assert model.started.wait(5)  # request 0 is running, the queue is empty
    for k in range(1, 6):  # 5 more into a queue of 3: requests 1 and 2 are dropped
        worker.submit(k, image, _roi(k))
    assert worker.dropped == 2 and worker.pending == 4
    assert worker.poll() == []  # nothing finished, and poll did not wait
    model.gate.set()
    assert worker.wait_idle(timeout=10)
    results = worker.poll()
    assert [r.key for r in results] == [0, 3, 4, 5]
    assert all(r.error is None and r.landmarks[0, 0] == r.key + 1 and r.ms >= 0 for r in results)
    assert worker.poll() == []  # each result is returned once
    worker.close()
    assert not worker._thread.is_alive()
    with pytest.raises(RuntimeError, match="after close"):
        worker.submit(9, image, _roi(9))


def test_worker_returns_errors_with_their_request():
    model = GatedModel()
    model.gate.set()
    with HeavyWorker(model) as worker:
        worker.submit("bad", model.bad, _roi(0))
        worker.submit("good", np.zeros((4, 4, 3), np.uint8), _roi(1))
        assert worker.wait_idle(timeout=10)
        bad, good = worker.poll()
    assert bad.key == "bad" and bad.landmarks is None and isinstance(bad.error, ValueError)
    assert good == HeavyResult("good", good.landmarks, good.ms, None) and good.landmarks.shape == (33, 5)


def test_close_finishes_the_queued_requests_and_joins():
    model = GatedModel()
    worker = HeavyWorker(model, max_pending=4)
    for k in range(3):
        worker.submit(k, np.zeros((4, 4, 3), np.uint8), _roi(k))
    threading.Timer(0.1, model.gate.set).start()
    worker.close()
    assert not worker._thread.is_alive()
    assert [r.key for r in worker.poll()] == [0, 1, 2]


@pytest.mark.model
@pytest.mark.real_data
def test_worker_runs_the_real_model_like_a_direct_call(heavy_model_dir, heavy, phone_contacts):
    with HeavyWorker.from_model_dir(heavy_model_dir, threads=1) as worker:
        for frame, roi, _ in phone_contacts[:2]:
            worker.submit(frame.index, frame.image, roi)
        assert worker.wait_idle(timeout=60)
        results = worker.poll()
    assert [r.key for r in results] == [f.index for f, _, _ in phone_contacts[:2]]
    for (frame, roi, _), result in zip(phone_contacts[:2], results, strict=True):
        assert result.error is None and result.ms > 0
        np.testing.assert_allclose(result.landmarks, heavy.landmarks(frame.image, roi), atol=1e-3)
