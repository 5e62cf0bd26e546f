"""The session state machine: idle -> calibrating -> warm-up -> feedback blocks -> retention -> summary -> idle.

The coach (``appliance.coach.Coach``) decides what happens inside a running session (warm-up,
feedback on/off blocks, retention, which cue when, the summary); this machine decides whether a
session runs at all:

- ``start`` (panel, button, auto-start) opens a session in the store and enters ``calibrating``: the
  runner stands still for ``calibration_seconds`` and the gait tracker takes its flat-foot and leg
  length reference. A runner who starts running instead, or never stands still within
  ``calibration_timeout_seconds``, gets an uncalibrated session (the tracker's documented fallback).
- While the coach runs, nobody on the belt for ``pause_after_absent_seconds`` pauses the session
  (the coach's clock stops); the runner running or walking again resumes it. ``pause``/``resume`` do
  the same by hand. A session paused for ``end_after_paused_minutes`` ends.
- The coach finishing its last block, or ``stop``, ends the session: ``summary`` for
  ``summary_seconds``, then idle. It is stored as ``completed`` when it reached retention, else
  ``aborted``.

Everything runs on the loop thread at tick boundaries with capture times, never the wall clock.
Each call returns ``SessionEvent`` values: the coach's own events (``kind`` from
``appliance.coach.events``) and the machine's (``session_start``, ``calibrated``,
``calibration_skipped``, ``session_end``); the runtime records them and drives the outputs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from appliance.config import SessionSettings
from appliance.errors import ApplianceError
from appliance.types import Pose, Step

log = logging.getLogger(__name__)

# The coach's block kinds as the live view's phases.
PHASE_OF_BLOCK = {"warmup": "warmup", "feedback_on": "feedback", "feedback_off": "no_feedback", "retention": "retention"}


class SessionCommandError(ApplianceError, RuntimeError):
    """A command refused in the current state; the message is a sentence for the clinician."""


@dataclass(frozen=True)
class SessionEvent:
    """Something that happened at capture time ``t``, for the store and the outputs."""

    t: float
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class ActiveSession:
    session_id: int
    runner_id: int
    runner_name: str
    session_number: int
    t_start: float
    coach: Any = None  # appliance.coach.Coach once calibration is over
    calibrating_since: float | None = None
    standing_since: float | None = None
    calibration_poses: list[Pose] = field(default_factory=list)
    calibrated: bool = False
    paused_since: float | None = None
    paused_total: float = 0.0
    pause_reason: str | None = None
    phase_before_pause: str | None = None
    reached_retention: bool = False
    last_step_index: int = -1
    steps: int = 0
    valid_steps: int = 0


def _coach_events(events) -> list[SessionEvent]:
    return [SessionEvent(e.t, e.kind, dict(e.payload)) for e in events]


class SessionService(Protocol):
    """What the machine asks of the stored side of a session (``appliance.runtime.session_service``)."""

    def open_session(self, runner_id: int, t: float) -> tuple[int, str, int]:
        """Create the stored session; returns (session_id, runner_name, session_number). Raises for
        an unknown or archived runner."""
        ...

    def make_coach(self, active: ActiveSession) -> Any:
        """Build the session's coach (when calibration is over)."""
        ...

    def close_session(self, active: ActiveSession, state: str, summary: dict[str, Any]) -> None:
        """Store the session's end; never raises."""
        ...


