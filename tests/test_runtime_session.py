"""The session state machine with the real coach, fed synthetic poses and steps at capture times."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.coach import CadenceTarget, Coach, SessionPlan, Targets
from appliance.config import CoachSettings, SessionSettings
from appliance.runtime.presence import PresenceDetector
from appliance.runtime.session import SessionCommandError, SessionMachine
from appliance.types import Pose, Step

FPS = 30.0
SHORT_COACH = CoachSettings(warmup_minutes=0.5, retention_minutes=0.5, min_block_minutes=0.5, min_baseline_steps=10,
                            min_cue_interval_s=5)
PLAN = SessionPlan(number=1, run_minutes=5, feedback_share=0.5)  # warm-up 30 s, 4 x (30 s on, 30 s off), 30 s retention


def pose(t: float, i: int) -> Pose:
    return Pose(t, i, np.zeros((33, 5), np.float32), 0.9, (640, 480))


def step(i: int, t: float, cadence: float) -> Step:
    return Step(index=i, foot="left" if i % 2 else "right", frame_ic=int(t * FPS), t_ic=t, strike="rearfoot",
                foot_strike_angle_deg=10.0, shank_angle_deg=6.0, knee_flexion_deg=15.0, heel_to_hip_leg_lengths=0.2,
                cadence_spm=cadence, instant_cadence_spm=cadence, confidence=0.9, valid=True)


class Harness:
    """A session machine (this is its session service too), a presence detector and a scripted runner,
    ticked at 30 fps."""

    def __init__(self, **session_settings):
        self.stored: dict[int, tuple[str, dict]] = {}
        self.calibrations: list[int] = []
        self.coaches: list[Coach] = []
        self.presence = PresenceDetector()
        self.machine = SessionMachine(SessionSettings(**session_settings), self, self.calibrate)
        self.t = 0.0
        self.frame = 0
        self.step_index = 0
        self.next_step_t = None
        self.events = []
        self.phases: list[str] = []

    def open_session(self, runner_id: int, t: float):
        if runner_id != 1:
            raise ValueError(f"no runner with id {runner_id}")
        return 100 + len(self.stored), "Ann", 1

    def make_coach(self, active):
        coach = Coach(PLAN, Targets(cadence=CadenceTarget(increase_pct=7.5)), SHORT_COACH)
        self.coaches.append(coach)
        return coach

    def calibrate(self, poses):
        self.calibrations.append(len(poses))
        return True

    def close_session(self, active, state, summary):
        self.stored[active.session_id] = (state, summary)

    def run(self, seconds: float, mode: str, cadence: float = 170.0, selected: int | None = None):
        """mode: absent | standing | running"""
        end = self.t + seconds
        while self.t < end:
            seen = mode != "absent"
            steps = []
            if mode == "running":
                if self.next_step_t is None:
                    self.next_step_t = self.t
                if self.t >= self.next_step_t:
                    steps = [step(self.step_index, self.t, cadence)]
                    self.step_index += 1
                    self.next_step_t += 60.0 / cadence
            else:
                self.next_step_t = None
            state = self.presence.update(self.t, seen, steps)
            self.events += self.machine.update(self.t, pose(self.t, self.frame) if seen else None, steps, state,
                                               self.presence.held_for(self.t), selected)
            if not self.phases or self.phases[-1] != self.machine.phase:
                self.phases.append(self.machine.phase)
            self.frame += 1
            self.t = self.frame / FPS

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


def test_a_whole_session_goes_through_every_phase_and_is_stored_completed():
    h = Harness(summary_seconds=5)
    h.run(1, "absent")
    sid, events = h.machine.start(1, h.t)
    h.events += events
    h.run(4, "standing")
    assert h.calibrations and h.calibrations[0] >= 3 * FPS - 1
    h.run(5 * 60 + 1, "running", cadence=170)
    h.run(6, "standing")
    assert h.phases == ["idle", "calibrating", "warmup", "feedback", "no_feedback", "feedback", "no_feedback", "feedback",
                        "no_feedback", "feedback", "no_feedback", "retention", "summary", "idle"]
    state, summary = h.stored[sid]
    assert state == "completed" and summary["ended"] == "completed" and summary["calibrated"]
    assert summary["baseline"]["cadence_spm"] == pytest.approx(170, abs=0.5)
    assert summary["targets"]["cadence"]["target"] == pytest.approx(170 * 1.075, abs=0.5)
    kinds = h.kinds()
    assert kinds[:3] == ["session_start", "calibrated", "session_started"]
    # the runner stays at 170 against a 182.75 target: cued in feedback blocks, rate-limited, never in off blocks
    assert kinds.count("cue_given") >= 4
    assert all(e.payload["prompt"] == "quick_feet" for e in h.events if e.kind == "cue_given")
    metronome = [e.payload["bpm"] for e in h.events if e.kind == "metronome"]
    assert metronome.count(None) >= 4 and any(b for b in metronome)
    assert kinds[-1] == "session_end" and "summary" in kinds
    assert summary["steps"] == pytest.approx((5 * 60) * 170 / 60, rel=0.02)


def test_runner_leaving_pauses_and_returning_resumes_without_counting_the_pause():
    h = Harness(pause_after_absent_seconds=2)
    h.machine.start(1, h.t)
    h.run(4, "standing")
    h.run(20, "running")
    assert h.machine.phase == "warmup"
    left_before = h.machine.status(h.t)["session_time_left_s"]
    h.run(1.5, "absent")
    assert h.machine.phase == "warmup"  # not yet: 2 s of nobody
    h.run(30, "absent")
    assert h.machine.phase == "paused"
    assert h.machine.status(h.t)["session_time_left_s"] == pytest.approx(left_before - 2, abs=0.2)
    h.run(3, "running")
    assert h.machine.phase == "warmup"
    assert "paused" in h.kinds() and "resumed" in h.kinds()
    assert h.machine.status(h.t)["session_time_left_s"] == pytest.approx(left_before - 2 - 3, abs=0.3)


def test_stop_before_retention_is_stored_aborted_with_a_summary():
    h = Harness()
    sid, _ = h.machine.start(1, h.t)
    h.run(4, "standing")
    h.run(60, "running")
    h.events += h.machine.stop(h.t)
    state, summary = h.stored[sid]
    assert state == "aborted" and summary["end_reason"] == "stopped" and summary["ended"] == "ended_early"
    assert h.machine.phase == "summary"
    with pytest.raises(SessionCommandError, match="no session is running"):
        h.machine.pause(h.t)


def test_refusals_are_sentences():
    h = Harness()
    h.machine.start(1, 0.0)
    with pytest.raises(SessionCommandError, match="already running"):
        h.machine.start(1, 0.0)
    with pytest.raises(SessionCommandError, match="not paused"):
        h.machine.resume(0.0)
    h.machine.stop(0.1)
    with pytest.raises(SessionCommandError, match="no runner is selected"):
        h.machine.toggle(None, 1.0)


def test_running_straight_away_skips_calibration():
    h = Harness()
    h.machine.start(1, 0.0)
    h.run(5, "running")
    assert h.calibrations == [] and "calibration_skipped" in h.kinds() and h.machine.phase == "warmup"


def test_auto_start_once_per_arrival():
    h = Harness(auto_start=True, runner_id=1, auto_start_after_seconds=3)
    h.run(2, "absent", selected=1)
    h.run(5, "running", selected=1)
    assert h.machine.active is not None and h.kinds()[0] == "session_start"
    h.machine.stop(h.t)
    h.run(30, "running", selected=1)
    assert h.machine.active is None  # still the same arrival: no second session
    h.run(2, "absent", selected=1)
    h.run(5, "running", selected=1)
    assert h.machine.active is not None


def test_button_press_starts_pauses_and_resumes():
    h = Harness()
    h.machine.toggle(1, 0.0)
    assert h.machine.phase == "calibrating"
    h.machine.toggle(1, 1.0)
    assert h.machine.phase == "paused"
    h.machine.toggle(1, 2.0)
    assert h.machine.phase == "calibrating"


def test_a_calibration_refused_again_and_again_ends_at_the_timeout():
    """A runner standing still whose calibration keeps failing (feet out of view) is not kept waiting:
    after calibration_timeout_seconds the session runs uncalibrated."""
    h = Harness(calibration_timeout_seconds=10)
    h.calibrate = lambda poses: h.calibrations.append(len(poses)) or False
    h.machine._calibrate = h.calibrate
    h.machine.start(1, 0.0)
    h.run(9, "standing")
    assert h.machine.phase == "calibrating" and len(h.calibrations) >= 2
    h.run(2, "standing")
    skipped = [e for e in h.events if e.kind == "calibration_skipped"]
    assert h.machine.phase == "warmup" and skipped[0].payload["reason"] == "no quiet standing"


def test_calibration_off_goes_straight_to_the_warmup():
    h = Harness(calibrate=False)
    _, events = h.machine.start(1, 0.0)
    assert [e.kind for e in events][:3] == ["session_start", "calibration_skipped", "session_started"]
    assert h.machine.phase == "warmup" and h.calibrations == []
