"""Runners: create, edit (name, targets, programme), archive; their sessions and programme progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from appliance.coach.programme import Programme, SessionPlan, default_programme
from appliance.coach.targets import Targets
from appliance.store import Runner, Session
from appliance.web.auth import require_clinician
from appliance.web.coaching_forms import (
    check_programme,
    check_targets,
    effective_programme,
    effective_targets,
    session_plan_fields,
    targets_fields,
)
from appliance.web.deps import RunnerId, controller
from appliance.web.errors import ApiError
from appliance.web.models import ERROR_RESPONSES, FieldError, SettingField, Strict, text_problem

router = APIRouter(
    prefix="/api/runners", tags=["runners"], responses=ERROR_RESPONSES, dependencies=[Depends(require_clinician)]
)

RunnerName = Field(min_length=1, max_length=80, pattern=r"\S", description="Name or pseudonym shown on the panel")


class RunnerCreate(Strict):
    name: str = RunnerName
    targets: dict[str, Any] | None = Field(None, description="Retraining targets (see GET /api/runners/forms)")
    programme: dict[str, Any] | None = Field(None, description="Programme (see GET /api/runners/forms)")


class RunnerUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=80, pattern=r"\S")
    targets: dict[str, Any] | None = None
    programme: dict[str, Any] | None = None


class ArchiveRequest(Strict):
    archived: bool = True


class RunnerDetail(BaseModel):
    runner: Runner
    targets: Targets = Field(description="The runner's targets (the coach's defaults when none are set)")
    programme: Programme = Field(description="The runner's programme (the default faded programme when none is set)")
    next_session: SessionPlan = Field(description="The programme session a start would begin")
    sessions: list[Session] = Field(description="The runner's sessions, newest first")
    selected: bool = Field(
        description="True when this is the selected runner (settings session.runner_id): the button and auto-start"
        " start their sessions"
    )


class RunnerForms(BaseModel):
    """How to edit targets and programme sessions: every field with unit, range and help text."""

    targets: list[SettingField]
    session: list[SettingField]
    default_programme: Programme


def checked_name(request: Request, name: str, runner_id: int | None = None) -> str:
    """The name trimmed, or 422 on body.name: no control or invisible characters (a U+202E would
    show it reversed), and no second runner of the same name (archived ones count)."""
    name = name.strip()
    problem = text_problem(name)
    if problem is None:
        same = [r for r in controller(request).store.list_runners(include_archived=True)
                if r.name.casefold() == name.casefold() and r.id != runner_id]
        if same:
            archived = " (archived)" if same[0].archived else ""
            problem = f"is already used by another runner{archived}: add an initial or a number"
    if problem:
        raise ApiError(422, f"The name {problem}.", [FieldError(field="body.name", message=problem)])
    return name


@router.get("", response_model=list[Runner], summary="Runners, by name")
def list_runners(request: Request, include_archived: bool = Query(False)) -> list[Runner]:
    return controller(request).store.list_runners(include_archived=include_archived)


@router.get("/forms", response_model=RunnerForms, summary="Field descriptions for the targets and programme editors")
def runner_forms() -> RunnerForms:
    return RunnerForms(targets=targets_fields(), session=session_plan_fields(), default_programme=default_programme())


@router.post("", response_model=Runner, status_code=201, summary="Create a runner")
def create_runner(body: RunnerCreate, request: Request) -> Runner:
    targets = check_targets(body.targets) if body.targets is not None else None
    programme = check_programme(body.programme) if body.programme is not None else None
    name = checked_name(request, body.name)
    return controller(request).store.create_runner(name, targets=targets, programme=programme)


@router.get("/{runner_id}", response_model=RunnerDetail, summary="A runner with targets, programme and sessions")
def get_runner(runner_id: RunnerId, request: Request) -> RunnerDetail:
    store = controller(request).store
    runner = store.get_runner(runner_id)
    programme = effective_programme(runner.programme)
    return RunnerDetail(
        runner=runner,
        targets=effective_targets(runner.targets),
        programme=programme,
        next_session=programme.session(runner.sessions_completed + 1),
        sessions=store.list_sessions(runner_id),
        selected=controller(request).settings.session.runner_id == runner_id,
    )


@router.put("/{runner_id}", response_model=Runner, summary="Change a runner's name, targets or programme")
def update_runner(runner_id: RunnerId, body: RunnerUpdate, request: Request) -> Runner:
    store = controller(request).store
    store.get_runner(runner_id)
    targets = check_targets(body.targets) if body.targets is not None else None
    programme = check_programme(body.programme) if body.programme is not None else None
    name = checked_name(request, body.name, runner_id) if body.name is not None else None
    return store.update_runner(runner_id, name=name, targets=targets, programme=programme)


@router.post("/{runner_id}/archive", response_model=Runner, summary="Archive (or restore) a runner")
def archive_runner(runner_id: RunnerId, body: ArchiveRequest, request: Request) -> Runner:
    return controller(request).store.archive_runner(runner_id, archived=body.archived)