class SessionMachine:
    """The session lifecycle; ``update`` every tick, commands between ticks (same thread)."""

    def __init__(
        self,
        settings: SessionSettings,
        sessions: SessionService,
        calibrate: Callable[[list[Pose]], bool],
        absent_after_s: float = 1.0,
    ):
        """``sessions`` creates, coaches and closes the stored sessions; ``calibrate(poses)`` hands
        the standing poses to the gait tracker (True when it accepted them; the control loop that
        owns this machine passes its own). ``absent_after_s`` is the presence detector's delay
        before it reports absent, so that the pause counts from the last sighting."""
        self.settings = settings
        self.sessions = sessions
        self._calibrate = calibrate
        self.absent_after_s = absent_after_s
        self.active: ActiveSession | None = None
        self.phase = "idle"
        self.summary_until: float | None = None
        self.last_summary: dict[str, Any] | None = None
        self.last_session_id: int | None = None
        self.message: str | None = None
        self._auto_armed = True  # auto-start once per arrival on the belt

    # ---- commands ----

    def start(self, runner_id: int, t: float) -> tuple[int, list[SessionEvent]]:
        """Open a session for ``runner_id`` and begin calibrating."""
        if self.active is not None:
            raise SessionCommandError(f"a session is already running (session {self.active.session_id}); stop it first")
        session_id, name, number = self.sessions.open_session(runner_id, t)
        self.active = ActiveSession(session_id, runner_id, name, number, t_start=t, calibrating_since=t)
        self.phase = "calibrating"
        self.summary_until = None
        self.message = "stand still on the belt to calibrate"
        self._auto_armed = False
        events = [SessionEvent(t, "session_start", {"runner_id": runner_id, "session_number": number})]
        if not self.settings.calibrate:
            log.info("session %d started for %s (session %d of the programme), uncalibrated", session_id, name, number)
            return session_id, events + self._begin_coaching(
                self.active, t, SessionEvent(t, "calibration_skipped", {"reason": "calibration is off"}))
        log.info("session %d started for %s (session %d of the programme)", session_id, name, number)
        return session_id, events

    def pause(self, t: float, reason: str = "manual") -> list[SessionEvent]:
        a = self._require_active("pause")
        if a.paused_since is not None:
            raise SessionCommandError("the session is already paused")
        a.paused_since = t
        a.pause_reason = reason
        a.phase_before_pause = self.phase
        self.phase = "paused"
        self.message = "paused: nobody on the belt" if reason == "absent" else "paused"
        log.info("session %d paused (%s)", a.session_id, reason)
        if a.coach is not None:
            return _coach_events(a.coach.pause(t))
        return [SessionEvent(t, "paused", {"reason": reason, "phase": a.phase_before_pause})]

    def resume(self, t: float) -> list[SessionEvent]:
        a = self._require_active("resume")
        if a.paused_since is None:
            raise SessionCommandError("the session is not paused")
        a.paused_total += t - a.paused_since
        a.paused_since = None
        self.phase = a.phase_before_pause or "calibrating"
        a.phase_before_pause = None
        self.message = None
        log.info("session %d resumed", a.session_id)
        if a.coach is not None:
            return _coach_events(a.coach.resume(t))
        a.calibrating_since = t
        a.standing_since = None
        a.calibration_poses.clear()
        return [SessionEvent(t, "resumed", {"reason": a.pause_reason})]

    def stop(self, t: float, reason: str = "stopped", state: str | None = None) -> list[SessionEvent]:
        """End the session now: summary, then idle. ``state`` overrides the stored state (the
        appliance shutting down mid-session stores it as interrupted)."""
        return self._end(self._require_active("stop"), t, reason, state)

    def toggle(self, runner_id: int | None, t: float) -> list[SessionEvent]:
        """The button's press: start the selected runner's session when idle, else pause/resume."""
        if self.active is None:
            if runner_id is None:
                raise SessionCommandError("no runner is selected for the button: choose one on the panel")
            return self.start(runner_id, t)[1]
        if self.active.paused_since is None:
            return self.pause(t, "manual")
        return self.resume(t)

    # ---- every tick ----

    def update(self, t: float, pose: Pose | None, steps: list[Step], presence: str, presence_held_s: float,
               selected_runner: int | None = None) -> list[SessionEvent]:
        """Advance to capture time ``t`` with this tick's pose, steps and runner presence."""
        a = self.active
        if a is None:
            if self.phase == "summary" and self.summary_until is not None and t >= self.summary_until:
                self.phase = "idle"
                self.message = None
            return self._maybe_auto_start(t, presence, presence_held_s, selected_runner)
        s = self.settings
        events: list[SessionEvent] = []
        if a.paused_since is not None:
            if a.pause_reason == "absent" and presence in ("running", "walking"):
                events += self.resume(t)
            elif t - a.paused_since >= s.end_after_paused_minutes * 60:
                return self._end(a, t, "paused too long")
            else:
                return events
        if self.phase == "calibrating":
            return events + self._calibrate_step(a, t, pose, presence, presence_held_s)
        if presence == "absent" and presence_held_s + self.absent_after_s >= s.pause_after_absent_seconds:
            return events + self.pause(t, "absent")
        coach = a.coach
        for step in steps:
            if step.index <= a.last_step_index:
                continue  # the tracker's final re-emission: recorded, not coached twice
            a.last_step_index = step.index
            a.steps += 1
            a.valid_steps += int(step.valid)
            events += _coach_events(coach.on_step(step))
        events += _coach_events(coach.tick(t))
        block = coach.block
        if block is not None and block.kind == "retention":
            a.reached_retention = True
        if coach.ended:
            return events + self._end(a, t, "programme block finished")
        if block is not None:
            self.phase = PHASE_OF_BLOCK[block.kind]
        return events

    def new_step(self, step: Step) -> bool:
        """True when ``step`` is a first emission (not the final re-emission) in the active session."""
        return self.active is not None and step.index > self.active.last_step_index

    def status(self, t: float) -> dict[str, Any]:
        """Live figures of the active session for the snapshot."""
        a = self.active
        if a is None or a.coach is None:
            return {}
        coach = a.coach
        at = t if a.paused_since is None else a.paused_since
        elapsed = coach.elapsed(at)
        block = coach.block
        total = coach.blocks[-1].end_s if coach.blocks else 0.0
        return {
            "phase_time_left_s": max(0.0, block.end_s - elapsed) if block is not None else None,
            "session_time_left_s": max(0.0, total - elapsed),
            "feedback_on": block is not None and block.kind == "feedback_on" and a.paused_since is None,
        }

    # ---- internals ----

    def _require_active(self, what: str) -> ActiveSession:
        if self.active is None:
            raise SessionCommandError(f"no session is running to {what}")
        return self.active

    def _maybe_auto_start(self, t: float, presence: str, held_s: float, runner_id: int | None) -> list[SessionEvent]:
        s = self.settings
        if presence == "absent":
            self._auto_armed = True
        if not s.auto_start or runner_id is None or self.phase != "idle" or not self._auto_armed:
            return []
        if presence == "running" and held_s >= s.auto_start_after_seconds:
            self._auto_armed = False
            try:
                return self.start(runner_id, t)[1]
            except Exception as e:  # an archived or deleted runner: say so, do not retry every tick
                log.error("auto-start for runner %s failed: %s", runner_id, e)
                self.message = f"auto-start failed: {e}"
        return []

    def _calibrate_step(self, a: ActiveSession, t: float, pose: Pose | None, presence: str, held_s: float) -> list[SessionEvent]:
        s = self.settings
        if presence != "absent" and a.calibrating_since is not None and t - a.calibrating_since >= s.calibration_timeout_seconds:
            # Also while standing: a calibration refused again and again (feet out of view) ends here.
            return self._begin_coaching(a, t, SessionEvent(t, "calibration_skipped", {"reason": "no quiet standing"}))
        if presence == "standing" and pose is not None:
            if a.standing_since is None:
                a.standing_since = t
                a.calibration_poses.clear()
            a.calibration_poses.append(pose)
            if t - a.standing_since < s.calibration_seconds:
                self.message = "stand still to calibrate"
                return []
            n = len(a.calibration_poses)
            ok = self._calibrate(a.calibration_poses)
            a.calibration_poses = []
            if ok:
                a.calibrated = True
                return self._begin_coaching(a, t, SessionEvent(t, "calibrated", {"poses": n}))
            a.standing_since = None  # refused (moving, feet not seen): try again, until the timeout
            self.message = "calibration failed: stand still with the whole body in view"
            return []
        a.standing_since = None
        a.calibration_poses.clear()
        if presence == "running" and held_s >= 2.0:
            return self._begin_coaching(a, t, SessionEvent(t, "calibration_skipped", {"reason": "runner started running"}))
        self.message = "step onto the belt and stand still" if presence == "absent" else "stand still to calibrate"
        return []

    def _begin_coaching(self, a: ActiveSession, t: float, first: SessionEvent) -> list[SessionEvent]:
        a.coach = self.sessions.make_coach(a)
        events = [first] + _coach_events(a.coach.start(t))
        self.phase = PHASE_OF_BLOCK[a.coach.block.kind]
        self.message = None
        return events

    def _end(self, a: ActiveSession, t: float, reason: str, state_override: str | None = None) -> list[SessionEvent]:
        events: list[SessionEvent] = []
        summary: dict[str, Any] = {}
        coach = a.coach
        if coach is not None:
            if not coach.ended:
                events += _coach_events(coach.end(t))
            summary = coach.summary().to_dict()
        if a.paused_since is not None:
            a.paused_total += t - a.paused_since
            a.paused_since = None
        completed = a.reached_retention or (coach is not None and coach.ended == "completed")
        state = state_override or ("completed" if completed else "aborted")
        summary.update(
            steps=a.steps, valid_steps=a.valid_steps, end_reason=reason, calibrated=a.calibrated,
            active_s=round(t - a.t_start - a.paused_total, 3), paused_s=round(a.paused_total, 3),
        )
        self.sessions.close_session(a, state, summary)
        events.append(SessionEvent(t, "session_end", {"state": state, "reason": reason}))
        log.info("session %d ended: %s (%s), %d steps", a.session_id, state, reason, a.steps)
        self.last_summary = summary
        self.last_session_id = a.session_id
        self.active = None
        self.phase = "summary"
        self.summary_until = t + self.settings.summary_seconds
        self.message = None
        return events
