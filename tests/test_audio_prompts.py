"""Spoken prompts rendered by the real espeak-ng into a cache at the engine rate, and resampling."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from appliance.config import AudioSettings
from appliance.outputs.engine import AudioEngine
from appliance.outputs.prompts import DEFAULT_PROMPTS, PromptBank, PromptError, prompt_texts
from appliance.outputs.wavio import read_wav, resample

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng not installed (apt-get install espeak-ng; ./dev installs it)")


def dominant_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def test_resample_keeps_pitch_and_length():
    rate_in, rate_out = 22050, 48000
    t = np.arange(rate_in) / rate_in
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    out = resample(tone, rate_in, rate_out)
    assert len(out) == rate_out
    assert dominant_hz(out, rate_out) == pytest.approx(1000, abs=2)
    assert np.max(np.abs(out[1000:-1000])) == pytest.approx(0.5, abs=0.01)


def test_prompt_text_overrides_are_checked():
    assert prompt_texts({"quick_feet": "faster feet"})["quick_feet"] == "faster feet"
    with pytest.raises(PromptError, match="unknown prompt 'quick_feat'"):
        prompt_texts({"quick_feat": "x"})
    with pytest.raises(PromptError, match="quick_feet: text is empty"):
        prompt_texts({"quick_feet": "  "})


@needs_espeak
def test_render_cache_and_rerender_on_change(tmp_path):
    bank = PromptBank(tmp_path, 48000, "en")
    assert sorted(bank.render()) == sorted(DEFAULT_PROMPTS)
    assert bank.render() == []  # cached: nothing to do
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["quick_feet"] == {"text": "quick feet", "voice": "en", "rate": 48000}
    data, rate = read_wav(tmp_path / "quick_feet.wav")
    assert rate == 48000
    assert 0.3 < len(data) / rate < 2.0
    assert np.max(np.abs(data)) > 0.5 and abs(data[0]) > 1e-3 * 0.9  # no leading silence
    # Speech energy sits in the voice band, not aliasing garbage near Nyquist.
    spectrum = np.abs(np.fft.rfft(data))
    freqs = np.fft.rfftfreq(len(data), 1 / rate)
    assert spectrum[freqs < 5000].sum() > 10 * spectrum[freqs > 12000].sum()

    changed = PromptBank(tmp_path, 48000, "en", {"quick_feet": "faster feet"})
    assert changed.stale() == ["quick_feet"]
    assert changed.render() == ["quick_feet"]
    assert len(read_wav(tmp_path / "quick_feet.wav")[0]) != len(data)


@needs_espeak
def test_bad_voice_is_a_clear_error(tmp_path):
    with pytest.raises(PromptError, match="audio.voice"):
        PromptBank(tmp_path, 48000, "no-such-voice-xx").render()


@needs_espeak
def test_engine_plays_a_prompt_and_speaks_a_summary(tmp_path):
    settings = AudioSettings(sample_rate=48000, block_size=512, volume=1.0, prompts_dir=tmp_path / "prompts")
    out = tmp_path / "spoken.wav"
    with AudioEngine.offline(settings, out) as engine:
        engine.advance(samples=4800)
        engine.play_prompt("quick_feet")
        engine.speak("cadence 172, on target 84 percent")
        engine.advance(seconds=6)
        played = {p.name: p.start_sample for p in engine.played()}
    data, _ = read_wav(out)
    quick = engine.prompts.get("quick_feet")
    assert played["quick_feet"] == 4800
    assert played["speech"] == 4800 + len(quick)  # the summary waits for the cue to finish
    assert np.allclose(data[4800 : 4800 + len(quick)], quick, atol=2 / 32768)
    assert np.max(np.abs(data[played["speech"] :])) > 0.5
    assert list((tmp_path / "prompts" / "spoken").glob("*.wav")), "summary speech is cached on disk"
