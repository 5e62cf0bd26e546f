"""The store's records as the rest of the appliance sees them, its errors, and the JSON they are
kept in (SQLite and JSON have no NaN: non-finite numbers are stored as NULL)."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from appliance.errors import ApplianceError

SessionState = Literal["running", "completed", "interrupted", "aborted"]
SESSION_STATES: tuple[str, ...] = ("running", "completed", "interrupted", "aborted")


class StoreError(ApplianceError):
    """The database cannot be used as asked; the message says why and what to do."""


class NotFound(StoreError):
    """No record with that id."""


class Runner(BaseModel):
    id: int
    name: str
    archived: bool = False
    targets: dict[str, Any] = Field(default_factory=dict, description="Retraining targets (JSON; the coach validates them)")
    programme: dict[str, Any] = Field(default_factory=dict, description="Programme settings (JSON; the coach validates them)")
    created: datetime
    sessions_completed: int = Field(0, description="Sessions of this runner that reached the end")


class Session(BaseModel):
    id: int
    runner_id: int
    runner_name: str = ""
    session_number: int = Field(description="1-based number of this session in the runner's programme")
    started: datetime
    ended: datetime | None = None
    state: SessionState
    pain_before: int | None = Field(None, ge=0, le=10)
    pain_after: int | None = Field(None, ge=0, le=10)
    notes: str = ""
    summary: dict[str, Any] | None = None
    baseline_cadence_spm: float | None = None
    target_cadence_spm: float | None = None
    t_start: float | None = Field(None, description="Capture-clock time of the session start (seconds)")
    source: str = ""
    step_count: int = 0
    cue_count: int = Field(0, description="Spoken cues given (the coach's cue_given events)")
    uid: str | None = Field(None, description="The session's identity across appliances (a runner's bundle)")


class StepRecord(BaseModel):
    """One stored step: the gait tracker's ``Step`` plus the session phase it happened in."""

    session_id: int
    index: int
    foot: str
    frame_ic: int
    t_ic: float
    strike: str
    foot_strike_angle_deg: float | None
    shank_angle_deg: float | None
    knee_flexion_deg: float | None
    heel_to_hip_leg_lengths: float | None
    cadence_spm: float | None
    instant_cadence_spm: float | None
    confidence: float | None
    valid: bool
    frame_to: int | None = None
    t_to: float | None = None
    contact_time_s: float | None = None
    flight_time_s: float | None = None
    duty_factor: float | None = None
    vertical_oscillation_leg_lengths: float | None = None
    trunk_lean_deg: float | None = None
    calibrated: bool = False
    strike_spread_deg: float | None = Field(None, description="Spread of the mid-stance foot angle: how far the strike angle can be trusted")
    final: bool = Field(False, description="True once the step's toe-off metrics are in")
    timed_by: str = Field("landmarks", description="What timed the contact: landmarks (the foot's height) or pixels (the foot stage's touch)")
    t_touch: float | None = Field(None, description="The foot stage's touch (initial contact), capture seconds")
    t_lock: float | None = Field(None, description="The foot stage's belt lock, capture seconds")
    strike_read_by: str = Field("landmarks", description="What read the contact's angles: landmarks (per frame) or heavy (the larger model, per contact)")
    phase: str = Field("", description="Session phase at this step: warmup, feedback, no_feedback, retention...")
    feedback_on: bool = Field(False, description="True when the step fell in a feedback block")


class CueEvent(BaseModel):
    session_id: int
    t: float = Field(description="Capture-clock time of the decision (seconds)")
    kind: str
    payload: dict[str, Any] = Field(default_factory=dict)


class SettingsChange(BaseModel):
    id: int
    t: datetime
    who: str
    diff: dict[str, Any]


def finite(x: Any) -> Any:
    """NaN/inf become NULL (SQLite and JSON have no NaN)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def json_safe(obj: Any) -> Any:
    """A copy of ``obj`` with non-finite floats replaced by None, so json.dumps writes strict JSON."""
    if isinstance(obj, float):
        return finite(obj)
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    """``obj`` as strict, key-sorted JSON text for a TEXT column."""
    return json.dumps(json_safe(obj), allow_nan=False, sort_keys=True)
