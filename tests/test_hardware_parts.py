"""appliance.hardware: real or simulated chosen once from the source spec, one interface per part
(each checks itself), the simulator's pass-through pose and rotated WAV recordings, and the one error
root printed the same way by the CLI, the panel and selftest."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from appliance.checks import CheckOptions, CheckResult
from appliance.config import Settings
from appliance.errors import ApplianceError, with_fix
from appliance.hardware import open_hardware
from appliance.hardware.real import RealHardware
from appliance.hardware.simulated import DEMO_SPEED, PassThroughPose, SimulatedRunnerCamera


@pytest.fixture
def no_camera(monkeypatch):
    import appliance.sources.base as base

    monkeypatch.setattr(base, "pi_camera_available", lambda: False)
    monkeypatch.setattr(base, "webcam_available", lambda index=0: False)


def test_the_source_spec_chooses_the_hardware_once(tmp_path: Path, no_camera) -> None:
    settings = Settings()
    embedded = open_hardware(settings, "auto", tmp_path)
    assert isinstance(embedded, SimulatedRunnerCamera) and embedded.embedded
    assert embedded.demo and embedded.speed == DEMO_SPEED  # the embedded default's demo, sped up
    sim = open_hardware(settings, "sim", tmp_path, speed=3.0)
    assert isinstance(sim, SimulatedRunnerCamera) and not sim.embedded and not sim.demo and sim.speed == 3.0
    assert isinstance(open_hardware(settings, "video:clip.mp4", tmp_path), RealHardware)
    # selftest: auto without a camera is a camera to fail, never the simulator
    assert isinstance(open_hardware(settings, "auto", tmp_path, fall_back_to_sim=False), RealHardware)


def test_every_part_of_both_kinds_checks_itself_in_the_selftest_order(tmp_path: Path) -> None:
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    from appliance.outputs.gpio import Pins

    settings = Settings.model_validate({"audio": {"sink": "null"}, "button": {"enabled": False},
                                        "lights": {"driver": "none"}})
    pins = Pins(factory=MockFactory(pin_class=MockPWMPin))
    for hardware in (open_hardware(settings, "sim", tmp_path, pins=pins),
                     open_hardware(settings, f"video:{tmp_path / 'none.mp4'}", tmp_path, pins=pins)):
        results = [part.check(CheckOptions(frames=2)) for part in hardware.parts()]
        assert [r.name for r in results] == ["camera", "model", "audio", "leds", "button"]
        assert all(isinstance(r, CheckResult) for r in results)
        assert [r.status for r in results[2:]] == ["SKIP", "SKIP", "SKIP"]  # null sink, no strip, no button
    sim_camera, sim_pose = (part.check(CheckOptions()) for part in open_hardware(settings, "sim", tmp_path).parts()[:2])
    assert sim_camera.status == sim_pose.status == "SKIP" and "carry their pose" in sim_pose.detail


def test_the_simulated_frames_carry_their_pose_through_the_provider(tmp_path: Path) -> None:
    hardware = open_hardware(Settings(), "sim", tmp_path, speed=1000.0)
    frames = hardware.open_frames(replay="realtime", time_scale=0.5)
    assert frames.lockstep and not frames.pixels and frames.time_scale == 1.0  # simulated time is its own
    provider = frames.pose
    assert isinstance(provider, PassThroughPose) and not provider.model_loaded
    for frame in frames.source:
        if frame.pose is not None:
            break
    camera = Settings().camera
    assert frame.image is None and frame.size == (camera.width, camera.height)
    assert provider.process(frame) is frame.pose and provider.stage_ms() == {}
    frames.source.close()


def test_the_runner_follows_the_metronome_of_its_own_cue_player(tmp_path: Path) -> None:
    from types import SimpleNamespace

    hardware = open_hardware(Settings(), "sim", tmp_path, speed=1000.0)
    frames = hardware.open_frames(replay="realtime", time_scale=1.0)
    player = hardware.cue_player(None, None)
    player.handle([SimpleNamespace(kind="metronome", t=0.0, payload={"bpm": 178.0})])
    assert frames.source.target_cadence_spm == 178.0 and player.offline_audio


def read_wav_frames(path: Path) -> int:
    with wave.open(str(path)) as w:
        assert w.getframerate() == 8000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        return w.getnframes()


def test_the_recording_rotates_and_keeps_only_the_newest_files(tmp_path: Path) -> None:
    from appliance.outputs.sinks import RotatingWavWriter

    directory = tmp_path / "audio"
    directory.mkdir()
    earlier = [directory / "run-20200101-000000.wav", directory / "run-20200101-000100-001.wav"]
    for path in earlier:  # an earlier run's recordings count towards the files kept
        path.write_bytes(b"RIFF")
    writer = RotatingWavWriter(directory, 8000, file_seconds=1.0, keep=2)
    assert not any(p.exists() for p in earlier[:1])  # the oldest went at once: 2 kept with the new one
    block = np.full(800, 0.25, dtype=np.float32)  # 0.1 s
    for _ in range(35):  # 3.5 s: four files of at most 1 s each, the first two removed
        writer.write(block)
    writer.close()
    files = sorted(directory.glob("run-*.wav"))
    assert len(files) == 2 and not earlier[1].exists()
    assert [read_wav_frames(p) for p in files] == [8000, 4000]  # the newest 1.5 s
    assert writer.samples_written == 35 * 800 and writer.samples_dropped == 0


def test_a_recording_that_cannot_open_says_so_with_the_fix(tmp_path: Path) -> None:
    from appliance.outputs.sinks import AudioError, RotatingWavWriter

    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with pytest.raises(AudioError) as e:
        RotatingWavWriter(blocked / "audio", 8000)
    assert "cannot open the recording" in e.value.message and "audio.sink to null" in e.value.fix


def test_the_simulated_audio_out_renders_into_the_rotated_recording(tmp_path: Path) -> None:
    settings = Settings.model_validate({"audio": {"sample_rate": 16000}})
    audio = open_hardware(settings, "sim", tmp_path).audio
    engine = audio.open()
    try:
        engine.metronome.start(180)
        engine.advance(seconds=1.0)
    finally:
        engine.close()
    (path,) = (tmp_path / "audio").glob("run-*.wav")
    with wave.open(str(path)) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert len(samples) == 16000 and np.abs(samples).max() > 1000  # the beats are in it
    assert audio.check(CheckOptions()).status == "PASS"


def test_an_appliance_error_is_its_message_then_its_fix() -> None:
    from appliance.outputs.sinks import AudioError
    from appliance.runtime.errors import StartupError
    from appliance.sources.base import SourceError
    from appliance.store import StoreError

    for cls in (StartupError, SourceError, AudioError, StoreError):
        assert issubclass(cls, ApplianceError)
    error = SourceError("no Pi camera 0 found", "check the ribbon cable")
    assert str(error) == with_fix(error.message, error.fix) == "no Pi camera 0 found; fix: check the ribbon cable"
    assert str(SourceError("no fix known")) == "no fix known"
    result = CheckResult.failed("camera", error, context="cannot open picamera", fix="unused: the error has one")
    assert result.line() == "FAIL  camera      cannot open picamera: no Pi camera 0 found; fix: check the ribbon cable"


def test_the_cli_prints_a_part_s_error_as_message_then_fix(tmp_path: Path, capsys) -> None:
    from appliance.cli import main

    code = main(["run", "--source", "webcam:x", "--no-panel", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip() == ("appliance run: error: source 'webcam:x' is not a webcam number; "
                           "fix: the webcam is webcam:N with N its number (webcam:0 is /dev/video0)")


def test_the_panel_shows_an_appliance_error_in_the_same_shape() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from appliance.web.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise ApplianceError("the audio output stopped", "check the amplifier")

    response = TestClient(app).get("/boom")
    assert response.status_code == 409
    assert response.json()["detail"] == "the audio output stopped; fix: check the amplifier"
