"""Coach: targets, the faded programme, the within-session block plan, bandwidth decisions, summaries.

Pure logic with an injected clock (every input carries its capture time); imports nothing of the
appliance but ``appliance.types`` and ``appliance.config``, never audio or GPIO.

Public API::

    from appliance.coach import Coach, Targets, CadenceTarget, default_programme, plan_session

    programme = default_programme()               # 8 sessions, 15 -> 30 min, feedback 100x4/75/50/25/0 %
    plan_session(programme.session(5))            # [Block(kind, start_s, end_s), ...]
    coach = Coach(programme.session(5), Targets(cadence=CadenceTarget(increase_pct=7.5)), settings.coach)
    events = coach.start(t0)                      # session_started, block_started(warmup), announce...
    events = coach.on_step(step)                  # cue_given | cue_withheld(reason) | light_band | light_flag
    events = coach.tick(t)                        # block_started, metronome {bpm|None}, lights, session_ended, summary
    coach.pause(t) / coach.resume(t) / coach.end(t)
    coach.summary().sentences()                   # ["Cadence 172, on target 84 percent.", ...]

Every event is a ``CoachEvent(kind, t, payload)`` with ``to_dict()`` for the store; kinds and
payloads are listed in ``appliance.coach.events``. Bandwidth feedback: a metric in band produces
no cue event (silence is the feedback) but counts toward the summary; a step outside the band
yields ``cue_given`` or ``cue_withheld`` with the reason (invalid_step, rate_limited,
feedback_off, retention, lower_priority, block_start_grace, not_measured, no_target,
strike_unsteady). The strike is judged on the median of the last few steps.
"""

from appliance.coach.coach import Coach, CoachError
from appliance.coach.events import CoachEvent
from appliance.coach.programme import (
    Block,
    PlanError,
    Programme,
    SessionPlan,
    default_programme,
    feedback_share_of,
    plan_session,
)
from appliance.coach.summary import SessionSummary
from appliance.coach.targets import Band, Baseline, CadenceTarget, OverstrideTarget, StrikeTarget, Targets

__all__ = [
    "Band",
    "Baseline",
    "Block",
    "CadenceTarget",
    "Coach",
    "CoachError",
    "CoachEvent",
    "OverstrideTarget",
    "PlanError",
    "Programme",
    "SessionPlan",
    "SessionSummary",
    "StrikeTarget",
    "Targets",
    "default_programme",
    "feedback_share_of",
    "plan_session",
]
