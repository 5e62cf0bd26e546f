"""History: a session's record, its per-step series for the charts, pain and notes, and exports."""

from __future__ import annotations

import math
import statistics
from collections import deque
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from appliance.store import CueEvent, Session
from appliance.web.auth import require_clinician
from appliance.web.deps import MAX_ID, SessionId, controller
from appliance.web.models import ERROR_RESPONSES, Strict

router = APIRouter(prefix="/api/sessions", tags=["history"], responses=ERROR_RESPONSES, dependencies=[Depends(require_clinician)])

Pain = Field(None, ge=0, le=10, description="Pain 0 (none) to 10 (worst imaginable)")


class PainAndNotes(Strict):
    pain_before: int | None = Pain
    pain_after: int | None = Pain
    notes: str | None = Field(None, max_length=4000)


class Block(BaseModel):
    """A stretch of the session in one phase, for shading the charts."""

    start_s: float
    end_s: float
    phase: str
    feedback_on: bool


class FrontalSeries(BaseModel):
    """The rear camera's stances in time order (appliance.frontal), column by column."""

    measure: str = Field(description="The runner's frontal target measure (hip_adduction without a target)")
    t_s: list[float] = Field(description="Seconds since the session start, at each stance's initial contact")
    foot: list[str]
    value_deg: list[float | None] = Field(description="The measure's peak in each stance")
    median_deg: list[float | None] = Field(description="Per foot, the median of its last median_steps stances: what the coach judges")
    limit_deg: float | None = Field(None, description="The session's frontal limit (the coach's band); None: not retrained")


class SessionSeries(BaseModel):
    """Per-step values in time order, column by column (compact for charts); null where unmeasured."""

    session: Session
    t_s: list[float] = Field(description="Seconds since the session start, at each step's initial contact")
    cadence_spm: list[float | None]
    foot_strike_angle_deg: list[float | None]
    shank_angle_deg: list[float | None]
    strike: list[str]
    foot: list[str]
    valid: list[bool]
    feedback_on: list[bool]
    blocks: list[Block]
    median_steps: int = Field(description="Steps in the rolling medians: the coach's strike_median_steps")
    foot_strike_median_deg: list[float | None] = Field(
        description="Median foot-strike angle of the last median_steps valid steps: what the coach judges the strike on"
    )
    shank_median_deg: list[float | None] = Field(description="Median shank angle of the last median_steps valid steps (trend)")
    overstride_limit_deg: float | None = Field(
        None, description="The session's overstride limit (the coach's band; the live view shows the same); None: not retrained"
    )
    strike_limit_deg: float | None = Field(None, description="The session's foot-strike limit; None: not retrained")
    rearfoot_above_deg: float = Field(description="Strike class limits in force (gait settings): rearfoot above this")
    forefoot_below_deg: float = Field(description="... and forefoot below this")
    frontal: FrontalSeries | None = Field(None, description="The rear camera's stances; None: no rear camera in this session")


def rolling_median(values: list[float | None], valid: list[bool], window: int) -> list[float | None]:
    """At each valid, measured step, the median of the last ``window`` such steps (None elsewhere),
    as the coach keeps it for the strike."""
    recent: deque[float] = deque(maxlen=window)
    out: list[float | None] = []
    for value, ok in zip(values, valid, strict=True):
        if ok and value is not None and math.isfinite(value):
            recent.append(value)
            out.append(round(statistics.median(recent), 2))
        else:
            out.append(None)
    return out


def band_limit(session: Session, metric: str) -> float | None:
    """The upper limit the coach judged ``metric`` by in this session, from its stored summary."""
    band = ((session.summary or {}).get("targets") or {}).get(metric) or {}
    hi = band.get("hi")
    return float(hi) if isinstance(hi, int | float) else None


@router.get("", response_model=list[Session], summary="Sessions, newest first (of one runner when given)")
def list_sessions(
    request: Request,
    runner_id: int | None = Query(None, ge=1, le=MAX_ID),
    limit: int = Query(200, ge=1, le=1000),
) -> list[Session]:
    store = controller(request).store
    if runner_id is not None:
        store.get_runner(runner_id)
    return store.list_sessions(runner_id, limit=limit)


