"""The stored side of a training session, which the session machine (``session.py``) asks for.

``SessionService`` knows the store, the runner's programme and targets, and the coach settings in
force; it creates the stored session when a session starts, builds its ``Coach`` when calibration is
over, and records its end. The machine decides *when*; this decides *what is stored and coached*.

"Press Start" in three files: ``panel_controller.py`` (``start_session``, run on the loop thread) ->
``session.py`` (``SessionMachine.start``: calibrating) -> here (``open_session``: the stored session,
its plan and targets; later ``make_coach`` and ``close_session``).
"""

from __future__ import annotations

import logging
from typing import Any

from appliance.config import CoachSettings, GaitSettings
from appliance.runtime.session import ActiveSession, SessionCommandError
from appliance.store import Store, StoreError

log = logging.getLogger("appliance.runtime.app")  # the lines these calls log kept their logger


class SessionService:
    """Creates, coaches and closes the stored sessions of one source (implements
    ``appliance.runtime.session.SessionService``; everything but ``store_interrupted`` runs on the
    loop thread)."""

    def __init__(self, store: Store, source_name: str, coach_settings: CoachSettings, strike_classes: GaitSettings):
        self.store = store
        self.source_name = source_name
        self.coach_settings = coach_settings  # the next session's coach (the panel's, or the demo's shorter one)
        self.strike_classes = strike_classes  # the next coach's strike band follows the gait's strike classes
        self._plans: dict[int, tuple[Any, Any]] = {}  # session id -> (SessionPlan, Targets) until its coach is built

    def open_session(self, runner_id: int, t: float) -> tuple[int, str, int]:
        """Create the stored session for ``runner_id`` at capture time ``t``; returns (session id,
        runner name, session number in the programme). Raises for an unknown runner and with a
        sentence for invalid targets or programme."""
        from pydantic import ValidationError

        from appliance.coach import Programme, Targets, default_programme

        runner = self.store.get_runner(runner_id)
        try:
            programme = Programme.model_validate(runner.programme) if runner.programme else default_programme()
            targets = Targets.model_validate(runner.targets) if runner.targets else Targets()
        except ValidationError as e:
            raise SessionCommandError(f"{runner.name}'s targets or programme are invalid: {e.errors()[0]['msg']}") from e
        session = self.store.create_session(runner_id, t_start=t, source=self.source_name)
        plan = programme.session(session.session_number)
        self._plans[session.id] = (plan, targets)
        return session.id, runner.name, session.session_number

    def make_coach(self, active: ActiveSession):
        """The session's coach, built with the coach settings and strike classes in force now."""
        from appliance.coach import Coach

        plan, targets = self._plans.pop(active.session_id)
        return Coach(plan, targets, self.coach_settings, self.strike_classes)

    def close_session(self, active: ActiveSession, state: str, summary: dict) -> None:
        """Store the session's end. A store that cannot take it (full disk, closed) is logged, never
        raised: the session machine must end the session whatever the disk says."""
        baseline = (summary.get("baseline") or {}).get("cadence_spm")
        target = ((summary.get("targets") or {}).get("cadence") or {}).get("target")
        self._plans.pop(active.session_id, None)
        try:
            if baseline is not None or target is not None:
                self.store.set_session_cadence(active.session_id, baseline, target)
            self.store.finish_session(active.session_id, state, summary, timeout=1.0)
        except StoreError as e:
            log.error("session %d's end (%s) could not be stored: %s", active.session_id, state, e)

    def store_interrupted(self, active: ActiveSession, reason: str) -> None:
        """Store ``active`` as interrupted from the main thread, when the loop is stuck inside a tick
        (the store is thread-safe; the machine's own state is left alone)."""
        summary = {"steps": active.steps, "valid_steps": active.valid_steps, "calibrated": active.calibrated,
                   "end_reason": f"{reason} (the control loop was stuck)"}
        try:
            self.store.finish_session(active.session_id, "interrupted", summary, timeout=0.5)
        except StoreError as e:
            log.error("session %d's end could not be stored: %s", active.session_id, e)
