"""The HTML pages and their scripts and styles, served from memory (see assets.py).

Pages hold no data: each one fetches what it shows from the API, which does the auth checks,
so the pages themselves are public and a logged-out visit is sent to the login page by script.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from appliance.web.assets import Asset

PAGES = {
    "/live": "live.html",
    "/setup": "setup.html",
    "/runners": "runners.html",
    "/settings": "settings.html",
    "/history": "history.html",
    "/health": "health.html",
    "/login": "login.html",
    "/docs": "docs.html",
}

router = APIRouter(include_in_schema=False)


def _serve(request: Request, asset: Asset) -> Response:
    headers = {"ETag": asset.etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.content_type, headers=headers)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/live", status_code=303)


def _page_route(path: str, file_name: str) -> None:
    def page(request: Request) -> Response:
        return _serve(request, request.app.state.assets[file_name])

    page.__name__ = f"page_{file_name.split('.')[0]}"
    router.add_api_route(path, page, methods=["GET"])


for _path, _file in PAGES.items():
    _page_route(_path, _file)


@router.get("/static/{name}")
def static_asset(name: str, request: Request) -> Response:
    asset = request.app.state.assets.get(name)
    if asset is None or name.endswith(".html"):
        raise HTTPException(404, f"no such file: {name[:80]}")
    return _serve(request, asset)
