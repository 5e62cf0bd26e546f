"""The panel's static files, read once into memory so that no request path reaches the file system.

Requests name an asset; the name is only ever a key into this in-memory table. Each asset carries
its content type and a strong ETag so phones revalidate cheaply instead of downloading again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}


@dataclass(frozen=True)
class Asset:
    name: str
    body: bytes
    content_type: str
    etag: str


def make_asset(name: str, body: bytes, content_type: str) -> Asset:
    """An asset with its strong ETag (a hash of the body)."""
    return Asset(name, body, content_type, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')


def load_assets(directory: Path = STATIC_DIR) -> dict[str, Asset]:
    """Every file directly in ``directory`` with a known type, keyed by file name."""
    assets: dict[str, Asset] = {}
    for path in sorted(directory.iterdir()):
        kind = CONTENT_TYPES.get(path.suffix)
        if not path.is_file() or kind is None:
            continue
        assets[path.name] = make_asset(path.name, path.read_bytes(), kind)
    if "page.html" not in assets or "live.html" not in assets:
        raise RuntimeError(f"panel assets missing in {directory}: the package is incomplete")
    return assets
