"""The clinician's panel: ``create_app(controller, data_dir)`` builds the FastAPI app the runtime serves.

Pages are static (HTML, CSS, vanilla JS, no CDN); data comes from the typed JSON API under /api,
documented at /openapi.json and browsable offline at /docs. See auth.py for who may do what.
"""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi import FastAPI

from appliance import __version__
from appliance.runtime.controller import ApplianceController
from appliance.web import auth, pages
from appliance.web.assets import load_assets
from appliance.web.errors import install_error_handlers
from appliance.web.middleware import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from appliance.web.pin import PinStore
from appliance.web.routes import control, data, frontal, history, live, runners, settings, setup


def create_app(controller: ApplianceController, data_dir: Path) -> FastAPI:
    """The panel app for ``controller``; the PIN hash lives in ``data_dir``.

    ``app.state.stopping`` (a threading.Event) ends open live streams when set: set it before
    asking uvicorn to shut down so that shutdown does not wait for them.
    """
    app = FastAPI(
        title="Running-retraining appliance panel",
        version=__version__,
        description="Live view, runners, sessions, settings and health of the treadmill-side appliance.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.controller = controller
    app.state.data_dir = Path(data_dir)
    app.state.stopping = threading.Event()
    app.state.assets = load_assets()
    app.state.pages = pages.compose_pages(app.state.assets)
    state = auth.AuthState(pins=PinStore(Path(data_dir)))
    state.check_pin_unchanged()
    state.ensure_setup_code()
    app.state.setup_reminders = state.start_setup_reminders(app.state.stopping)  # None when a PIN is set
    app.state.auth = state

    install_error_handlers(app)
    for router in (
        auth.router,
        live.router,
        frontal.router,
        control.router,
        runners.router,
        history.router,
        settings.router,
        setup.router,
        data.router,
        pages.router,
    ):
        app.include_router(router)
    # Outermost first: headers go on every response, including 413s from the size limit.
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
