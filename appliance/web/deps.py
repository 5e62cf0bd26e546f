"""Small FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Path, Request

from appliance.runtime.controller import ApplianceController
from appliance.web.auth import current_login


def controller(request: Request) -> ApplianceController:
    """The running appliance this panel steers."""
    return request.app.state.controller


def live_viewer(request: Request) -> None:
    """Dependency: a logged-in clinician, or anyone when the public live view is enabled."""
    if request.app.state.controller.settings.panel.public_live_view:
        return
    if current_login(request) is None:
        raise HTTPException(401, "login required (or enable settings panel.public_live_view for a runner-facing view)")


# SQLite integers are 64-bit signed: larger ids cannot exist and must be refused as input (422).
MAX_ID = 2**63 - 1
RunnerId = Annotated[int, Path(ge=1, le=MAX_ID, description="Runner id")]
SessionId = Annotated[int, Path(ge=1, le=MAX_ID, description="Session id")]
