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
from appliance.coach.targets import CadenceTarget, OverstrideTarget, StrikeTarget, Targets
from appliance.web.errors import ApiError
from appliance.web.models import FieldError, SettingField
from appliance.web.settings_form import model_fields

MAX_JSON_BYTES = 16 * 1024


def _check(kind: str, model: type[BaseModel], value: dict[str, Any]) -> BaseModel:
    if len(json.dumps(value)) > MAX_JSON_BYTES:
        raise ApiError(422, f"{kind}: larger than {MAX_JSON_BYTES} bytes", [FieldError(field=kind, message="too large")])
    try:
        return model.model_validate(value)
    except ValidationError as e:
        errors = [
            FieldError(field=".".join([kind, *(str(p) for p in err["loc"])]), message=err["msg"])
            for err in e.errors(include_url=False)
        ]
        raise ApiError(422, f"{kind} not valid: " + "; ".join(f"{x.field}: {x.message}" for x in errors), errors) from e


def check_targets(value: dict[str, Any]) -> dict[str, Any]:
    """The targets validated (and completed with defaults) by the coach's model; 422 names the field."""
    return _check("targets", Targets, value).model_dump(mode="json")


def check_programme(value: dict[str, Any]) -> dict[str, Any]:
    """The programme validated by the coach's model; 422 names the field."""
    return _check("programme", Programme, value).model_dump(mode="json")


def effective_targets(stored: dict[str, Any]) -> Targets:
    """The runner's targets, or the coach's defaults when none are stored."""
    return Targets.model_validate(stored) if stored else Targets()


def effective_programme(stored: dict[str, Any]) -> Programme:
    """The runner's programme, or the default faded programme when none is stored."""
    return Programme.model_validate(stored) if stored else default_programme()


def targets_fields() -> list[SettingField]:
    """Every target field (all three targets switched on) with unit, range and help text."""
    return model_fields(Targets(cadence=CadenceTarget(), overstride=OverstrideTarget(), strike=StrikeTarget()))


def session_plan_fields() -> list[SettingField]:
    """The fields of one programme session, for the programme table's column heads."""
    return model_fields(SessionPlan(number=1, run_minutes=15, feedback_share=1.0))
