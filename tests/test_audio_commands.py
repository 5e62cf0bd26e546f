"""``appliance metronome`` and ``appliance cues --demo`` through the real CLI, engine and sinks."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from appliance.cli import main
from appliance.outputs.wavio import read_wav

RATE = 48000


def onsets(x: np.ndarray, threshold: float = 0.05, gap: int = 4800) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > threshold)
    return loud[np.concatenate([[True], np.diff(loud) > gap])] if len(loud) else loud


def test_metronome_command_renders_exact_beats(tmp_path, capsys):
    out = tmp_path / "m.wav"
    assert main(["metronome", "--bpm", "172.5", "--seconds", "4", "--out", str(out), "--accent"]) == 0
    data, rate = read_wav(out)
    assert rate == RATE and len(data) == 4 * RATE
    period = 60 * RATE / 172.5
    expected = [round(k * period) for k in range(int(4 * RATE / period) + 1) if round(k * period) < 4 * RATE]
    assert list(onsets(data)) == expected
    assert "12 beats at 172.5/min" in capsys.readouterr().out


def test_metronome_command_rejects_bad_bpm(tmp_path, capsys):
    assert main(["metronome", "--bpm", "500", "--seconds", "1", "--out", str(tmp_path / "x.wav")]) == 1
    assert "--bpm: metronome bpm 500.0 is outside 30..300" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed (./dev installs it)")
def test_cues_demo(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"storage": {"data_dir": str(tmp_path / "data")}}))
    out = tmp_path / "demo.wav"
    assert main(["cues", "--demo", "--out", str(out), "--config", str(config)]) == 0
    text = capsys.readouterr().out
    data, rate = read_wav(out)
    assert rate == RATE and 150 < len(data) / RATE < 170
    # The metronome plays in the feedback block (30-75 s) at the target tempo and not in the warm-up.
    beats = onsets(data[int(50 * RATE) : int(70 * RATE)])
    assert abs(np.median(np.diff(beats)) - 60 * RATE / 171.8) <= 1
    assert np.max(np.abs(data[int(5 * RATE) : int(29 * RATE)])) == 0
    # Spoken cues and the summary are in the timeline and the file.
    assert "quick_feet" in text and "Cadence 1" in text
    assert (tmp_path / "data" / "prompts" / "quick_feet.wav").exists()
    # The light-cue log: band colours during feedback, dark after it.
    log = [json.loads(line) for line in out.with_suffix(".lights.jsonl").read_text().splitlines()]
    reasons = [c["reason"] for c in log]
    assert "band out" in reasons and "band in" in reasons and "beat" in reasons
    assert log[-1]["rgb"] == [0.0, 0.0, 0.0]
    # Feedback withdrawn at 75 s: the beat fades out (under the "feedback off" prompt), then silence.
    assert np.max(np.abs(data[int(74 * RATE) : int(75 * RATE)])) > 0.3
    assert np.max(np.abs(data[int(80 * RATE) : int(119 * RATE)])) == 0
    # The file ends after the spoken summary, not in the middle of it.
    assert np.max(np.abs(data[-int(0.4 * RATE) :])) == 0 and np.max(np.abs(data[-int(8 * RATE) :])) > 0.3
