"""A whole session of the coach on synthetic steps: phases, bandwidth decisions, reasons, summary."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable

import pytest

from appliance.coach import (
    CadenceTarget,
    Coach,
    CoachError,
    OverstrideTarget,
    SessionPlan,
    StrikeTarget,
    Targets,
)
from appliance.config import CoachSettings
from appliance.types import Step

T0 = 1000.0  # capture clock at session start (arbitrary, not zero)
SETTINGS = CoachSettings(warmup_minutes=1, retention_minutes=1, min_block_minutes=0.5, min_cue_interval_s=15,
                         min_baseline_steps=20, block_grace_s=5)
# 5 min: warm-up 60 s, then 3 cycles of 30 s on / 30 s off, then 60 s retention.
SESSION = SessionPlan(number=6, run_minutes=5, feedback_share=0.5)


def make_step(i: int, t: float, cadence: float, *, valid: bool = True, shank: float = 5.0,
              fsa: float | Callable[[int], float] = 12.0, spread: float = float("nan")) -> Step:
    """A step; ``fsa`` may be a function of the step index, ``spread`` is the strike angle's uncertainty."""
    angle = fsa(i) if callable(fsa) else fsa
    return Step(index=i, foot="left" if i % 2 else "right", frame_ic=i * 20, t_ic=t, strike="rearfoot",
                foot_strike_angle_deg=angle, shank_angle_deg=shank, knee_flexion_deg=20.0,
                heel_to_hip_leg_lengths=0.2, cadence_spm=cadence, instant_cadence_spm=cadence, confidence=0.9,
                valid=valid, strike_spread_deg=spread)


def run_session(cadence_at, valid_at=lambda i: True, targets=None, settings=SETTINGS, **step_kw):
    """Drive a coach with steps at the runner's cadence and a 30 Hz tick; all events in order."""
    coach = Coach(SESSION, targets or Targets(), settings)
    events = coach.start(T0)
    t, i = T0, 0
    next_tick = T0
    while not coach.ended:
        cadence = cadence_at(t - T0)
        t_next_step = t + 60.0 / cadence
        while next_tick < t_next_step and not coach.ended:
            events += coach.tick(next_tick)
            next_tick += 1 / 30
        if coach.ended:
            break
        t = t_next_step
        i += 1
        events += coach.on_step(make_step(i, t, cadence, valid=valid_at(i), **step_kw))
    return coach, events


def kinds(events, kind):
    return [e for e in events if e.kind == kind]


def runner(elapsed: float) -> float:
    """160 in the warm-up, too slow (165) in the first feedback block, on target (172) after it."""
    if elapsed < 60:
        return 160.0
    return 165.0 if elapsed < 90 else 172.0


def test_phases_baseline_target_and_metronome():
    coach, events = run_session(runner)
    blocks = [(e.payload["block"], round(e.t - T0, 2)) for e in kinds(events, "block_started")]
    assert blocks == [("warmup", 0), ("feedback_on", 60), ("feedback_off", 90), ("feedback_on", 120),
                      ("feedback_off", 150), ("feedback_on", 180), ("feedback_off", 210), ("retention", 240)]
    baseline = kinds(events, "baseline_measured")[0]
    assert baseline.payload["ok"] and baseline.payload["cadence_spm"] == 160.0
    assert kinds(events, "targets_set")[0].payload["cadence"] == {"target": 172.0, "lo": 169.0, "hi": 175.0}
    metronome = [(round(e.t - T0, 2), e.payload["bpm"]) for e in kinds(events, "metronome")]
    assert metronome == [(0, None), (60, 172.0), (90, None), (120, 172.0), (150, None), (180, 172.0),
                         (210, None), (300, None)]
    assert [e.payload["reason"] for e in kinds(events, "session_ended")] == ["completed"]
    assert kinds(events, "session_ended")[0].t == pytest.approx(T0 + 300)
    announced = [e.payload["prompt"] for e in kinds(events, "announce")]
    assert announced[:3] == ["session_start", "warmup", "feedback_on"] and announced[-2:] == ["retention", "session_end"]


