"""Settings page: every field of the config model with unit, range and help; validated changes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from appliance.runtime.settings_changes import StartedWith
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


def _started_with(ctl) -> StartedWith | None:
    """How the running appliance was started (its command-line overrides); None for a controller
    that was not started from a command line (``started_with`` is not part of every controller)."""
    ask = getattr(ctl, "started_with", None)
    return ask() if ask is not None else None


@router.get("", response_model=SettingsView,
            summary="Every setting with its unit, range, help text, saved value and the value in force")
def get_settings(request: Request) -> SettingsView:
    ctl = controller(request)
    return settings_view(ctl.settings, _started_with(ctl))


@router.put("", response_model=SettingsView, summary="Change settings; applied at the next loop tick and saved")
def put_settings(body: SettingsUpdate, request: Request) -> SettingsView:
    ctl = controller(request)
    try:
        new = apply_changes(ctl.settings, body.changes, runner_exists=lambda i: _is_active_runner(ctl, i))
    except SettingsChangeError as e:
        raise ApiError(422, f"Not saved: {e}.", e.errors) from e
    if body.changes:
        ctl.apply_settings(new, who="panel")
    return settings_view(new, _started_with(ctl))
