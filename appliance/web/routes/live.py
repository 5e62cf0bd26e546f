"""Live view: the current snapshot, once or as a server-sent event stream (about 4 per second)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from appliance.runtime.controller import LiveSnapshot
from appliance.web.auth import current_login
from appliance.web.deps import controller, live_viewer
from appliance.web.models import ERROR_RESPONSES

STREAM_INTERVAL_S = 0.25
# A stream ends after this long and the browser's EventSource reconnects by itself; this keeps a
# forgotten tab from holding a connection (and the server's shutdown) forever, and re-checks auth.
STREAM_MAX_S = 60.0
RECONNECT_MS = 1000

router = APIRouter(prefix="/api/live", tags=["live"], responses=ERROR_RESPONSES, dependencies=[Depends(live_viewer)])


def initials(name: str) -> str:
    """A runner's initials ("Ada Lovelace" -> "A. L."): what the public live view shows of a name."""
    return " ".join(f"{word[0].upper()}." for word in name.split() if word[0].isalnum()) or "Runner"


def for_viewer(snapshot: LiveSnapshot, logged_in: bool) -> LiveSnapshot:
    """The snapshot as a viewer may see it: anyone on the LAN (the opt-in public live view) sees
    the runner's initials, not the name; a logged-in clinician sees everything."""
    if logged_in or snapshot.runner is None:
        return snapshot
    return snapshot.model_copy(update={"runner": snapshot.runner.model_copy(update={"name": initials(snapshot.runner.name)})})


@router.get("", response_model=LiveSnapshot, summary="The current live snapshot (the runner's initials only without login)")
def live(request: Request) -> LiveSnapshot:
    return for_viewer(controller(request).snapshot(), current_login(request) is not None)


@router.get(
    "/stream",
    summary="Live snapshots as server-sent events (event: snapshot, data: LiveSnapshot JSON)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/LiveSnapshot"}}}}},
)
async def live_stream(
    request: Request,
    limit: int | None = Query(None, ge=1, le=100_000, description="Stop after this many events (default: until ~60 s)"),
) -> StreamingResponse:
    app = request.app
    ctl = controller(request)
    logged_in = current_login(request) is not None

    def still_allowed() -> bool:
        return ctl.settings.panel.public_live_view or (logged_in and current_login(request) is not None)

    async def events() -> AsyncIterator[str]:
        yield f"retry: {RECONNECT_MS}\n\n"
        sent = 0
        end = time.monotonic() + STREAM_MAX_S
        while time.monotonic() < end and (limit is None or sent < limit):
            if await request.is_disconnected() or app.state.stopping.is_set() or not still_allowed():
                return
            yield f"event: snapshot\ndata: {for_viewer(ctl.snapshot(), logged_in).model_dump_json()}\n\n"
            sent += 1
            if limit is None or sent < limit:
                await asyncio.sleep(STREAM_INTERVAL_S)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
