"""Session events into sound and light as the runtime plays them (``CuePlayer`` with offline audio
rendered per tick and the simulated runner following the beat): the real audio engine rendering
offline into a WAV file, the real light strip on gpiozero's MockFactory; and the camera snapshot's
framing advice."""

from __future__ import annotations

import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from appliance.config import AudioSettings, LightSettings
from appliance.outputs.cue_player import CuePlayer
from appliance.outputs.wavio import read_wav
from appliance.runtime.camera_view import framing_advice
from appliance.runtime.session import SessionEvent
from appliance.types import Pose


@pytest.fixture
def player(tmp_path: Path):
    from appliance.outputs import AudioEngine, Lights, make_pin_factory

    audio = AudioEngine.offline(AudioSettings(), tmp_path / "out.wav", with_prompts=False)
    lights = Lights.from_settings(LightSettings(), make_pin_factory("mock"))
    beats: list[float | None] = []
    r = CuePlayer(audio, lights, offline_audio=True, follow_beat=beats.append)
    r.beats = beats
    yield r
    lights.close()
    audio.close()


def test_metronome_events_drive_the_beat_the_lights_and_the_simulated_runner(player: CuePlayer, tmp_path: Path):
    player.handle([SessionEvent(10.0, "lights", {"feedback": True}), SessionEvent(10.0, "metronome", {"bpm": 180.0})])
    assert player.metronome_bpm == 180.0 and player.beats == [180.0]
    pulses = []
    for i in range(61):  # two seconds at 30 fps
        t = 10.0 + i / 30
        player.tick(t)
        pulses.append(player.lights.shown)
    assert player.engine.position >= 2 * 48000 - 1  # rendered up to the capture time
    level = np.array([max(p) for p in pulses])
    bright = level > 0.5 * level.max()
    assert level.max() > 0 and 5 <= np.sum(bright[1:] & ~bright[:-1]) <= 7  # a pulse per beat, 3 beats/s
    player.handle([SessionEvent(12.0, "metronome", {"bpm": None}), SessionEvent(12.0, "lights", {"feedback": False})])
    player.tick(12.1)
    assert player.metronome_bpm is None and player.lights.shown == (0.0, 0.0, 0.0)
    player.engine.close()
    with wave.open(str(tmp_path / "out.wav")) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    onsets = np.flatnonzero((np.abs(samples[1:]) > 2000) & (np.abs(samples[:-1]) <= 2000))
    assert len(onsets) >= 6  # the beats are in the file


def test_bands_and_flags_colour_the_strip(player: CuePlayer):
    player.handle([SessionEvent(0.0, "lights", {"feedback": True}), SessionEvent(0.0, "light_band", {"band": "in"})])
    assert player.lights.shown[1] > 0.5 and player.lights.shown[0] == 0.0  # green
    player.handle([SessionEvent(0.5, "light_flag", {"metrics": ["overstride"]})])
    assert min(player.lights.shown) > 0.5  # white flash
    player.tick(1.0)
    assert player.lights.shown[0] == 0.0  # back to green after the flash


def test_offline_audio_does_not_grow_while_idle(player: CuePlayer):
    player.tick(0.0)
    player.tick(5.0)
    in_session = player.engine.position
    player.tick(6.0, in_session=False)
    player.tick(100.0, in_session=False)
    assert player.engine.position == in_session
    player.tick(101.0)
    player.tick(102.0)
    assert player.engine.position == pytest.approx(in_session + 48000, abs=1024)


def test_a_failing_output_is_counted_and_logged_not_raised(player: CuePlayer, caplog):
    player.handle([SessionEvent(0.0, "light_band", {"band": "purple"})])
    assert player.errors == 1 and "light_band" in caplog.text
    player.handle([SessionEvent(1.0, "light_band", {"band": "purple"}), SessionEvent(1.0, "metronome", {"bpm": 999}),
                   SessionEvent(1.0, "lights", {"feedback": True}), SessionEvent(1.0, "light_flag", {})])
    assert player.errors == 3 and player.metronome_bpm is None
    assert min(player.lights.shown) > 0.5  # the events after the failures still played
    failures = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 2 and "metronome" in failures[1]  # once per kind of failure


