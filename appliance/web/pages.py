"""The HTML pages and their scripts and styles, served from memory (see assets.py).

Pages hold no data: each one fetches what it shows from the API, which does the auth checks,
so the pages themselves are public and a logged-out visit is sent to the login page by script.
Every page is the shared frame ``static/page.html`` (head, header, navigation) around the page's
own content, ``static/<name>.html``, put together once at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from appliance.web.assets import Asset, make_asset


@dataclass(frozen=True)
class Page:
    content: str  # the file in static/ with what goes inside <main>
    title: str
    scripts: tuple[str, ...]  # loaded after common.js


PAGES = {
    "/live": Page("live.html", "Live", ("live.js",)),
    "/mirror": Page("mirror.html", "Mirror", ("mirror.js",)),
    "/setup": Page("setup.html", "Set-up", ("setup.js",)),
    "/runners": Page("runners.html", "Runners", ("runners.js",)),
    "/settings": Page("settings.html", "Settings", ("settings.js",)),
    "/history": Page("history.html", "History", ("charts.js", "history.js")),
    "/health": Page("health.html", "Health", ("health.js",)),
    "/login": Page("login.html", "Log in", ("login.js",)),
    "/docs": Page("docs.html", "API", ("docs.js",)),
}
FRAME = "page.html"


def compose_pages(assets: dict[str, Asset]) -> dict[str, Asset]:
    """Each page of PAGES as a whole HTML document, keyed by its path."""
    frame = assets[FRAME].body.decode()
    pages = {}
    for path, page in PAGES.items():
        scripts = "".join(f'<script src="/static/{name}" defer></script>\n' for name in page.scripts)
        html = (frame.replace("{{title}}", page.title).replace("{{scripts}}", scripts)
                .replace("{{main}}", assets[page.content].body.decode()))
        pages[path] = make_asset(page.content, html.encode(), assets[FRAME].content_type)
    return pages


router = APIRouter(include_in_schema=False)


def _serve(request: Request, asset: Asset) -> Response:
    headers = {"ETag": asset.etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.content_type, headers=headers)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/live", status_code=303)


def _page_route(path: str) -> None:
    def page(request: Request) -> Response:
        return _serve(request, request.app.state.pages[path])

    page.__name__ = f"page_{path.strip('/')}"
    router.add_api_route(path, page, methods=["GET"])


for _path in PAGES:
    _page_route(_path)


@router.get("/static/{name}")
def static_asset(name: str, request: Request) -> Response:
    asset = request.app.state.assets.get(name)
    if asset is None or name.endswith(".html"):
        raise HTTPException(404, f"no such file: {name[:80]}")
    return _serve(request, asset)
