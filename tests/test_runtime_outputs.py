"""Coach events into sound and light: the real audio engine rendering offline into a WAV file, the
real light strip on gpiozero's MockFactory; and the camera snapshot's framing advice."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from appliance.config import AudioSettings, LightSettings
from appliance.runtime.camera_view import framing_advice
from appliance.runtime.outputs import OutputRouter
from appliance.runtime.session import SessionEvent
from appliance.types import Pose


@pytest.fixture
def router(tmp_path: Path):
    from appliance.outputs import AudioEngine, Lights, make_pin_factory

    audio = AudioEngine.offline(AudioSettings(), tmp_path / "out.wav", with_prompts=False)
    lights = Lights.from_settings(LightSettings(), make_pin_factory("mock"))
    beats: list[float | None] = []
    r = OutputRouter(audio, lights, offline_audio=True, follow_beat=beats.append)
    r.beats = beats
    yield r
    lights.close()
    audio.close()


def test_metronome_events_drive_the_beat_the_lights_and_the_simulated_runner(router: OutputRouter, tmp_path: Path):
    router.handle([SessionEvent(10.0, "lights", {"feedback": True}), SessionEvent(10.0, "metronome", {"bpm": 180.0})])
    assert router.metronome_bpm == 180.0 and router.beats == [180.0]
    pulses = []
    for i in range(61):  # two seconds at 30 fps
        t = 10.0 + i / 30
        router.tick(t)
        pulses.append(router.lights.shown)
    assert router.audio.position >= 2 * 48000 - 1  # rendered up to the capture time
    level = np.array([max(p) for p in pulses])
    bright = level > 0.5 * level.max()
    assert level.max() > 0 and 5 <= np.sum(bright[1:] & ~bright[:-1]) <= 7  # a pulse per beat, 3 beats/s
    router.handle([SessionEvent(12.0, "metronome", {"bpm": None}), SessionEvent(12.0, "lights", {"feedback": False})])
    router.tick(12.1)
    assert router.metronome_bpm is None and router.lights.shown == (0.0, 0.0, 0.0)
    router.audio.close()
    with wave.open(str(tmp_path / "out.wav")) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    onsets = np.flatnonzero((np.abs(samples[1:]) > 2000) & (np.abs(samples[:-1]) <= 2000))
    assert len(onsets) >= 6  # the beats are in the file


def test_bands_and_flags_colour_the_strip(router: OutputRouter):
    router.handle([SessionEvent(0.0, "lights", {"feedback": True}), SessionEvent(0.0, "light_band", {"band": "in"})])
    assert router.lights.shown[1] > 0.5 and router.lights.shown[0] == 0.0  # green
    router.handle([SessionEvent(0.5, "light_flag", {"metrics": ["overstride"]})])
    assert min(router.lights.shown) > 0.5  # white flash
    router.tick(1.0)
    assert router.lights.shown[0] == 0.0  # back to green after the flash


def test_offline_audio_does_not_grow_while_idle(router: OutputRouter):
    router.tick(0.0)
    router.tick(5.0)
    in_session = router.audio.position
    router.tick(6.0, in_session=False)
    router.tick(100.0, in_session=False)
    assert router.audio.position == in_session
    router.tick(101.0)
    router.tick(102.0)
    assert router.audio.position == pytest.approx(in_session + 48000, abs=1024)


def test_a_failing_output_is_counted_and_logged_not_raised(router: OutputRouter, caplog):
    router.handle([SessionEvent(0.0, "light_band", {"band": "purple"})])
    assert router.errors == 1 and "light_band" in caplog.text


def _standing_pose(w=640, h=480, scale=1.0, tilt=0.0, feet_y=None) -> Pose:
    from appliance.landmarks import L

    lm = np.zeros((33, 5), np.float32)
    lm[:, 3:] = 0.95
    cx, top = w / 2, h * 0.08
    height = h * 0.85 * scale
    lm[:, 0] = cx
    lm[:, 1] = top + height * 0.5
    lm[L.NOSE, 1] = top
    foot = top + height if feet_y is None else feet_y
    for i in (L.LEFT_HEEL, L.RIGHT_HEEL, L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX):
        lm[i, 1] = foot
    return Pose(0.0, 0, lm, 0.9, (w, h))


def test_framing_advice():
    assert framing_advice(_standing_pose(), (640, 480), 0.0) == []
    assert "Nobody is seen" in framing_advice(None, (640, 480), None)[0]
    assert any("feet are cut off" in a for a in framing_advice(_standing_pose(feet_y=479), (640, 480), 0.0))
    assert any("small in the image (34 %" in a for a in framing_advice(_standing_pose(scale=0.4), (640, 480), 0.0))
    assert any("tilted by 5.7 degrees" in a for a in framing_advice(_standing_pose(), (640, 480), 0.1))
