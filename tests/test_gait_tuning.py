"""The gait stage's and the foot stage's typed tuning sets: documented fields, the README table
generated from them, values that reach their estimators, durations that hold in seconds at any
frame rate."""

from __future__ import annotations

import math
from dataclasses import fields, replace

import numpy as np
import pytest

from appliance.config import GaitSettings
from appliance.feet.stage import FootStage
from appliance.feet.tuning import FEET_TUNING
from appliance.gait import CalibrationError, GaitTracker, calibrate
from appliance.gait.facing import FacingVote
from appliance.gait.geometry import HEEL, TOE
from appliance.gait.tuning import GAIT_TUNING
from appliance.gait.tuning_table import README, parameter_table, readme_block, with_readme_block
from appliance.landmarks import L
from appliance.sim import RunnerParams, SimulatedRunner


def _all_fields(*wholes):
    """(section, field, value) of every field of the tuning sets ``wholes`` (default: gait and feet)."""
    for whole in wholes or (GAIT_TUNING, FEET_TUNING):
        for section in fields(whole):
            part = getattr(whole, section.name)
            for f in fields(part):
                yield section.name, f, getattr(part, f.name)


def test_every_field_has_a_unit_a_reason_and_a_source():
    rows = list(_all_fields())
    assert len(rows) > 120
    for section, f, _ in rows:
        for key in ("unit", "why", "source"):
            assert f.metadata.get(key, "").strip(), f"{section}.{f.name} has no {key}"


def test_the_readme_table_is_the_generated_one():
    text = README.read_text()
    assert readme_block() in text, "README's gait tuning table is stale: python -m appliance.gait.tuning_table --write-readme"
    assert with_readme_block(text) == text


def test_the_table_shows_each_value_once():
    table = parameter_table(GAIT_TUNING.replaced("belt.stance_band", 0.0625))
    assert "| belt | `stance_band` | 0.0625 | leg lengths |" in table
    assert table.count("\n") == 2 + sum(1 for _ in _all_fields())
    assert "| feet.events | `lock_slip` | 0.3 | of belt speed |" in table


def test_replaced_changes_one_field_and_rejects_unknown_names():
    tuned = GAIT_TUNING.replaced("tracker.stance_slack", 0.2)
    assert tuned.tracker.stance_slack == 0.2 and GAIT_TUNING.tracker.stance_slack == 0.1
    assert tuned.belt == GAIT_TUNING.belt
    with pytest.raises(KeyError):
        GAIT_TUNING.replaced("tracker.no_such_value", 1.0)


def test_the_tracker_hands_each_section_to_its_estimator():
    tuning = GAIT_TUNING.replaced("identity.swap_margin", 0.05).replaced("belt.refit_s", 0.7)
    tracker = GaitTracker(tuning=tuning)
    assert tracker.identity.tuning.swap_margin == 0.05
    assert tracker.belt.refit_s == 0.7
    assert tracker.rhythm.tuning is tuning.rhythm and tracker.facing.tuning is tuning.facing


def _facing_landmarks(sign: float) -> tuple[np.ndarray, dict]:
    """Landmarks of a runner facing right (sign +1) or left (-1): nose ahead of the ears, toes ahead
    of the heels, all fully visible."""
    lm = np.zeros((33, 4), np.float32)
    lm[:, 3] = 1.0
    lm[int(L.NOSE), :2] = (100 + 10 * sign, 50)
    lm[int(L.LEFT_EAR), :2] = lm[int(L.RIGHT_EAR), :2] = (100, 50)
    pts = np.zeros((5, 2))
    pts[HEEL], pts[TOE] = (100, 300), (100 + 20 * sign, 300)
    return lm, {"left": (pts, np.ones(5)), "right": (pts, np.ones(5))}


def _turn_time_s(fps: float) -> float:
    """Seconds the facing vote takes to turn to "left" after 3 s of a runner facing right."""
    vote = FacingVote()
    right, left = _facing_landmarks(1.0), _facing_landmarks(-1.0)
    for _ in range(int(3 * fps)):
        vote.add(*right, 1 / fps)
    assert vote.direction == "right"
    frames = 0
    while vote.direction == "right":
        vote.add(*left, 1 / fps)
        frames += 1
    return frames / fps


@pytest.mark.parametrize("fps", [60.0, 120.0, 240.0])
def test_the_facing_vote_forgets_in_seconds_whatever_the_frame_rate(fps):
    """The vote turns after the same time at any rate, as at 30 fps (where it was tuned: about a
    second); forgetting per frame, it turned 8x sooner at 240 fps."""
    at_30 = _turn_time_s(30.0)
    assert 0.5 < at_30 < 1.5
    assert _turn_time_s(fps) == pytest.approx(at_30, abs=2 / 30)


def test_calibration_uses_the_min_visibility_setting():
    sim = SimulatedRunner(RunnerParams(stand_s=3.0, noise_leg_lengths=0.01, seed=1))
    poses, _ = sim.poses(2.0, 30.0)
    assert calibrate(poses, settings=GaitSettings(min_visibility=0.5)).poses_used == len(poses)
    with pytest.raises(CalibrationError, match="visibility >= 0.99"):
        calibrate(poses, settings=GaitSettings(min_visibility=0.99))


def test_durations_are_seconds():
    """Every field in seconds is a positive, finite duration shorter than a minute."""
    for section, f, value in _all_fields():
        if f.metadata["unit"] == "s":
            assert 0 < value < 60 and math.isfinite(value), f"{section}.{f.name}"


def test_the_foot_stage_hands_its_sections_to_its_parts():
    tuning = replace(FEET_TUNING, belt_motion=replace(FEET_TUNING.belt_motion, refresh_s=0.5))
    stage = FootStage(tuning)
    assert stage.belt.tuning.refresh_s == 0.5 and stage.tuning is tuning