def test_bandwidth_cues_rate_limit_and_reasons():
    coach, events = run_session(runner)
    given = kinds(events, "cue_given")
    # Out of band only from 60 to 90 s; no cue in the first 5 s of the block (finding the beat), then
    # one at once, the next 15 s later (rate limit), none after.
    assert [e.payload["prompt"] for e in given] == ["quick_feet", "quick_feet"]
    assert 65 <= given[0].t - T0 < 65 + 60 / 165 + 1e-9
    assert given[1].t - given[0].t == pytest.approx(15, abs=60 / 165)
    assert given[0].payload["value"] < 169.0 and given[0].payload["band"] == "out"
    withheld = {e.payload["reason"] for e in kinds(events, "cue_withheld")}
    assert withheld == {"block_start_grace", "rate_limited", "feedback_off"}
    grace = [e.t - T0 for e in kinds(events, "cue_withheld") if e.payload["reason"] == "block_start_grace"]
    assert all(60 <= t < 65 for t in grace) and len(grace) >= 12
    # The one slow step that lands just after 90 s falls in the silent block: withheld, not cued.
    assert all(90 <= e.t - T0 < 90.5 for e in kinds(events, "cue_withheld") if e.payload["reason"] == "feedback_off")
    rate_limited = [e for e in kinds(events, "cue_withheld") if e.payload["reason"] == "rate_limited"]
    assert all(given[0].t < e.t < given[0].t + 15 or given[1].t < e.t for e in rate_limited)
    bands = [(e.payload["band"]) for e in kinds(events, "light_band")]
    assert bands[:2] == ["out", "in"]


def test_never_cue_an_invalid_step_and_silent_blocks_withhold():
    slow = lambda elapsed: 160.0 if elapsed < 60 else 165.0  # noqa: E731
    coach, events = run_session(slow, valid_at=lambda i: i % 3 != 0)
    invalid_steps = {e.payload["step_index"] for e in kinds(events, "cue_withheld") if e.payload["reason"] == "invalid_step"}
    assert invalid_steps and all(i % 3 == 0 for i in invalid_steps)
    assert all(e.payload["step_index"] % 3 != 0 for e in kinds(events, "cue_given"))
    by_reason = {}
    for e in kinds(events, "cue_withheld"):
        by_reason.setdefault(e.payload["reason"], []).append(e.t - T0)
    assert all(90 <= t < 120 or 150 <= t < 180 or 210 <= t < 240 for t in by_reason["feedback_off"])
    assert all(240 <= t < 300 for t in by_reason["retention"])
    # one cue per block at most here: each on-block is 30 s, the limit 15 s -> 2 per block
    assert 3 <= len(kinds(events, "cue_given")) <= 6
    summary = coach.summary()
    assert summary.cues_withheld["invalid_step"] == len(invalid_steps)
    assert summary.sentences()[0] == "Cadence 165, on target 0 percent."
    assert summary.sentences()[1] == "Without cues, cadence 165."


def test_summary_event_and_json():
    coach, events = run_session(runner)
    summary = kinds(events, "summary")[0]
    retrained_in_band = coach.summary().retraining().on_target_pct("cadence")
    assert summary.payload["sentences"][0] == f"Cadence 172, on target {round(retrained_in_band)} percent."
    assert 75 < retrained_in_band < 95  # too slow for the first 30 of 180 s
    json.dumps([e.to_dict() for e in events])  # every event is storable as JSON


def test_deterministic_replay():
    _, a = run_session(runner)
    _, b = run_session(runner)
    assert [e.to_dict() for e in a] == [e.to_dict() for e in b]


