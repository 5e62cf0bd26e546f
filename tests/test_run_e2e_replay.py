"""A real clip replayed through ``appliance run`` gives the same steps as ``appliance analyze`` on it.

Both run the TFLite pose engine and the causal gait tracker over the same frames; ``run`` goes
through the capture thread, the control loop, the session and the SQLite recorder. ``--replay fast``
takes every frame exactly once (at the clip's real rate a slow machine drops frames, which is the
point of the loop, but then the steps cannot be compared frame for frame). To keep the test short
the clip is cut to its first frames, losslessly (FFV1), so both commands see identical pixels.
``analyze --as-live`` leaves out the warm-up replay (the contacts before the belt line settled),
which the live loop cannot have.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FRAMES = 520  # five initial contacts (frames 97 + 102 k)
TIME_SCALE = "0.1"  # slow motion: about 176 real steps per minute
APPLIANCE = [sys.executable, "-m", "appliance"]

pytestmark = [pytest.mark.real_data, pytest.mark.model]


def cut_clip(src: Path, dst: Path, frames: int) -> None:
    """The first ``frames`` frames of ``src`` re-encoded losslessly, with the same timestamps."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream("ffv1", rate=vin.average_rate)
        vout.width, vout.height = vin.codec_context.width, vin.codec_context.height
        vout.pix_fmt = "yuv420p"
        vout.time_base = vin.time_base
        for i, frame in enumerate(inp.decode(vin)):
            if i >= frames:
                break
            for packet in vout.encode(frame):
                out.mux(packet)
        for packet in vout.encode():
            out.mux(packet)


def test_replay_through_run_gives_the_steps_of_analyze(tmp_path: Path, slowmo_clip: Path, model_dir: Path):
    clip = tmp_path / "clip.mkv"
    cut_clip(slowmo_clip, clip, FRAMES)

    analyzed = subprocess.run(APPLIANCE + ["analyze", str(clip), "--out", str(tmp_path / "analyze"),
                                           "--time-scale", TIME_SCALE, "--as-live"],
                              capture_output=True, text=True, timeout=300)
    assert analyzed.returncode == 0, analyzed.stderr[-2000:]
    expected = json.loads((tmp_path / "analyze" / "report.json").read_text())["steps"]

    # calibration off: the session records from the first frame, like analyze (which has no standing phase)
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"session": {"calibrate": False}}))
    data = tmp_path / "data"
    ran = subprocess.run(APPLIANCE + ["run", "--source", f"video:{clip}", "--replay", "fast", "--time-scale", TIME_SCALE,
                                      "--demo", "--no-panel",
                                      "--config", str(config), "--data-dir", str(data)],
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "frame source video:" in ran.stderr and "ended" in ran.stderr
    exported = subprocess.run(APPLIANCE + ["export", "--data-dir", str(data), "--format", "json"],
                              capture_output=True, text=True, check=True)
    got = json.loads(exported.stdout)["steps"]

    assert len(expected) >= 3, "analyze found too few steps on the clip to compare"
    assert [(s["frame_ic"], s["foot"], s["strike"], s["frame_to"]) for s in got] == \
           [(s["frame_ic"], s["foot"], s["strike"], s["frame_to"]) for s in expected]
    for mine, theirs in zip(got, expected, strict=True):
        for key in ("t_ic", "foot_strike_angle_deg", "shank_angle_deg", "knee_flexion_deg", "heel_to_hip_leg_lengths",
                    "contact_time_s", "confidence"):
            if theirs[key] is None:
                assert mine[key] is None, key
            else:
                assert mine[key] == pytest.approx(theirs[key], abs=2e-4), key
        assert mine["valid"] == theirs["valid"]
