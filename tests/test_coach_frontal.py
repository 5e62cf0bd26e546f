"""The frontal target: a band under the warm-up's hip adduction (the higher side's), cued on the
same faded schedule as the other targets from the rear camera's stances."""

from __future__ import annotations

from appliance.coach import Coach, SessionPlan, Targets
from appliance.coach.targets import FrontalTarget
from appliance.config import CoachSettings
from appliance.frontal.tracker import FrontalStep
from appliance.types import Step

T0 = 500.0
SETTINGS = CoachSettings(warmup_minutes=1, retention_minutes=1, min_block_minutes=0.5, min_cue_interval_s=8,
                         min_baseline_steps=20, block_grace_s=5)
SESSION = SessionPlan(number=2, run_minutes=3, feedback_share=1.0)  # warm-up 60 s, feedback 60 s, retention 60 s
CADENCE = 170.0


def side_step(i: int, t: float) -> Step:
    return Step(index=i, foot="left" if i % 2 else "right", frame_ic=i * 10, t_ic=t, strike="midfoot",
                foot_strike_angle_deg=3.0, shank_angle_deg=5.0, knee_flexion_deg=20.0, heel_to_hip_leg_lengths=0.2,
                cadence_spm=CADENCE, instant_cadence_spm=CADENCE, confidence=0.9, valid=True)


def frontal_step(foot: str, t: float, adduction: float) -> FrontalStep:
    return FrontalStep(foot, t - 0.25, t, t - 0.12, 8, 5.0, adduction, 6.0, 0.3, "side")


def run(adduction_at, targets: Targets, rear_camera: bool = True):
    """A session where each side step's stance is measured by the rear camera just after it."""
    coach = Coach(SESSION, targets, SETTINGS)
    events = coach.start(T0)
    t, i = T0, 0
    while not coach.ended:
        t += 60.0 / CADENCE
        i += 1
        step = side_step(i, t)
        events += coach.tick(t)
        if coach.ended:
            break
        events += coach.on_step(step)
        if rear_camera:
            coach.on_frontal(frontal_step(step.foot, t + 0.25, adduction_at(step.foot, t - T0)))
    return coach, events


def kinds(events, kind):
    return [e for e in events if e.kind == kind]


TARGET = Targets(cadence=None, frontal=FrontalTarget(measure="hip_adduction", reduction_deg=5.0, tolerance_deg=1.0))


def test_the_band_sits_under_the_higher_side_s_warm_up_baseline() -> None:
    coach, events = run(lambda foot, elapsed: 13.0 if foot == "left" else 8.0, TARGET)
    baseline = kinds(events, "baseline_measured")[0].payload
    assert baseline["frontal_deg"]["hip_adduction"] == 13.0
    assert kinds(events, "targets_set")[0].payload["frontal"] == {"target": 9.0, "lo": -90.0, "hi": 9.0}


def test_a_collapsing_side_is_cued_knees_apart_until_it_holds_the_band() -> None:
    # The left side collapses (13 deg) until 90 s, then holds 7 deg; the right side is fine throughout.
    coach, events = run(lambda foot, elapsed: 13.0 if foot == "left" and elapsed < 90 else 7.0, TARGET)
    cues = [(round(e.t - T0), e.payload["prompt"]) for e in kinds(events, "cue_given")]
    assert cues and all(p == "knees_apart" for _, p in cues)
    assert all(65 <= t < 92 for t, _ in cues), cues  # in feedback, only while the left side collapsed
    summary = coach.summary().to_dict()
    assert "Knees and hips on target" in " ".join(summary["sentences"])


def test_without_a_rear_camera_the_frontal_target_is_not_set_and_says_why() -> None:
    coach, events = run(lambda foot, elapsed: 13.0, TARGET, rear_camera=False)
    assert "rear camera" in kinds(events, "targets_set")[0].payload["frontal"]["unresolved"]
    assert not kinds(events, "cue_given")
