"""The metronome rendered through the real engine into a WAV sink: every onset on its exact sample."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.config import AudioSettings
from appliance.outputs.engine import AudioEngine
from appliance.outputs.wavio import read_wav

RATE = 48000


def detect_onsets(x: np.ndarray, threshold: float, min_gap: int) -> np.ndarray:
    """Samples where |x| rises above ``threshold`` after at least ``min_gap`` samples below it."""
    loud = np.flatnonzero(np.abs(x) > threshold)
    if len(loud) == 0:
        return loud
    gaps = np.diff(loud)
    starts = np.concatenate([[True], gaps > min_gap])
    return loud[starts]


def expected_onsets(segments: list[tuple[int, float, int]]) -> list[int]:
    """Onsets of beats from (first beat sample, bpm, end sample) segments: beat k at first + round(k * period)."""
    out = []
    for first, bpm, end in segments:
        period = 60 * RATE / bpm
        k = 0
        while (s := first + round(k * period)) < end:
            out.append(s)
            k += 1
    return out


def render(tmp_path, sound: str, plan) -> np.ndarray:
    settings = AudioSettings(sample_rate=RATE, block_size=512, metronome_sound=sound, volume=0.8)
    out = tmp_path / f"metronome-{sound}.wav"
    engine = AudioEngine.offline(settings, out, with_prompts=False)
    try:
        plan(engine)
    finally:
        engine.close()
    data, rate = read_wav(out)
    assert rate == RATE
    return data


@pytest.mark.parametrize("sound", ["woodblock", "click"])
def test_tempo_change_170_to_180_every_onset_exact(tmp_path, sound):
    change_block = (60 * RATE) // 512  # ask for the change at the buffer boundary nearest 60 s

    def plan(engine: AudioEngine) -> None:
        engine.metronome.start(170)
        engine.advance(samples=change_block * 512)
        engine.metronome.set_bpm(180)
        engine.advance(samples=120 * RATE - engine.position)

    data = render(tmp_path, sound, plan)
    assert len(data) >= 120 * RATE
    onsets = detect_onsets(data, threshold=0.05, min_gap=int(0.1 * RATE))

    period170 = 60 * RATE / 170
    change_at = change_block * 512
    # The beat already due at the change keeps its place; every later interval is at 180.
    k_due = int(np.ceil((change_at - 0.5) / period170))
    due = round(k_due * period170)
    if due < change_at:
        k_due += 1
        due = round(k_due * period170)
    expected = expected_onsets([(0, 170.0, due), (due, 180.0, 120 * RATE)])

    assert len(onsets) == len(expected), "a beat is missing or doubled"
    errors = onsets - np.asarray(expected)
    assert np.max(np.abs(errors)) == 0, f"onset errors (samples): {errors[errors != 0][:10]}"
    intervals = np.diff(onsets)
    assert intervals.min() >= int(60 * RATE / 180), "an interval shorter than one beat at 180"
    assert intervals.max() <= int(np.ceil(period170)), "an interval longer than one beat at 170 (missing beat)"
    # Both tempos were actually heard.
    assert np.sum(np.abs(intervals - 60 * RATE / 170) < 1) > 150
    assert np.sum(np.abs(intervals - 60 * RATE / 180) < 1) > 150


def test_stop_lets_the_beat_ring_out_and_restart_is_exact(tmp_path):
    def plan(engine: AudioEngine) -> None:
        engine.metronome.start(180)
        engine.advance(samples=4 * 512)  # 2048 samples: inside the first beat's 60 ms sound
        engine.metronome.stop()
        engine.advance(seconds=2)
        engine.metronome.start(150, at_sample=engine.position + 1000)
        engine.advance(seconds=2)

    data = render(tmp_path, "woodblock", plan)
    onsets = detect_onsets(data, 0.05, int(0.1 * RATE))
    restart = 4 * 512 + 2 * RATE + 1000
    expected = [0] + expected_onsets([(restart, 150.0, len(data))])
    assert list(onsets) == expected
    # The stopped beat was not cut off: its tail continues past the stop boundary.
    tail = data[4 * 512 : 4 * 512 + 200]
    assert np.max(np.abs(tail)) > 1e-3


def test_volume_ramp_has_no_step(tmp_path):
    def plan(engine: AudioEngine) -> None:
        engine.play_samples("tone", np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE).astype(np.float32))
        engine.advance(samples=RATE // 2)
        engine.set_volume(0.1)
        engine.advance(samples=RATE // 2 + 512)

    data = render(tmp_path, "woodblock", plan)
    # Sample-to-sample change of a 440 Hz sine at amplitude 0.8 is at most 0.8 * 2*pi*440/48000.
    max_step = 0.8 * 2 * np.pi * 440 / RATE
    assert np.max(np.abs(np.diff(data[: RATE - 10]))) <= max_step * 1.05 + 2 / 32768
    assert np.max(np.abs(data[RATE // 2 + 3000 : RATE - 10])) == pytest.approx(0.1, abs=0.005)


def test_fade_out_makes_each_beat_quieter_then_stops(tmp_path):
    def plan(engine: AudioEngine) -> None:
        engine.metronome.start(180)
        engine.advance(seconds=1)
        engine.metronome.fade_out(2.0)
        engine.advance(seconds=4)

    data = render(tmp_path, "click", plan)
    found = detect_onsets(data, threshold=0.005, min_gap=int(0.1 * RATE))
    peaks = [float(data[s]) for s in found]
    assert list(found) == expected_onsets([(0, 180.0, int(3.1 * RATE))])[: len(found)]
    before = [p for s, p in zip(found, peaks, strict=True) if s < RATE]
    fading = [p for s, p in zip(found, peaks, strict=True) if s >= RATE]
    assert all(p == pytest.approx(0.8, abs=1e-3) for p in before)
    assert len(fading) >= 4 and all(a > b for a, b in zip(fading, fading[1:], strict=False)), fading
    assert found[-1] < 3 * RATE, "the beat stops once the fade reaches silence"
