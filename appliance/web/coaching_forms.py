"""Per-runner targets and programme as the panel edits them.

The coach owns what a target and a programme are (``appliance.coach.targets.Targets``,
``appliance.coach.programme.Programme``); the panel describes their fields from those models'
JSON schema (unit, range, help, as for the settings) and validates every change with them before
it reaches the store. An empty stored value means the coach's default.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from appliance.coach.programme import Programme, SessionPlan, default_programme
from appliance.coach.targets import CadenceTarget, FrontalTarget, OverstrideTarget, StrikeTarget, Targets
from appliance.web.errors import ApiError
from appliance.web.models import FieldError, SettingField, plain_reason
from appliance.web.settings_form import label_for, model_fields

MAX_JSON_BYTES = 16 * 1024


def _check(kind: str, model: type[BaseModel], value: dict[str, Any]) -> BaseModel:
    if len(json.dumps(value)) > MAX_JSON_BYTES:
        raise ApiError(422, f"The {kind} are too large to save.", [FieldError(field=kind, message="too large")])
    try:
        return model.model_validate(value)
    except ValidationError as e:
        errors, words = [], []
        for err in e.errors(include_url=False):
            path = ".".join(str(p) for p in err["loc"])
            reason = _coach_words(plain_reason(err))
            errors.append(FieldError(field=f"{kind}.{path}" if path else kind, message=reason))
            words.append(f"{_place(err['loc'])}{reason}")
        verb = "were" if kind == "targets" else "was"
        raise ApiError(422, f"The {kind} {verb} not saved: " + "; ".join(words) + ".", errors) from e


# Field names the coach's own messages use, in the form's words.
COACH_WORDS = {"increase_pct": "a cadence increase", "absolute_spm": "a fixed cadence target", "targets: ": ""}


def _coach_words(message: str) -> str:
    for name, words in COACH_WORDS.items():
        message = message.replace(name, words)
    return message


def _place(loc: tuple) -> str:
    """Where in a target or programme an error is, in words: "Tolerance (cadence) ", "session 3: Day "."""
    parts = [str(p) for p in loc]
    if not parts:
        return ""
    if parts[0] == "sessions" and len(parts) >= 2:
        rest = label_for(parts[2]) + " " if len(parts) > 2 else ""
        return f"session {int(parts[1]) + 1}: {rest}"
    if len(parts) == 1:  # the coach's own sentence about a whole target names it
        return ""
    return f"{label_for('.'.join(parts[:2]))} ({parts[0]}) "


def check_targets(value: dict[str, Any]) -> dict[str, Any]:
    """The targets validated (and completed with defaults) by the coach's model; 422 names the field."""
    return _check("targets", Targets, value).model_dump(mode="json")


def check_programme(value: dict[str, Any]) -> dict[str, Any]:
    """The programme validated by the coach's model and its days checked for order
    (``Programme.day_order_problem``); 422 names the field."""
    programme = _check("programme", Programme, value)
    if (problem := programme.day_order_problem()) is not None:
        index, reason = problem
        place = _place(("sessions", index, "day"))
        raise ApiError(422, f"The programme was not saved: {place}{reason}.",
                       [FieldError(field=f"programme.sessions.{index}.day", message=reason)])
    return programme.model_dump(mode="json")


def effective_targets(stored: dict[str, Any]) -> Targets:
    """The runner's targets, or the coach's defaults when none are stored."""
    return Targets.model_validate(stored) if stored else Targets()


def effective_programme(stored: dict[str, Any]) -> Programme:
    """The runner's programme, or the default faded programme when none is stored."""
    return Programme.model_validate(stored) if stored else default_programme()


def targets_fields() -> list[SettingField]:
    """Every target field (all targets switched on) with unit, range and help text."""
    return model_fields(Targets(cadence=CadenceTarget(), overstride=OverstrideTarget(), strike=StrikeTarget(),
                                frontal=FrontalTarget()))


def session_plan_fields() -> list[SettingField]:
    """The fields of one programme session, for the programme table's column heads."""
    return model_fields(SessionPlan(number=1, run_minutes=15, feedback_share=1.0))
