"""The live gait tracker's per-step outputs on a fixed simulated recording, compared exactly.

A guard for refactors that must not change behaviour (issue 38: the tuning moved into one typed
set): ~600 steps of the simulated runner at 30 fps, across the three strike types, with and without
terminal-swing rotation, pose-model swaps, dropouts, ghost legs, stance losses, a roll, a runner
facing left and a standing calibration. Every final step's outputs are compared with the golden
file to 1e-9.

A change that is meant to move the outputs rewrites the golden file (and says why in its commit):

    .venv/bin/python tests/test_gait_snapshot.py --write
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from appliance.gait import GaitTracker, calibrate
from appliance.sim import RunnerParams, SimulatedRunner

GOLDEN = Path(__file__).resolve().parent / "data" / "gait_snapshot.json"
FPS = 30.0
SECONDS = 37.0
SCENARIOS = {
    "rearfoot 14": {"strike_angle_deg": 14.0},
    "midfoot 3.2 +300/s": {"strike_angle_deg": 3.2, "terminal_swing_rotation_dps": 300.0},
    "forefoot -8 +500/s, swaps": {"strike_angle_deg": -8.0, "terminal_swing_rotation_dps": 500.0,
                                  "swaps_per_min": 20.0},
    "rearfoot 10, left, roll 3, dropouts": {"strike_angle_deg": 10.0, "direction": "left", "roll_deg": 3.0,
                                             "dropout_fraction": 0.05},
    "mixed strikes, ghosts, stance loss": {"strike_angle_deg": (12.0, -6.0), "ghost_legs_per_min": 60.0,
                                           "stance_loss_fraction": 0.3, "noise_leg_lengths": 0.015},
    "midfoot 2, calibrated": {"strike_angle_deg": 2.0, "stand_s": 2.0},
}
FIELDS = ("index", "foot", "frame_ic", "t_ic", "strike", "foot_strike_angle_deg", "shank_angle_deg",
          "knee_flexion_deg", "heel_to_hip_leg_lengths", "cadence_spm", "instant_cadence_spm", "confidence",
          "valid", "frame_to", "t_to", "contact_time_s", "flight_time_s", "duty_factor",
          "vertical_oscillation_leg_lengths", "trunk_lean_deg", "calibrated", "strike_spread_deg", "timed_by")


def _plain(value):
    """A JSON-safe copy of one output (NaN as the string "nan")."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def scenario_steps(seed: int, params: dict, fps: float = FPS) -> list[dict]:
    """The final emission of every step the live tracker reports on one simulated recording."""
    runner = SimulatedRunner(RunnerParams(seed=seed, **params))
    poses, _ = runner.poses(SECONDS, fps)
    calibration = None
    if params.get("stand_s"):  # calibrated on the standing poses, away from the start and the first step
        standing = int(params["stand_s"] * fps) - 5
        calibration = calibrate(poses[5:standing])
    tracker = GaitTracker(calibration=calibration)
    latest = {}
    for i, pose in enumerate(poses):
        for step in tracker.update(pose, i / fps, i):
            latest[step.index] = step
    return [{f: _plain(getattr(latest[k], f)) for f in FIELDS} for k in sorted(latest)]


def snapshot(fps: float = FPS) -> dict[str, list[dict]]:
    """Every scenario's steps at ``fps`` (the golden file holds them at FPS)."""
    return {name: scenario_steps(seed, params, fps) for seed, (name, params) in enumerate(SCENARIOS.items(), start=7)}


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0.0, abs_tol=1e-9)
    return a == b


@pytest.fixture(scope="module")
def current() -> dict[str, list[dict]]:
    return snapshot()


def test_snapshot_covers_about_600_steps():
    golden = json.loads(GOLDEN.read_text())
    assert sum(len(v) for v in golden.values()) >= 550
    assert {s["strike"] for v in golden.values() for s in v} >= {"rearfoot", "midfoot", "forefoot"}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_tracker_outputs_match_the_golden_snapshot(current, name):
    golden = json.loads(GOLDEN.read_text())[name]
    steps = current[name]
    assert len(steps) == len(golden)
    for got, want in zip(steps, golden, strict=True):
        diff = {f: (got[f], want[f]) for f in FIELDS if not _same(got[f], want[f])}
        assert not diff, f"step {want['index']}: {diff}"


if __name__ == "__main__":
    if "--write" not in sys.argv:
        sys.exit("usage: test_gait_snapshot.py --write   (rewrites " + str(GOLDEN) + ")")
    GOLDEN.parent.mkdir(exist_ok=True)
    data = snapshot()
    GOLDEN.write_text(json.dumps(data, indent=0, sort_keys=False) + "\n")
    print(f"{sum(len(v) for v in data.values())} steps written to {GOLDEN}")