def test_several_targets_priority_and_flag():
    targets = Targets(cadence=CadenceTarget(increase_pct=7.5), overstride=OverstrideTarget(), strike=StrikeTarget())
    coach, events = run_session(runner, targets=targets, shank=14.0, fsa=12.0)
    ts = kinds(events, "targets_set")[0].payload
    assert ts["cadence"]["target"] == 172.0
    assert ts["overstride"]["target"] == 10.0 and ts["strike"]["target"] == 8.0
    flags = kinds(events, "light_flag")
    assert flags and flags[0].payload["metrics"] == ["overstride", "strike"]
    first = kinds(events, "cue_given")[0]
    assert first.payload["prompt"] == "quick_feet"  # cadence first, the others wait
    lower = [e.payload["prompt"] for e in kinds(events, "cue_withheld") if e.payload["reason"] == "lower_priority"]
    assert "shorter_steps" in lower and "land_softer" in lower
    prompts = {e.payload["prompt"] for e in kinds(events, "cue_given")}
    assert "shorter_steps" in prompts  # once cadence is on target, overstride gets the cue


def strike_cues(events) -> tuple[int, int]:
    """(spoken strike cues, light flags naming the strike) of a session."""
    cues = sum(e.payload["metric"] == "strike" for e in kinds(events, "cue_given"))
    flags = sum("strike" in e.payload["metrics"] for e in kinds(events, "light_flag"))
    return cues, flags


def test_a_midfoot_runner_with_an_odd_heel_landing_is_not_cued_but_a_heel_striker_is():
    targets = Targets(cadence=None, strike=StrikeTarget(aim="midfoot"))
    midfoot_with_odd_heel = lambda i: 15.0 if i % 4 == 0 else 2.0  # noqa: E731 - one step in four lands on the heel
    _, events = run_session(runner, targets=targets, fsa=midfoot_with_odd_heel)
    assert strike_cues(events) == (0, 0)  # judged on the median of 5 steps: 2 deg, midfoot
    per_step = SETTINGS.model_copy(update={"strike_median_steps": 1})
    _, events = run_session(runner, targets=targets, settings=per_step, fsa=midfoot_with_odd_heel)
    assert strike_cues(events)[1] > 20  # judged step by step, every odd heel landing flashes
    _, rearfoot = run_session(runner, targets=targets, fsa=12.0)
    cues, flags = strike_cues(rearfoot)
    assert cues >= 3 and flags > 50
    assert {e.payload["prompt"] for e in kinds(rearfoot, "cue_given")} == {"land_softer"}


def test_no_strike_cue_while_the_foot_landmarks_wander():
    targets = Targets(cadence=None, strike=StrikeTarget(aim="midfoot"))
    _, unsteady = run_session(runner, targets=targets, fsa=12.0, spread=15.0)
    assert strike_cues(unsteady) == (0, 0)
    reasons = Counter(e.payload["reason"] for e in kinds(unsteady, "cue_withheld"))
    assert reasons["strike_unsteady"] > 50 and reasons["not_measured"] == 0
    _, steady = run_session(runner, targets=targets, fsa=12.0, spread=4.0)
    assert strike_cues(steady)[0] >= 3


def test_no_baseline_no_metronome_and_no_target_reason():
    coach, events = run_session(runner, valid_at=lambda i: i > 400)
    assert kinds(events, "baseline_measured")[0].payload["ok"] is False
    assert all(e.payload["bpm"] is None for e in kinds(events, "metronome"))
    assert "no_target" in {e.payload["reason"] for e in kinds(events, "cue_withheld")}
    assert not kinds(events, "cue_given")


