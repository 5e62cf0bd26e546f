"""The session's video, kept on the device only when the clinician turns camera.record_video on:
written off the loop with each frame's capture time, never when off, removed with the session."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest
from waiting import wait_for

from appliance.config import Settings
from appliance.runtime.session_video import SessionVideo
from appliance.store import Store
from appliance.store.erase import erase_runner
from appliance.store.videos import session_video_paths


def frame_image(i: int, width: int = 160, height: int = 120) -> np.ndarray:
    """An RGB frame with a bright square that moves one step per frame (so frames differ)."""
    image = np.zeros((height, width, 3), np.uint8)
    x = (i * 4) % (width - 20)
    image[40:60, x:x + 20] = (255, 200, 0)
    return image


def read_back(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            return frames
        frames.append(image)


def capture_times(path: Path) -> list[float]:
    with open(path, newline="") as f:
        return [float(row["capture_time_s"]) for row in csv.DictReader(f)]


def test_a_recorded_session_s_frames_are_kept_with_their_capture_times(tmp_path: Path) -> None:
    video = SessionVideo(tmp_path, fps=30, enabled=lambda: True)
    times = [10.0 + i / 30 for i in range(45)]
    for i, t in enumerate(times[:5]):
        video.offer(None, frame_image(i), t)  # no session yet: nothing kept
    for i, t in enumerate(times[5:], start=5):
        video.offer(7, frame_image(i), t)
    video.offer(None, frame_image(0), 12.0)  # the session ended
    video.close()
    mp4, csv_path = session_video_paths(tmp_path, 7)
    frames = read_back(mp4)
    assert video.frames_dropped == 0 and len(frames) == 40 == video.frames_written
    assert frames[0].shape == (120, 160, 3)
    assert capture_times(csv_path) == pytest.approx(times[5:], abs=1e-6)  # the events' clock, not the file's rate
    assert sorted(p.name for p in mp4.parent.iterdir()) == ["session-7.mp4", "session-7.times.csv"]


def test_nothing_is_kept_while_recording_is_off_and_the_setting_applies_from_the_next_session(tmp_path: Path) -> None:
    on = {"value": False}
    video = SessionVideo(tmp_path, fps=30, enabled=lambda: on["value"])
    for i in range(10):
        video.offer(1, frame_image(i), i / 30)
    on["value"] = True  # turned on mid-session: session 1 stays unrecorded
    for i in range(10, 20):
        video.offer(1, frame_image(i), i / 30)
    for i in range(20, 30):
        video.offer(2, frame_image(i), i / 30)
    video.close()
    assert not session_video_paths(tmp_path, 1)[0].exists()
    assert len(read_back(session_video_paths(tmp_path, 2)[0])) == 10


def test_a_writer_that_cannot_write_stops_that_video_and_the_loop_goes_on(tmp_path: Path) -> None:
    blocked = tmp_path / "data"
    blocked.mkdir()
    (blocked / "video").write_text("a file where the video folder should be")
    video = SessionVideo(blocked, fps=30, enabled=lambda: True)
    for i in range(10):
        video.offer(3, frame_image(i), i / 30)  # never raises on the loop's thread
    video.close()
    assert video.frames_written == 0


def test_erasing_a_runner_removes_their_sessions_videos(tmp_path: Path) -> None:
    store = Store(tmp_path)
    try:
        ann, bob = store.create_runner("Ann"), store.create_runner("Bob")
        ann_session = store.create_session(ann.id, source="video:clip.mp4").id
        bob_session = store.create_session(bob.id, source="video:clip.mp4").id
        for sid in (ann_session, bob_session):
            video = SessionVideo(tmp_path, fps=30, enabled=lambda: True)
            for i in range(5):
                video.offer(sid, frame_image(i), i / 30)
            video.close()
        erased = erase_runner(store, ann.id, "Ann")
    finally:
        store.close()
    assert erased.videos == 1 and "with 1 session video" in erased.sentence("Ann")
    assert not any(p.exists() for p in session_video_paths(tmp_path, ann_session))
    assert all(p.exists() for p in session_video_paths(tmp_path, bob_session))


@pytest.mark.parametrize("record", [True, False])
def test_appliance_run_keeps_a_session_s_video_only_when_turned_on(tmp_path: Path, model_dir: Path, record: bool) -> None:
    from appliance.runtime.app import RunOptions, Runtime

    clip = tmp_path / "side.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 240))
    for i in range(30 * 8):
        writer.write(cv2.cvtColor(frame_image(i, 320, 240), cv2.COLOR_RGB2BGR))
    writer.release()
    data = tmp_path / "data"
    settings = Settings.model_validate({"camera": {"record_video": record}})
    rt = Runtime(settings, RunOptions(source=f"video:{clip}", data_dir=data, panel=False))
    rt.start()
    try:
        session_id = rt.start_session(rt.store.create_runner("Ann").id)
        wait_for(lambda: rt.loop.t is not None and rt.loop.t > 3.0, timeout=30, what="3 s of the clip")
        rt.stop_session()
    finally:
        rt.shutdown()
    mp4, csv_path = session_video_paths(data, session_id)
    if record:
        times = capture_times(csv_path)
        assert len(read_back(mp4)) == len(times) >= 10
        assert times == sorted(times)
    else:
        assert not (data / "video").exists()