@router.get("/{session_id}", response_model=Session, summary="One session with pain, notes and summary")
def get_session(session_id: SessionId, request: Request) -> Session:
    return controller(request).store.get_session(session_id)


@router.get("/{session_id}/series", response_model=SessionSeries, summary="Per-step series and phase blocks for charts")
def session_series(session_id: SessionId, request: Request) -> SessionSeries:
    ctl = controller(request)
    store = ctl.store
    session = store.get_session(session_id)
    steps = store.session_steps(session_id)
    window = ctl.settings.coach.strike_median_steps
    valid = [s.valid for s in steps]
    t0 = session.t_start if session.t_start is not None else (steps[0].t_ic if steps else 0.0)
    t = [round(s.t_ic - t0, 3) for s in steps]
    blocks: list[Block] = []
    for ti, s in zip(t, steps, strict=True):
        if blocks and blocks[-1].phase == s.phase and blocks[-1].feedback_on == s.feedback_on:
            blocks[-1].end_s = ti
        else:
            if blocks:
                blocks[-1].end_s = ti
            blocks.append(Block(start_s=ti, end_s=ti, phase=s.phase, feedback_on=s.feedback_on))
    return SessionSeries(
        session=session,
        t_s=t,
        cadence_spm=[s.cadence_spm for s in steps],
        foot_strike_angle_deg=[s.foot_strike_angle_deg for s in steps],
        shank_angle_deg=[s.shank_angle_deg for s in steps],
        strike=[s.strike for s in steps],
        foot=[s.foot for s in steps],
        valid=valid,
        feedback_on=[s.feedback_on for s in steps],
        blocks=blocks,
        median_steps=window,
        foot_strike_median_deg=rolling_median([s.foot_strike_angle_deg for s in steps], valid, window),
        shank_median_deg=rolling_median([s.shank_angle_deg for s in steps], valid, window),
        overstride_limit_deg=band_limit(session, "overstride"),
        strike_limit_deg=band_limit(session, "strike"),
        rearfoot_above_deg=ctl.settings.gait.rearfoot_above_deg,
        forefoot_below_deg=ctl.settings.gait.forefoot_below_deg,
        frontal=frontal_series(store, session, t0, window),
    )


def frontal_series(store, session: Session, t0: float, window: int) -> FrontalSeries | None:
    """The session's rear-camera stances for the chart (None when it had none)."""
    from appliance.coach.targets import FRONTAL_FIELDS

    stances = store.session_frontal(session.id)
    if not stances:
        return None
    target = (store.get_runner(session.runner_id).targets or {}).get("frontal") or {}
    measure = target.get("measure", "hip_adduction")
    values = [s[FRONTAL_FIELDS[measure]] for s in stances]
    median: list[float | None] = [None] * len(stances)
    for foot in ("left", "right"):
        mine = [i for i, s in enumerate(stances) if s["foot"] == foot]
        for i, m in zip(mine, rolling_median([values[i] for i in mine], [True] * len(mine), window), strict=True):
            median[i] = m
    return FrontalSeries(measure=measure, t_s=[round(s["t_ic"] - t0, 3) for s in stances],
                         foot=[s["foot"] for s in stances], value_deg=values, median_deg=median,
                         limit_deg=band_limit(session, "frontal"))


@router.get("/{session_id}/events", response_model=list[CueEvent], summary="Every cue decision of the session")
def session_events(session_id: SessionId, request: Request) -> list[CueEvent]:
    store = controller(request).store
    store.get_session(session_id)
    return store.session_events(session_id)


@router.put("/{session_id}/pain", response_model=Session, summary="Record pain before/after (0-10) and a note")
def set_pain(session_id: SessionId, body: PainAndNotes, request: Request) -> Session:
    return controller(request).store.set_pain_and_notes(
        session_id, pain_before=body.pain_before, pain_after=body.pain_after, notes=body.notes
    )


@router.get(
    "/{session_id}/export",
    summary="Download the session (steps, cues, pain, notes) as CSV or JSON",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {}}}},
)
def export_session(
    session_id: SessionId, request: Request, format: Literal["csv", "json"] = Query("csv")  # noqa: A002 - the API's word
) -> Response:
    text = controller(request).store.export_session(session_id, format)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/json"
    return Response(
        text,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="session-{session_id}.{format}"'},
    )
