"""`appliance selftest`: each part's check against real files, a real TFLite model, real espeak-ng
audio in a WAV file and gpiozero's mock pins; the loop over the parts; the command's output and exit
status."""

from __future__ import annotations

import io
import json
import threading
import time
import wave
from collections import namedtuple
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from appliance.checks import CheckOptions
from appliance.cli import main
from appliance.commands import selftest as st
from appliance.config import Settings
from appliance.outputs.audio_out import AudioOut
from appliance.outputs.button import ButtonPart
from appliance.outputs.gpio import Pins
from appliance.outputs.lights import LightStrip
from appliance.pose.part import TflitePose
from appliance.sources.camera import Camera


def mock_factory():
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    return MockFactory(pin_class=MockPWMPin)


def write_clip(path: Path, fps: int, level: int, frames: int = 20) -> Path:
    """A small real video file (H.264 through PyAV) of flat grey frames at ``fps``."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        image = np.full((240, 320, 3), level, dtype=np.uint8)
        for _ in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def check_camera(settings: Settings, frames: int):
    return Camera(settings.camera).check(CheckOptions(frames=frames))


def check_model(settings: Settings):
    return TflitePose(settings.pose, settings.camera).check(CheckOptions())


def check_audio(settings: Settings, word: str):
    return AudioOut(settings.audio, settings.storage.data_dir).check(CheckOptions(word=word))


def check_leds(settings: Settings, factory, step_seconds: float):
    return LightStrip(settings.lights, Pins(factory=factory)).check(CheckOptions(), step_seconds=step_seconds)


def check_button(settings: Settings, factory, timeout: float, prompt):
    return ButtonPart(settings.button, Pins(factory=factory)).check(CheckOptions(button_timeout=timeout, prompt=prompt))


def settings_with(**sections) -> Settings:
    s = Settings()
    for dotted, value in sections.items():
        section, key = dotted.split("__")
        setattr(getattr(s, section), key, value)
    return s


# --- camera ---


def test_camera_measures_the_rate_from_capture_times(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", fps=30, level=128)
    result = check_camera(settings_with(camera__source=f"video:{clip}", camera__fps=30.0), frames=15)
    assert result.status == "PASS", result.line()
    assert "320x240, 30.0 frames/s measured over 15 frames" in result.detail


def test_camera_too_slow_for_the_configured_rate_fails_with_the_fix(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", fps=30, level=128)
    result = check_camera(settings_with(camera__source=f"video:{clip}", camera__fps=60.0), frames=10)
    assert result.status == "FAIL"
    assert "60 frames/s configured" in result.detail and "lower camera.fps" in result.fix


def test_camera_black_image_fails(tmp_path):
    clip = write_clip(tmp_path / "dark.mp4", fps=30, level=3)
    result = check_camera(settings_with(camera__source=f"video:{clip}", camera__fps=30.0), frames=10)
    assert result.status == "FAIL" and "almost black" in result.detail and "lens cap" in result.fix


def test_camera_absent_fails_with_the_fix():
    if Path("/dev/video0").exists():
        pytest.skip("this machine has a camera")
    from appliance.sources.base import pi_camera_available

    if pi_camera_available():
        pytest.skip("this machine has a Pi camera")
    result = check_camera(Settings(), frames=5)
    assert result.status == "FAIL"
    assert "no camera found" in result.detail and "camera_auto_detect=1" in result.fix


def test_camera_missing_file_fails_and_sim_is_skipped(tmp_path):
    missing = check_camera(settings_with(camera__source=f"video:{tmp_path / 'none.mp4'}"), frames=5)
    assert missing.status == "FAIL" and "does not exist" in missing.detail
    sim = settings_with(camera__source="sim", storage__data_dir=tmp_path)
    options = st.SelftestOptions(model=False, audio=False, leds=False, button=False)
    camera = st.run_selftest(sim, options, out=lambda line: None)[0]
    assert camera.name == "camera" and camera.status == "SKIP" and "the simulated runner" in camera.detail


# --- model ---


def test_model_loads_and_runs_once(model_dir):
    result = check_model(settings_with(pose__model_dir=model_dir, pose__threads=2))
    assert result.status == "PASS", result.line()
    assert "pose_detection load" in result.detail and "pose_landmark_full load" in result.detail
    assert "engine on a black 640x480 frame" in result.detail and "nobody found" in result.detail


def test_model_missing_fails_with_the_fetch_command(tmp_path):
    result = check_model(settings_with(pose__model_dir=tmp_path))
    assert result.status == "FAIL"
    assert "is missing" in result.detail
    assert result.fix == f"run `appliance fetch-model --model-dir {tmp_path}`"


# --- audio ---


def test_audio_through_the_engine_to_a_wav_sink_is_a_beep_then_speech(tmp_path):
    out = tmp_path / "selftest.wav"
    settings = settings_with(audio__sink=f"wav:{out}", audio__sample_rate=16000, storage__data_dir=tmp_path)
    result = check_audio(settings, word="ready")
    assert result.status == "PASS", result.line()
    assert "spoken prompts cached" in result.detail
    with wave.open(str(out)) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
    assert rate == 16000
    start = int(np.flatnonzero(np.abs(samples) > 0.05)[0])  # the stream may begin with silent blocks
    beep = samples[start : start + int(0.2 * rate)]
    spectrum = np.abs(np.fft.rfft(beep))
    assert np.fft.rfftfreq(len(beep), 1 / rate)[spectrum.argmax()] == pytest.approx(880, abs=8)
    speech = samples[start + int(0.4 * rate) :]
    assert len(speech) > 0.2 * rate and np.sqrt(np.mean(speech**2)) > 0.01  # espeak-ng said something


def test_audio_without_espeak_fails_with_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = check_audio(settings_with(audio__sink=f"wav:{tmp_path / 'x.wav'}"), word="ready")
    assert result.status == "FAIL" and "apt install espeak-ng" in result.fix


def test_audio_without_a_sound_device_fails_with_the_amplifier_fix(tmp_path):
    import sounddevice as sd

    if any(d["max_output_channels"] > 0 for d in sd.query_devices()):
        pytest.skip("this machine has a sound output")
    result = check_audio(settings_with(audio__sink="auto", storage__data_dir=tmp_path), word="ready")
    assert result.status == "FAIL" and "cannot open the audio output" in result.detail
    assert "dtoverlay=max98357a" in result.fix


def test_audio_null_sink_is_skipped():
    assert check_audio(settings_with(audio__sink="null"), word="ready").status == "SKIP"


# --- LEDs and button ---


def test_led_sweep_drives_each_configured_pin():
    factory = mock_factory()
    settings = Settings()
    result = check_leds(settings, factory, step_seconds=0.001)
    assert result.status == "PASS", result.line()
    lights = settings.lights
    for pin in (lights.red_pin, lights.green_pin, lights.blue_pin):
        values = [s.state for s in factory.pin(pin).states]
        assert max(values) == pytest.approx(lights.brightness)  # lit during the sweep
        assert values[-1] == 0  # and off at the end


def test_led_pin_in_use_fails_with_the_fix():
    from gpiozero import LED

    factory = mock_factory()
    busy = LED(Settings().lights.red_pin, pin_factory=factory)
    try:
        result = check_leds(Settings(), factory, step_seconds=0.001)
    finally:
        busy.close()
    assert result.status == "FAIL" and "cannot open GPIO" in result.detail
    assert "systemctl stop appliance" in result.fix


def test_button_press_within_the_timeout_passes():
    factory = mock_factory()
    pin = factory.pin(Settings().button.pin)
    threading.Timer(0.1, pin.drive_low).start()
    prompts = []
    result = check_button(Settings(), factory, timeout=5, prompt=prompts.append)
    assert result.status == "PASS", result.line()
    assert "press the button (GPIO 26)" in prompts[0]


def test_button_not_pressed_fails_with_the_wiring():
    t0 = time.monotonic()
    result = check_button(Settings(), mock_factory(), timeout=0.2, prompt=lambda _: None)
    assert time.monotonic() - t0 < 2
    assert result.status == "FAIL" and "GPIO 26 and GND" in result.fix


def test_button_stuck_pressed_fails():
    from gpiozero.pins.mock import MockPWMPin

    class ShortedToGroundPin(MockPWMPin):
        """A button pin wired to GND permanently: the pull-up cannot lift it."""

        def drive_high(self):
            self.drive_low()

    factory = mock_factory()
    factory.pin(26, pin_class=ShortedToGroundPin)
    result = check_button(Settings(), factory, timeout=0.2, prompt=lambda _: None)
    assert result.status == "FAIL" and "reads pressed" in result.detail


# --- disk, temperature, throttling ---


def test_disk_free_space(tmp_path, monkeypatch):
    assert st.check_disk(tmp_path / "not" / "yet").status == "PASS"
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(st.shutil, "disk_usage", lambda p: Usage(32e9, 31.7e9, 0.3e9))
    low = st.check_disk(tmp_path)
    assert low.status == "WARN" and "0.30 GB free" in low.detail  # below 1 GB: a warning (tests/test_faults_selftest.py)


def fake_sys(tmp_path: Path, millidegrees: int) -> Path:
    zone = tmp_path / "sys/class/thermal/thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "temp").write_text(f"{millidegrees}\n")
    return tmp_path


def test_temperature_and_throttling(tmp_path):
    ok = st.check_temperature(fake_sys(tmp_path / "a", 45123), throttled=0)
    assert ok.status == "PASS" and "45.1 °C" in ok.detail and "never throttled" in ok.detail
    hot = st.check_temperature(fake_sys(tmp_path / "b", 83000), throttled=None)
    assert hot.status == "FAIL" and "Active Cooler" in hot.fix
    starved = st.check_temperature(fake_sys(tmp_path / "c", 50000), throttled=0x50000)
    assert starved.status == "FAIL" and "under-voltage since boot" in starved.detail and "27 W" in starved.fix
    assert st.check_temperature(tmp_path / "empty", throttled=None).status == "SKIP"


def test_throttling_is_read_from_the_firmware_and_a_broken_sensor_fails_the_check(tmp_path):
    from appliance.runtime.host import read_throttled

    root = fake_sys(tmp_path, 51000)
    firmware = root / "sys/devices/platform/axi/axi:firmware"
    firmware.mkdir(parents=True)
    (firmware / "get_throttled").write_text("0x50000\n")
    assert read_throttled(root) == 0x50000
    options = st.SelftestOptions(camera=False, model=False, audio=False, leds=False, button=False, sys_root=root)
    temperature = st.run_selftest(Settings(), options, out=lambda line: None)[-1]
    assert temperature.status == "FAIL" and "51.0 °C" in temperature.detail and "under-voltage since boot" in temperature.detail

    (root / "sys/class/thermal/thermal_zone0/temp").write_text("garbage\n")
    temperature = st.run_selftest(Settings(), options, out=lambda line: None)[-1]
    assert temperature.status == "FAIL" and "ValueError" in temperature.detail


def test_decode_throttled():
    from appliance.runtime.host import decode_throttled

    assert decode_throttled(0x50005) == [
        "under-voltage now",
        "throttled now",
        "under-voltage since boot",
        "throttled since boot",
    ]
    assert decode_throttled(0) == []


# --- the whole run and the command ---


def test_full_run_with_mock_hardware(tmp_path, model_dir):
    clip = write_clip(tmp_path / "clip.mp4", fps=30, level=128)
    settings = settings_with(
        camera__source=f"video:{clip}",
        camera__fps=30.0,
        pose__model_dir=model_dir,
        audio__sink=f"wav:{tmp_path / 'out.wav'}",
        storage__data_dir=tmp_path,
    )
    factory = mock_factory()
    lines = []

    def out(line: str) -> None:
        lines.append(line)
        if "press the button" in line:  # the technician presses after the prompt
            threading.Timer(0.1, factory.pin(26).drive_low).start()

    options = st.SelftestOptions(frames=10, button_timeout=5, sys_root=fake_sys(tmp_path / "root", 50000))
    results = st.run_selftest(settings, options, pin_factory=factory, out=out)
    assert [r.name for r in results] == ["camera", "model", "audio", "leds", "button", "disk", "backup", "temperature"]
    expected = dict.fromkeys([r.name for r in results], "PASS") | {"backup": "SKIP"}  # no backup target set
    assert {r.name: r.status for r in results} == expected, lines
    assert sum(line.startswith("PASS") for line in lines) == 7 and len(lines) == 9  # 8 checks and the prompt


def run_cli(*argv) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["selftest", *argv])
    return code, buf.getvalue()


def test_command_exits_nonzero_when_a_check_fails(tmp_path):
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"pose": {"model_dir": str(tmp_path / "models")}, "storage": {"data_dir": str(tmp_path)}}))
    code, out = run_cli("--config", str(config), "--no-hardware")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("SKIP  camera")
    assert lines[1].startswith("FAIL  model") and "fix: run `appliance fetch-model" in lines[1]
    assert lines[-1].endswith("failed: model")


def test_command_with_mock_gpio_reports_every_part(tmp_path, model_dir):
    config = tmp_path / "settings.json"
    config.write_text(
        json.dumps(
            {
                "pose": {"model_dir": str(model_dir)},
                "gpio": {"pin_factory": "mock"},
                "audio": {"sink": f"wav:{tmp_path / 'out.wav'}"},
                "storage": {"data_dir": str(tmp_path)},
            }
        )
    )
    code, out = run_cli("--config", str(config), "--no-camera", "--button-timeout", "0.2")
    assert code == 1  # nobody pressed the mock button
    status = {line.split()[1]: line.split()[0] for line in out.splitlines() if line[:4] in {"PASS", "FAIL", "SKIP"}}
    assert status["camera"] == "SKIP" and status["model"] == "PASS" and status["audio"] == "PASS"
    assert status["leds"] == "PASS" and status["button"] == "FAIL" and status["disk"] == "PASS"


def test_default_config_is_the_appliance_settings_when_provisioned(tmp_path, monkeypatch):
    from appliance.cli import CommandError

    monkeypatch.setattr(st, "APPLIANCE_STATE_DIR", tmp_path / "absent")
    assert st.default_config_path() is None  # a laptop: defaults
    monkeypatch.setattr(st, "APPLIANCE_STATE_DIR", tmp_path)
    (tmp_path / "settings.json").write_text("{}")
    assert st.default_config_path() == tmp_path / "settings.json"
    monkeypatch.setattr(st.os, "access", lambda path, mode: False)  # another user than `appliance`
    with pytest.raises(CommandError, match="sudo -u appliance appliance selftest"):
        st.default_config_path()
