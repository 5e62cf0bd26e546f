"""Set-up page: camera snapshot with skeleton and belt line and framing advice; output tests; health."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from appliance.runtime.controller import CameraSnapshot, Health, OutputKind
from appliance.web.auth import require_clinician
from appliance.web.deps import controller
from appliance.web.models import ERROR_RESPONSES, OkResponse

router = APIRouter(prefix="/api", tags=["set-up"], responses=ERROR_RESPONSES, dependencies=[Depends(require_clinician)])

TEST_MESSAGES = {"speaker": "test click played", "voice": "test prompt spoken", "lights": "lights flashed"}


@router.get("/setup/snapshot", response_model=CameraSnapshot, summary="Newest camera image with skeleton, belt line, advice")
def camera_snapshot(request: Request) -> CameraSnapshot:
    return controller(request).camera_snapshot()


@router.post("/setup/test/{kind}", response_model=OkResponse, summary="Test the speaker, the voice or the lights")
def test_output(kind: OutputKind, request: Request) -> OkResponse:
    controller(request).test_output(kind)
    return OkResponse(message=TEST_MESSAGES[kind])


@router.get("/health", response_model=Health, summary="Loop rate, dropped frames, temperature, disk, version")
def health(request: Request) -> Health:
    return controller(request).health()
