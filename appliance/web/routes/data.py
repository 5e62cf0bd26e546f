"""The clinic's data from the panel: a backup download, a runner's bundle download, and erasing a
runner with everything recorded about them (typed confirmation: the runner's name).

Clinician only; the erasure is a POST and needs the CSRF header like every state-changing call.
Backups and bundles are built in a temporary directory under the data directory and deleted once
sent.
"""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from appliance.runtime.controller import ControllerError
from appliance.store.backup import PIN_MEMBER, create_backup
from appliance.store.bundle import export_runner_bundle
from appliance.store.erase import erase_runner
from appliance.web.auth import require_clinician
from appliance.web.deps import RunnerId, controller
from appliance.web.errors import ApiError
from appliance.web.models import ERROR_RESPONSES, FieldError, Strict

router = APIRouter(prefix="/api", tags=["data"], responses=ERROR_RESPONSES, dependencies=[Depends(require_clinician)])

ZIP = {200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}}
TAR_GZ = {200: {"content": {"application/gzip": {"schema": {"type": "string", "format": "binary"}}}}}


class EraseRequest(Strict):
    confirm_name: str = Field(max_length=200, description="The runner's name, typed again: the confirmation")


class Erased(BaseModel):
    message: str = Field(description="One line: what was erased")
    sessions: int
    steps: int
    cue_events: int


def _temporary_dir(request: Request) -> Path:
    """A directory for one download, under the data directory (deleted after the response)."""
    return Path(tempfile.mkdtemp(prefix=".download-", dir=request.app.state.data_dir))


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


@router.get("/data/backup", response_class=FileResponse, responses=TAR_GZ,
            summary="Download a backup now: database snapshot, settings and PIN hash in one .tar.gz with a manifest")
def download_backup(request: Request) -> FileResponse:
    ctl = controller(request)
    data_dir = Path(request.app.state.data_dir)
    work = _temporary_dir(request)
    name = f"appliance-backup-{re.sub(r'[^A-Za-z0-9-]', '', socket.gethostname())[:40]}-{_stamp()}.tar.gz"
    try:
        settings_path = getattr(ctl, "config_path", None) or data_dir / "settings.json"
        create_backup(ctl.store, work / name, settings_path=settings_path, pin_path=data_dir / PIN_MEMBER, work_dir=work)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return FileResponse(work / name, media_type="application/gzip", filename=name,
                        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True))


@router.get("/runners/{runner_id}/bundle", response_class=FileResponse, responses=ZIP,
            summary="Download one runner with all their sessions (JSON and CSV in one .zip) for another appliance")
def download_bundle(runner_id: RunnerId, request: Request) -> FileResponse:
    store = controller(request).store
    runner = store.get_runner(runner_id)
    work = _temporary_dir(request)
    name = f"runner-{re.sub(r'[^A-Za-z0-9-]+', '-', runner.name).strip('-')[:40] or runner_id}-{_stamp()}.zip"
    try:
        export_runner_bundle(store, runner_id, work / name)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return FileResponse(work / name, media_type="application/zip", filename=name,
                        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True))


@router.post("/runners/{runner_id}/erase", response_model=Erased,
             summary="Erase a runner and everything recorded about them, for good (type their name to confirm)")
def erase(runner_id: RunnerId, body: EraseRequest, request: Request) -> Erased:
    ctl = controller(request)
    runner = ctl.store.get_runner(runner_id)
    if body.confirm_name.strip() != runner.name:
        problem = f"type the runner's name exactly as shown ({runner.name}) to erase them"
        raise ApiError(422, f"Not erased: {problem}.", [FieldError(field="body.confirm_name", message=problem)])
    live = ctl.snapshot()
    if live.session_id is not None and live.runner is not None and live.runner.id == runner_id:
        raise ControllerError(f"{runner.name}'s session is running: stop it first, then erase them")
    erased = erase_runner(ctl.store, runner_id, body.confirm_name)
    if ctl.settings.session.runner_id == runner_id:  # no longer selected for the button
        new = ctl.settings.model_copy(update={"session": ctl.settings.session.model_copy(update={"runner_id": None})})
        ctl.apply_settings(new, who="panel (runner erased)")
    return Erased(message=erased.sentence(f"{runner.name} erased"), sessions=erased.sessions, steps=erased.steps,
                  cue_events=erased.cue_events)
