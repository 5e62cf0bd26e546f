"""Frame-source selection and the clear errors of sources that cannot open."""

import sys

import pytest

from appliance.sources import SourceError, open_source


def test_auto_without_camera_means_no_frame_source_and_sim_is_not_a_camera(monkeypatch):
    import appliance.sources.base as base

    monkeypatch.setattr(base, "pi_camera_available", lambda: False)
    monkeypatch.setattr(base, "webcam_available", lambda index=0: False)
    assert open_source("auto") is None
    with pytest.raises(SourceError, match="simulated runner, not a camera") as e:
        open_source("sim")  # the simulator is chosen with the whole hardware (appliance.hardware)
    assert "--source sim" in e.value.fix and str(e.value).endswith(f"; fix: {e.value.fix}")


def test_unknown_spec_is_rejected_with_the_choices():
    with pytest.raises(SourceError, match="auto, picamera, picamera:N, webcam:N, video:PATH or sim"):
        open_source("camera-please")


def test_missing_video_file_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        open_source(f"video:{tmp_path / 'nope.mp4'}")


def test_corrupt_video_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.raises(SourceError, match="cannot open video"):
        open_source(f"video:{bad}")


def test_pi_camera_without_picamera2_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)  # import fails as on a non-Pi machine
    with pytest.raises(SourceError, match="python3-picamera2"):
        open_source("picamera")


def test_video_replay_is_paced_by_presentation_time(slowmo_clip):
    import time

    source = open_source(f"video:{slowmo_clip}", realtime=True)
    source.max_frames = 16
    t0 = time.monotonic()
    frames = list(source)
    elapsed = time.monotonic() - t0
    assert len(frames) == 16
    assert elapsed >= frames[-1].t - 0.005  # never delivered ahead of the clip's own clock


def test_a_pi_camera_by_connector_needs_a_number() -> None:
    with pytest.raises(SourceError, match="picamera:N with N its connector"):
        open_source("picamera:x")


def test_each_kind_of_source_is_one_module_found_by_the_factory():
    from appliance.sources.base import source_choices, source_kinds

    kinds = {kind.prefix: kind for kind in source_kinds()}
    assert set(kinds) == {"picamera", "webcam", "video"}  # the modules that define KIND
    assert [k.prefix for k in source_kinds() if k.auto_rank is not None] == ["picamera", "webcam"]  # auto's order
    assert source_choices() == "auto, picamera, picamera:N, webcam:N, video:PATH or sim"
    with pytest.raises(SourceError, match="names no file"):
        open_source("video")
