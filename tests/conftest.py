"""Shared fixtures: the real clips in ../shared/data and the fetched pose model, skipped when absent;
the panel over the fake controller (``fake``, ``client``: FastAPI's TestClient, PIN set to PANEL_PIN)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SLOWMO_CLIP = SHARED_DATA / "treadmill_side_slowmo.mp4"
SLOWMO_LABELS = SHARED_DATA / "treadmill_side_slowmo.labels.json"


@pytest.fixture(scope="session")
def slowmo_clip() -> Path:
    if not SLOWMO_CLIP.is_file():
        pytest.skip(f"real clip not available: {SLOWMO_CLIP} (../shared/data is absent)")
    return SLOWMO_CLIP


@pytest.fixture(scope="session")
def slowmo_labels() -> dict:
    if not SLOWMO_LABELS.is_file():
        pytest.skip(f"labels not available: {SLOWMO_LABELS} (../shared/data is absent)")
    return json.loads(SLOWMO_LABELS.read_text())


@pytest.fixture(scope="session")
def model_dir() -> Path:
    from appliance.config import default_model_dir
    from appliance.pose.model_files import ModelError, verify_model_dir

    d = default_model_dir()
    try:
        verify_model_dir(d)
    except ModelError as e:
        pytest.skip(f"pose model not available: {e}")
    return d


@pytest.fixture
def notify_socket(tmp_path: Path):
    """A datagram socket standing in for systemd's NOTIFY_SOCKET: (its path, the socket, 2 s timeout)."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    yield path, sock
    sock.close()


PANEL_PIN = "correct-horse-42"


@pytest.fixture
def fake(tmp_path: Path):
    """A fake controller over a real Store in ``tmp_path`` (tests/test_web_fakes.py)."""
    from test_web_fakes import FakeController

    controller = FakeController(tmp_path)
    yield controller
    controller.close()


@pytest.fixture
def client(fake, tmp_path: Path):
    """The panel app on ``fake`` through FastAPI's TestClient, its PIN set to PANEL_PIN (not logged in)."""
    from fastapi.testclient import TestClient

    from appliance.web.app import create_app
    from appliance.web.pin import PinStore

    PinStore(tmp_path).set_pin(PANEL_PIN)
    with TestClient(create_app(fake, tmp_path), base_url="http://panel.local") as c:
        yield c
