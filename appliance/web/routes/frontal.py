"""The mirror page's data: the rear camera's newest pose and the frontal band (no name, no login
needed when the public live view is on, like the live view)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from appliance.frontal.live import NO_REAR_CAMERA, FrontalLive
from appliance.web.deps import controller, live_viewer
from appliance.web.models import ERROR_RESPONSES

router = APIRouter(prefix="/api/frontal", tags=["live"], responses=ERROR_RESPONSES, dependencies=[Depends(live_viewer)])


@router.get("", response_model=FrontalLive, summary="The rear camera's newest pose and the frontal band, for the mirror page")
def frontal(request: Request) -> FrontalLive:
    view = getattr(controller(request), "frontal_live", None)
    return view() if view is not None else NO_REAR_CAMERA
