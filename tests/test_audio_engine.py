"""The audio engine's sinks, sample placement and clock: WAV (offline and paced), null, PortAudio."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from appliance.config import AudioSettings
from appliance.outputs.clock import SampleClock
from appliance.outputs.engine import AudioEngine
from appliance.outputs.sinks import AudioError, parse_sink
from appliance.outputs.wavio import read_wav

RATE = 48000
HAVE_PORTAUDIO = ctypes.util.find_library("portaudio") is not None


def settings(**kw) -> AudioSettings:
    return AudioSettings(sample_rate=RATE, block_size=512, volume=1.0, **kw)


def first_loud(x: np.ndarray, start: int = 0, threshold: float = 0.05) -> int:
    return start + int(np.flatnonzero(np.abs(x[start:]) > threshold)[0])


def test_sound_placed_at_exact_sample_and_speech_never_overlaps(tmp_path):
    out = tmp_path / "placed.wav"
    burst = np.full(2000, 0.5, dtype=np.float32)
    with AudioEngine.offline(settings(), out, with_prompts=False) as engine:
        engine.play_samples("a", burst, at_sample=12345)
        engine.play_samples("b", burst, at_sample=12345)  # asked for the same moment: waits its turn
        engine.advance(samples=300)  # a block boundary that is not a multiple of the block size
        engine.play_samples("late", burst)  # no sample given: the first sample of the next buffer
        engine.advance(seconds=0.5)
        played = {p.name: p.start_sample for p in engine.played()}
    data, _ = read_wav(out)
    assert played == {"a": 12345, "b": 14345, "late": 16345}
    assert first_loud(data) == 12345
    assert np.all(np.abs(data[12345:16345] - 0.5) < 1e-3), "a and b back to back, no overlap"
    assert np.all(np.abs(data[16345:18345] - 0.5) < 1e-3)
    assert np.max(np.abs(data[:12345])) == 0 and np.max(np.abs(data[18345:])) == 0


def test_asap_sound_starts_on_the_next_buffer(tmp_path):
    out = tmp_path / "asap.wav"
    with AudioEngine.offline(settings(), out, with_prompts=False) as engine:
        engine.advance(samples=1000)
        engine.play_samples("cue", np.full(100, 0.5, dtype=np.float32))
        engine.advance(samples=1000)
    data, _ = read_wav(out)
    assert first_loud(data) == 1000


def test_metronome_ducks_under_speech(tmp_path):
    out = tmp_path / "duck.wav"
    with AudioEngine.offline(settings(), out, with_prompts=False) as engine:
        engine.metronome.start(120)  # beats at 0, 24000, 48000, ...
        engine.play_samples("speech", np.zeros(30000, dtype=np.float32))
        engine.advance(seconds=1.5)
    data, _ = read_wav(out)
    assert data[0] == pytest.approx(0.5, abs=1e-3)  # under speech: half volume
    assert data[24000] == pytest.approx(0.5, abs=1e-3)
    assert data[48000] == pytest.approx(1.0, abs=1e-3)  # speech over: full volume again


def test_clock_maps_times_to_samples():
    clock = SampleClock(RATE, t=100.0, sample=4800)
    assert clock.sample_at(100.0) == 4800
    assert clock.sample_at(100.5) == 4800 + 24000
    assert clock.sample_at(100.5 + 0.3 / RATE) == 4800 + 24001  # the first sample at or after t
    assert clock.time_at(4800 + 48000) == pytest.approx(101.0)
    clock.set_anchor(200.0, 0)
    assert clock.sample_at(199.0) == -RATE


def test_sink_settings_are_checked():
    assert parse_sink("wav:/tmp/x.wav").path.name == "x.wav"
    with pytest.raises(AudioError, match="audio.sink 'speaker'"):
        parse_sink("speaker")
    with AudioEngine.offline(settings(), None, with_prompts=False) as engine:
        with pytest.raises(AudioError, match="no spoken prompt named 'quick_feet'"):
            engine.play_prompt("quick_feet")
        with pytest.raises(ValueError, match="outside 0..1"):
            engine.set_volume(2.0)
        with pytest.raises(ValueError, match="bpm"):
            engine.metronome.start(1000)


def test_paced_wav_sink_runs_in_real_time(tmp_path):
    out = tmp_path / "live.wav"
    engine = AudioEngine.open(settings(sink=f"wav:{out}"), with_prompts=False)
    try:
        with pytest.raises(AudioError, match="offline"):
            engine.advance(seconds=1)
        engine.metronome.start(180)
        t0 = time.monotonic()
        time.sleep(0.5)
        t_anchor, sample_anchor = engine.clock.anchor
        # The anchor follows the monotonic clock: a sample's time is near now.
        assert abs(engine.time_at(engine.position) - time.monotonic()) < 0.05
        assert sample_anchor > 0 and t0 < t_anchor
    finally:
        engine.close()
        elapsed = time.monotonic() - t0
    data, _ = read_wav(out)
    assert abs(len(data) / RATE - elapsed) < 0.1, "the paced sink neither races nor lags real time"
    assert first_loud(data) % 512 == 0  # the first beat on the first sample of a buffer


def test_null_sink_and_missing_device_error():
    engine = AudioEngine.open(settings(sink="null"), with_prompts=False)
    time.sleep(0.05)
    engine.close()
    assert engine.position > 0
    if not HAVE_PORTAUDIO:
        pytest.skip("libportaudio2 not installed: the device sink cannot be exercised (./dev installs it)")
    with pytest.raises(AudioError, match="output device 'no-such-device' not found.*audio.sink to wav:PATH or null"):
        AudioEngine.open(settings(sink="device", device="no-such-device"), with_prompts=False)


DEVICE_SCRIPT = textwrap.dedent("""
    import time
    from appliance.config import AudioSettings
    from appliance.outputs.engine import AudioEngine
    engine = AudioEngine.open(AudioSettings(sink="device", device="appliance_null", sample_rate=48000,
                                            block_size=512), with_prompts=False)
    engine.metronome.start(170)
    time.sleep(0.3)
    engine.close()
    d = engine.driver
    assert d.error is None, d.error
    print(d.blocks, engine.position, len(engine.metronome.drain_beats()))
""")


@pytest.mark.skipif(not HAVE_PORTAUDIO, reason="libportaudio2 not installed (./dev installs it)")
def test_device_sink_through_portaudio_on_alsa_null_device(tmp_path):
    """The real PortAudio path (stream, callback, mixer) on ALSA's null plugin: no sound card needed."""
    conf = tmp_path / "asound.conf"
    conf.write_text('</usr/share/alsa/alsa.conf>\npcm.appliance_null { type null }\n')
    if not os.path.exists("/usr/share/alsa/alsa.conf"):
        pytest.skip("ALSA configuration not installed (/usr/share/alsa/alsa.conf)")
    env = dict(os.environ, ALSA_CONFIG_PATH=str(conf))
    proc = subprocess.run([sys.executable, "-c", DEVICE_SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    blocks, position, beats = map(int, proc.stdout.split())
    assert blocks > 0 and position == blocks * 512, "every callback rendered exactly one 512-sample buffer"
    assert beats >= 1
