"""Settings page: every field of the config model with unit, range and help; validated changes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from appliance.store import NotFound
from appliance.web.auth import require_clinician
from appliance.web.deps import controller
from appliance.web.errors import ApiError
from appliance.web.models import ERROR_RESPONSES, SettingsUpdate, SettingsView
from appliance.web.settings_form import SettingsChangeError, apply_changes, settings_view

router = APIRouter(
    prefix="/api/settings", tags=["settings"], responses=ERROR_RESPONSES, dependencies=[Depends(require_clinician)]
)


def _is_active_runner(ctl, runner_id: int) -> bool:
    try:
        return not ctl.store.get_runner(runner_id).archived
    except NotFound:
        return False


@router.get("", response_model=SettingsView, summary="Every setting with its unit, range, help text and value")
def get_settings(request: Request) -> SettingsView:
    return settings_view(controller(request).settings)


@router.put("", response_model=SettingsView, summary="Change settings; applied at the next loop tick and saved")
def put_settings(body: SettingsUpdate, request: Request) -> SettingsView:
    ctl = controller(request)
    try:
        new = apply_changes(ctl.settings, body.changes, runner_exists=lambda i: _is_active_runner(ctl, i))
    except SettingsChangeError as e:
        raise ApiError(422, f"Not saved: {e}.", e.errors) from e
    if body.changes:
        ctl.apply_settings(new, who="panel")
    return settings_view(new)
