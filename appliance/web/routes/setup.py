"""Set-up page: each camera's snapshot with its pose drawn and framing advice (the side camera: skeleton
and belt line; the rear camera: hips, knees, ankles and the hip line); output tests; health."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from appliance.runtime.controller import CameraSnapshot, Health, OutputKind, RearCameraSnapshot
from appliance.web.auth import require_clinician
from appliance.web.deps import controller
from appliance.web.models import ERROR_RESPONSES, OkResponse

router = APIRouter(prefix="/api", tags=["set-up"], responses=ERROR_RESPONSES, dependencies=[Depends(require_clinician)])

TEST_MESSAGES = {"speaker": "test click played", "voice": "test prompt spoken", "lights": "lights flashed"}


@router.get("/setup/snapshot", response_model=CameraSnapshot, summary="Newest camera image with skeleton, belt line, advice")
def camera_snapshot(request: Request) -> CameraSnapshot:
    return controller(request).camera_snapshot()


@router.get("/setup/rear-snapshot", response_model=RearCameraSnapshot,
            summary="Newest rear camera image with hips, knees, ankles, the hip line and framing advice")
def rear_camera_snapshot(request: Request) -> RearCameraSnapshot:
    return controller(request).rear_camera_snapshot()


@router.post("/setup/test/{kind}", response_model=OkResponse, summary="Test the speaker, the voice or the lights")
def test_output(kind: OutputKind, request: Request) -> OkResponse:
    controller(request).test_output(kind)
    return OkResponse(message=TEST_MESSAGES[kind])


@router.get("/health", response_model=Health, summary="Loop rate, dropped frames, temperature, disk, version")
def health(request: Request) -> Health:
    return controller(request).health()