def test_absolute_target_needs_no_baseline_and_pause_shifts_schedule():
    coach = Coach(SESSION, Targets(cadence=CadenceTarget(increase_pct=None, absolute_spm=170)), SETTINGS)
    coach.start(0.0)
    coach.tick(30.0)
    assert kinds(coach.pause(30.0), "metronome")[0].payload["bpm"] is None
    assert coach.tick(100.0) == []
    coach.resume(100.0)
    events = coach.tick(130.0)  # 60 s of session time: the first feedback block starts
    assert [e.payload["bpm"] for e in kinds(events, "metronome")] == [170.0]
    assert math.isclose(kinds(events, "block_started")[0].t, 130.0)
    ended = coach.end(140.0)
    assert kinds(ended, "session_ended")[0].payload["reason"] == "ended_early"


def test_errors():
    coach = Coach(SESSION, Targets(), SETTINGS)
    with pytest.raises(CoachError, match="start"):
        coach.on_step(make_step(1, 0.0, 160))
    with pytest.raises(ValueError, match="at least one"):
        Targets(cadence=None)


def test_on_target_share_is_the_primary_targets_share_as_the_coach_judged_it():
    coach = Coach(SESSION, Targets(), SETTINGS)
    coach.start(T0)
    assert coach.on_target_share() is None  # no target before the warm-up's baseline
    coach, _ = run_session(runner)
    phases = coach.summary().to_dict()["phases"]
    judged = [p for k, p in phases.items() if k != "warmup"]
    share = coach.on_target_share()
    assert 0.0 < share < 1.0
    lo, hi = min(p["on_target_pct"]["cadence"] for p in judged), max(p["on_target_pct"]["cadence"] for p in judged)
    assert lo / 100 <= share <= hi / 100


def test_the_summary_says_each_side_s_frontal_peaks_against_the_frontal_limit():
    """A session with a hip-adduction target and a rear camera: the left side collapses (13 deg in
    the warm-up, 10 once retrained), the right does not (8 deg); pelvic drop 5 deg both sides."""
    from test_coach_frontal import TARGET, run

    coach, _ = run(lambda foot, elapsed: (13.0 if elapsed < 60 else 10.0) if foot == "left" else 8.0, TARGET)
    summary = coach.summary()
    sentences = summary.sentences()
    assert "Hip adduction, left 10, right 8 degrees; limit 9." in sentences  # the retraining blocks' stances
    assert "Pelvic drop, left 5, right 5 degrees." in sentences
    frontal = summary.to_dict()["frontal"]
    assert frontal["measure"] == "hip_adduction" and frontal["limit_deg"] == 9.0 and frontal["said_for"] == "retraining"
    assert frontal["session"]["left"]["hip_adduction_deg"] == 10.0  # the whole session: 13 for a third of it
    assert frontal["said"]["left"]["hip_adduction_deg"] == 10.0 and frontal["said"]["right"]["knee_fppa_deg"] == 6.0
    assert frontal["said"]["left"]["foot_lateral_hw"] == 0.3 and frontal["session"]["right"]["stances"] > 100
    assert summary.to_dict()["phases"]["warmup"]["frontal"]["left"]["hip_adduction_deg"] == 13.0


def test_without_a_frontal_target_the_peaks_are_said_without_a_limit_and_without_stances_not_at_all():
    from test_coach_frontal import run

    from appliance.coach import Targets
    from appliance.coach.targets import FrontalTarget

    coach, _ = run(lambda foot, elapsed: 7.0, Targets())
    sentences = coach.summary().sentences()
    assert "Hip adduction, left 7, right 7 degrees." in sentences and not any("limit" in s for s in sentences)
    assert coach.summary().to_dict()["frontal"]["measure"] is None
    knee = Targets(cadence=None, frontal=FrontalTarget(measure="knee_fppa"))
    coach, _ = run(lambda foot, elapsed: 7.0, knee)
    assert any(s.startswith("Knee angle, left 6, right 6 degrees; limit") for s in coach.summary().sentences())
    coach, _ = run(lambda foot, elapsed: 7.0, Targets(), rear_camera=False)
    assert not any("degrees" in s for s in coach.summary().sentences())
    assert coach.summary().to_dict()["frontal"] is None
