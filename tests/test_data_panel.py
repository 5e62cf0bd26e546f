"""The panel's data routes through FastAPI's TestClient over a real Store: the backup and bundle
downloads need a login; erasing a runner needs the login, the CSRF header and their name typed
again, is refused while their session runs, and leaves no byte of the name in the database."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_web_api import PIN, login, make_runner
from test_web_fakes import FakeController

from appliance.store.backup import restore_backup
from appliance.web.logins import CSRF_HEADER
from appliance.web.pin import PinStore

UNIQUE = "Quokka-Zanzibar-5521"


def run_a_session(client: TestClient, csrf: dict[str, str], runner_id: int) -> None:
    """A session of 40 steps (the fake controller records them at stop)."""
    r = client.post("/api/session/start", json={"runner_id": runner_id}, headers=csrf)
    assert r.status_code == 200, r.text
    assert client.post("/api/session/stop", headers=csrf).status_code == 200


@pytest.mark.parametrize("path", ["/api/data/backup", "/api/runners/1/bundle"])
def test_downloads_need_a_login(client: TestClient, path: str):
    r = client.get(path)
    assert r.status_code == 401 and "login required" in r.json()["detail"]


def test_the_backup_download_is_a_whole_backup_that_restores(client: TestClient, tmp_path: Path):
    csrf = login(client)
    rid = make_runner(client, csrf, "Ann")
    run_a_session(client, csrf, rid)
    r = client.get("/api/data/backup")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/gzip"
    assert 'attachment; filename="appliance-backup-' in r.headers["content-disposition"]
    with tarfile.open(fileobj=io.BytesIO(r.content)) as tar:
        assert tar.getnames()[0] == "manifest.json" and "panel-pin.json" in tar.getnames()
    (tmp_path / "download.tar.gz").write_bytes(r.content)
    restored = restore_backup(tmp_path / "download.tar.gz", tmp_path / "new-card")
    assert restored.counts["runners"] == 1 and restored.counts["sessions"] == 1 and restored.counts["steps"] == 40
    assert PinStore(tmp_path / "new-card").verify(PIN)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".download-")]  # the temporary copy is gone


def test_the_bundle_download_holds_the_runner(client: TestClient):
    csrf = login(client)
    rid = make_runner(client, csrf, "Ann")
    run_a_session(client, csrf, rid)
    r = client.get(f"/api/runners/{rid}/bundle")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert "bundle.json" in z.namelist() and "sessions.csv" in z.namelist()
    assert client.get("/api/runners/999/bundle").status_code == 404


def test_erasing_a_runner_needs_the_csrf_header_and_the_name_typed_again(client: TestClient, fake: FakeController,
                                                                         tmp_path: Path):
    csrf = login(client)
    rid = make_runner(client, csrf, UNIQUE)
    other = make_runner(client, csrf, "Bea")
    run_a_session(client, csrf, rid)
    run_a_session(client, csrf, other)
    assert client.put("/api/settings", json={"changes": {"session.runner_id": rid}}, headers=csrf).status_code == 200
    body = {"confirm_name": UNIQUE}

    r = client.post(f"/api/runners/{rid}/erase", json=body)
    assert r.status_code == 403 and CSRF_HEADER in r.json()["detail"]
    r = client.post(f"/api/runners/{rid}/erase", json={"confirm_name": UNIQUE.lower()}, headers=csrf)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.confirm_name"
    assert UNIQUE in r.json()["detail"]
    assert client.get(f"/api/runners/{rid}").status_code == 200  # nothing erased

    assert client.post("/api/session/start", json={"runner_id": rid}, headers=csrf).status_code == 200
    r = client.post(f"/api/runners/{rid}/erase", json=body, headers=csrf)
    assert r.status_code == 409 and "stop it first" in r.json()["detail"]
    assert client.post("/api/session/stop", headers=csrf).status_code == 200

    r = client.post(f"/api/runners/{rid}/erase", json=body, headers=csrf)
    assert r.status_code == 200, r.text
    assert r.json()["sessions"] == 2 and r.json()["steps"] == 80
    assert client.get(f"/api/runners/{rid}").status_code == 404
    assert [x["name"] for x in client.get("/api/runners?include_archived=true").json()] == ["Bea"]
    assert fake.settings.session.runner_id is None  # no longer selected for the button
    for f in tmp_path.iterdir():
        if f.name.startswith("appliance.db"):
            assert UNIQUE.encode() not in f.read_bytes(), f.name
    backup = client.get("/api/data/backup")
    assert UNIQUE.encode() not in gzip.decompress(backup.content) and b"Bea" in gzip.decompress(backup.content)