def _beat_peaks(samples: np.ndarray, rate: int, bpm: float) -> tuple[np.ndarray, np.ndarray]:
    """Onsets (first sample above 0.005 after a quiet gap) and the peak of each beat."""
    loud = np.flatnonzero(np.abs(samples) > 0.005)
    onsets = loud[np.concatenate([[True], np.diff(loud) > int(0.1 * rate)])] if len(loud) else loud
    period = int(60 * rate / bpm)
    return onsets, np.array([np.max(np.abs(samples[o : o + period // 2])) for o in onsets])


def test_a_withdrawn_beat_fades_out_instead_of_stopping_dead(player: CuePlayer, tmp_path: Path):
    """Faded feedback (bpm None): every later beat quieter over the fade, then silence; never a cut."""
    player.handle([SessionEvent(10.0, "metronome", {"bpm": 180.0})])
    for i in range(61):
        player.tick(10.0 + i / 30)
    player.handle([SessionEvent(12.0, "metronome", {"bpm": None})])
    assert player.metronome_bpm is None and player.beats == [180.0, None]
    for i in range(1, 151):  # five seconds after the stop
        player.tick(12.0 + i / 30)
    player.engine.close()
    data, rate = read_wav(tmp_path / "out.wav")
    stop = 2 * rate  # the stream was anchored at t = 10 s
    onsets, peaks = _beat_peaks(data, rate, 180.0)
    before, after = peaks[onsets < stop], peaks[onsets >= stop]
    full = float(np.median(before))
    # The beat goes on after the stop, each beat quieter than the last, and dies within the 2 s fade.
    assert len(after) >= 4, f"the beat stopped dead: {len(after)} beats after the stop"
    assert after[0] > 0.5 * full and all(a > b for a, b in zip(after, after[1:], strict=False)), after
    assert after[-1] < 0.25 * full
    assert onsets[-1] < stop + int((player.beat_fade_s + 0.1) * rate)
    assert np.max(np.abs(data[stop + int(2.5 * rate) :])) == 0.0  # then silence
    # Click-free: nothing changes faster than inside a full-volume beat (each beat keeps one gain).
    steepest = np.max(np.abs(np.diff(data[:stop])))
    assert np.max(np.abs(np.diff(data[stop:]))) <= steepest + 1e-4


def test_a_beat_restarted_while_fading_is_back_at_full_volume_on_the_same_grid(player: CuePlayer, tmp_path: Path):
    player.handle([SessionEvent(0.0, "metronome", {"bpm": 180.0})])
    for i in range(31):
        player.tick(i / 30)
    player.handle([SessionEvent(1.0, "metronome", {"bpm": None})])  # a pause ...
    for i in range(1, 16):
        player.tick(1.0 + i / 30)
    player.handle([SessionEvent(1.5, "metronome", {"bpm": 180.0})])  # ... resumed mid-fade
    for i in range(1, 61):
        player.tick(1.5 + i / 30)
    player.engine.close()
    data, rate = read_wav(tmp_path / "out.wav")
    onsets, peaks = _beat_peaks(data, rate, 180.0)
    assert list(np.diff(onsets)) == [rate // 3] * (len(onsets) - 1)  # no beat lost, none doubled
    assert peaks[-1] == pytest.approx(peaks[0], rel=1e-3) and min(peaks) < 0.95 * peaks[0]


def test_cues_without_spoken_prompts_are_skipped_not_errors(player: CuePlayer):
    player.handle([SessionEvent(0.0, "cue_given", {"prompt": "quick_feet"}),
                   SessionEvent(0.0, "summary", {"spoken": True, "text": "Cadence 172."})])
    player.tick(0.5)
    assert player.errors == 0 and player.engine.played() == []


class _LiveEngine:
    """What ``CuePlayer`` needs of a live engine, with a speech synthesiser that takes its time."""

    realtime = True
    prompts = object()

    def __init__(self) -> None:
        self.release = threading.Event()
        self.spoke: list[tuple[str, str]] = []
        self.done = threading.Event()

    def speak(self, text: str) -> None:
        self.release.wait(5)
        self.spoke.append((threading.current_thread().name, text))
        self.done.set()


def test_the_spoken_summary_is_synthesised_off_the_loop_thread_on_a_live_stream():
    engine = _LiveEngine()
    player = CuePlayer(engine)
    player.handle([SessionEvent(0.0, "summary", {"spoken": True, "text": "Cadence 172."}),
                   SessionEvent(0.0, "summary", {"spoken": False, "text": "not said"})])
    assert engine.spoke == []  # handle() returned while the synthesis still runs
    engine.release.set()
    assert engine.done.wait(5)
    assert engine.spoke == [("summary-speech", "Cadence 172.")] and player.errors == 0


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
    # Feet seen unsteadily over the last steps: the strike is not measured, and the technician is told why.
    assert framing_advice(_standing_pose(), (640, 480), 0.0, foot_spread_deg=4.0) == []
    assert framing_advice(_standing_pose(), (640, 480), 0.0, foot_spread_deg=float("nan")) == []
    (advice,) = framing_advice(_standing_pose(), (640, 480), 0.0, foot_spread_deg=15.2)
    assert "varies by 15 degrees" in advice and "not cued" in advice
