"""Session control: start a session for a runner, pause, resume, stop."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from appliance.runtime.controller import LiveSnapshot
from appliance.web.auth import require_clinician
from appliance.web.deps import MAX_ID, controller
from appliance.web.models import ERROR_RESPONSES, Strict

router = APIRouter(
    prefix="/api/session", tags=["session"], responses=ERROR_RESPONSES, dependencies=[Depends(require_clinician)]
)


class StartRequest(Strict):
    runner_id: int = Field(ge=1, le=MAX_ID)


class StartResponse(Strict):
    session_id: int
    snapshot: LiveSnapshot


@router.post("/start", response_model=StartResponse, summary="Start the runner's next programme session")
def start(body: StartRequest, request: Request) -> StartResponse:
    ctl = controller(request)
    session_id = ctl.start_session(body.runner_id)
    return StartResponse(session_id=session_id, snapshot=ctl.snapshot())


@router.post("/pause", response_model=LiveSnapshot, summary="Pause the running session")
def pause(request: Request) -> LiveSnapshot:
    ctl = controller(request)
    ctl.pause_session()
    return ctl.snapshot()


@router.post("/resume", response_model=LiveSnapshot, summary="Resume the paused session")
def resume(request: Request) -> LiveSnapshot:
    ctl = controller(request)
    ctl.resume_session()
    return ctl.snapshot()


@router.post("/stop", response_model=LiveSnapshot, summary="End the session now")
def stop(request: Request) -> LiveSnapshot:
    ctl = controller(request)
    ctl.stop_session()
    return ctl.snapshot()
