"""Every panel endpoint through FastAPI's TestClient: auth where it must be, clear 401/403/404/409/
413/422 bodies, settings persisted and handed to the running appliance, security headers."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from conftest import PANEL_PIN as PIN
from fastapi.testclient import TestClient
from test_web_fakes import FakeController

from appliance.config import load_settings
from appliance.web.app import create_app
from appliance.web.logins import CSRF_COOKIE, CSRF_HEADER, LOGIN_COOKIE
from appliance.web.pin import PinStore


def login(client: TestClient, pin: str = PIN) -> dict[str, str]:
    """Log in; returns the CSRF header to send with state-changing requests."""
    r = client.post("/api/auth/login", json={"pin": pin})
    assert r.status_code == 200, r.text
    return {CSRF_HEADER: client.cookies[CSRF_COOKIE]}


def make_runner(client: TestClient, csrf: dict[str, str], name: str = "Alex") -> int:
    r = client.post("/api/runners", json={"name": name}, headers=csrf)
    assert r.status_code == 201, r.text
    return r.json()["id"]


# Every endpoint that needs a logged-in clinician: (method, path, json body).
PROTECTED = [
    ("GET", "/api/live", None),
    ("POST", "/api/session/start", {"runner_id": 1}),
    ("POST", "/api/session/pause", None),
    ("POST", "/api/session/resume", None),
    ("POST", "/api/session/stop", None),
    ("GET", "/api/runners", None),
    ("POST", "/api/runners", {"name": "X"}),
    ("GET", "/api/runners/1", None),
    ("GET", "/api/runners/forms", None),
    ("PUT", "/api/runners/1", {"name": "Y"}),
    ("POST", "/api/runners/1/archive", {"archived": True}),
    ("GET", "/api/sessions", None),
    ("GET", "/api/sessions/1", None),
    ("GET", "/api/sessions/1/series", None),
    ("GET", "/api/sessions/1/events", None),
    ("PUT", "/api/sessions/1/pain", {"pain_before": 2}),
    ("GET", "/api/sessions/1/export?format=csv", None),
    ("GET", "/api/settings", None),
    ("PUT", "/api/settings", {"changes": {}}),
    ("GET", "/api/setup/snapshot", None),
    ("POST", "/api/setup/test/speaker", None),
    ("GET", "/api/health", None),
    ("POST", "/api/auth/logout", None),
    ("POST", "/api/auth/pin", {"current_pin": PIN, "new_pin": "another-pin-1", "new_pin_repeat": "another-pin-1"}),
]
STATE_CHANGING = [p for p in PROTECTED if p[0] != "GET"]


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
def test_protected_endpoints_answer_401_without_login(client: TestClient, method: str, path: str, body) -> None:
    r = client.request(method, path, json=body)
    assert r.status_code == 401
    assert "login required" in r.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body"), STATE_CHANGING)
def test_state_changing_endpoints_need_the_csrf_token(client: TestClient, method: str, path: str, body) -> None:
    login(client)
    r = client.request(method, path, json=body)
    assert r.status_code == 403
    assert CSRF_HEADER in r.json()["detail"]
    r = client.request(method, path, json=body, headers={CSRF_HEADER: "not-the-token"})
    assert r.status_code == 403


def test_login_sets_httponly_strict_login_cookie_and_readable_csrf_cookie(client: TestClient) -> None:
    status = client.get("/api/auth/status").json()
    assert status == {
        "pin_set": True, "logged_in": False, "public_live_view": False, "min_pin_length": 6, "csrf_token": None,
        "setup_code_where": None,
    }
    r = client.post("/api/auth/login", json={"pin": PIN})
    assert r.status_code == 200
    cookies = r.headers.get_list("set-cookie")
    login_cookie = next(c for c in cookies if c.startswith(LOGIN_COOKIE + "="))
    csrf_cookie = next(c for c in cookies if c.startswith(CSRF_COOKIE + "="))
    assert "HttpOnly" in login_cookie and "SameSite=strict" in login_cookie
    assert "HttpOnly" not in csrf_cookie and "SameSite=strict" in csrf_cookie
    assert r.json()["logged_in"] is True
    assert r.json()["csrf_token"] == client.cookies[CSRF_COOKIE]
    assert client.get("/api/auth/status").json()["logged_in"] is True


def test_wrong_pin_is_401_and_repeated_failures_get_a_growing_delay(client: TestClient) -> None:
    for _ in range(3):
        r = client.post("/api/auth/login", json={"pin": "wrong-pin-0"})
        assert r.status_code == 401
        assert "wrong PIN" in r.json()["detail"]
    # The third failure imposed a delay: even the right PIN is refused until it has passed.
    r = client.post("/api/auth/login", json={"pin": PIN})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert "try again" in r.json()["detail"]


def test_rate_limiter_delay_grows_and_success_clears_it() -> None:
    from appliance.web.logins import LoginRateLimiter

    now = [0.0]
    limiter = LoginRateLimiter(clock=lambda: now[0])
    delays = [limiter.record_failure("10.0.0.9") for _ in range(7)]
    assert delays == [0.0, 0.0, 1.0, 2.0, 4.0, 8.0, 16.0]
    assert limiter.retry_after("10.0.0.9") == pytest.approx(16.0)
    assert limiter.retry_after("10.0.0.8") == 0.0  # per client
    now[0] += 16.5
    assert limiter.retry_after("10.0.0.9") == 0.0
    limiter.record_success("10.0.0.9")
    assert limiter.record_failure("10.0.0.9") == 0.0


def test_logins_expire_when_idle(client: TestClient) -> None:
    from appliance.web.logins import LoginManager

    now = [0.0]
    logins = LoginManager(idle_timeout_s=60, absolute_timeout_s=600, clock=lambda: now[0])
    fresh = logins.create()
    now[0] = 50
    assert logins.get(fresh.token) is fresh
    now[0] = 105  # 55 s after the last use: still alive
    assert logins.get(fresh.token) is fresh
    now[0] = 170
    assert logins.get(fresh.token) is None
    busy = logins.create()
    for t in range(100, 700, 50):
        now[0] = 170 + t
        logins.get(busy.token)
    assert logins.get(busy.token) is None  # absolute limit despite activity


def test_logout_ends_the_login(client: TestClient) -> None:
    csrf = login(client)
    assert client.post("/api/auth/logout", headers=csrf).status_code == 200
    assert client.get("/api/settings").status_code == 401


def change_pin(client: TestClient, csrf: dict[str, str], current: str, new: str, repeat: str | None = None):
    body = {"current_pin": current, "new_pin": new, "new_pin_repeat": new if repeat is None else repeat}
    return client.post("/api/auth/pin", json=body, headers=csrf)


def test_changing_the_pin_logs_out_other_browsers(client: TestClient, fake: FakeController, tmp_path: Path) -> None:
    csrf = login(client)
    with TestClient(client.app, base_url="http://panel.local") as other:
        login(other)
        r = change_pin(client, csrf, PIN, "short")
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "body.new_pin"
        r = change_pin(client, csrf, PIN, "new-pin-123")
        assert r.status_code == 200, r.text
        assert other.get("/api/settings").status_code == 401
        assert client.get("/api/settings").status_code == 200  # this browser got a fresh login
    assert PinStore(tmp_path).verify("new-pin-123")


def test_a_wrong_current_pin_is_403_on_its_field_and_keeps_the_login(client: TestClient, tmp_path: Path) -> None:
    csrf = login(client)
    r = change_pin(client, csrf, "nope-nope", "new-pin-123")
    # Not 401: the page must not take it for "logged out" and bounce through the login page.
    assert r.status_code == 403
    assert r.json()["detail"] == "The current PIN is wrong."
    assert r.json()["errors"] == [{"field": "body.current_pin", "message": "the current PIN is wrong"}]
    assert client.get("/api/settings").status_code == 200
    assert PinStore(tmp_path).verify(PIN)


def test_a_new_pin_typed_differently_twice_is_refused(client: TestClient, tmp_path: Path) -> None:
    csrf = login(client)
    r = change_pin(client, csrf, PIN, "new-pin-123", repeat="new-pin-124")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.new_pin_repeat"
    assert "differ" in r.json()["detail"]
    r = client.post("/api/auth/pin", json={"current_pin": PIN, "new_pin": "new-pin-123"}, headers=csrf)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.new_pin_repeat"
    assert PinStore(tmp_path).verify(PIN)


def test_set_pin_on_the_appliance_logs_every_browser_out(client: TestClient, tmp_path: Path) -> None:
    login(client)
    assert client.get("/api/settings").status_code == 200
    PinStore(tmp_path).set_pin("changed-by-ssh")
    assert client.get("/api/settings").status_code == 401


def test_set_pin_without_a_terminal_says_how_instead_of_a_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    ran = subprocess.run([sys.executable, "-m", "appliance", "set-pin", "--data-dir", str(tmp_path)],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert ran.returncode != 0 and "Traceback" not in ran.stderr
    assert "--stdin" in ran.stderr and not PinStore(tmp_path).path.exists()


def test_first_visit_setup_needs_the_logged_setup_code(fake: FakeController, tmp_path: Path) -> None:
    app = create_app(fake, tmp_path)
    code = app.state.auth.setup_code
    assert code and len(code) == 8
    with TestClient(app) as c:
        assert c.get("/api/auth/status").json()["pin_set"] is False
        r = c.post("/api/auth/login", json={"pin": "anything"})
        assert r.status_code == 409 and "set-pin" in r.json()["detail"]
        r = c.post("/api/auth/setup", json={"setup_code": "00000000" if code != "00000000" else "1", "pin": PIN})
        assert r.status_code == 401 and "setup code" in r.json()["detail"]
        r = c.post("/api/auth/setup", json={"setup_code": code, "pin": "12345"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.pin"
        r = c.post("/api/auth/setup", json={"setup_code": code, "pin": PIN})
        assert r.status_code == 200 and r.json()["logged_in"] is True
        assert c.get("/api/settings").status_code == 200
        r = c.post("/api/auth/setup", json={"setup_code": code, "pin": "other-pin-9"})
        assert r.status_code == 409
    pin_file = PinStore(tmp_path).path
    assert stat.S_IMODE(pin_file.stat().st_mode) == 0o600
    stored = json.loads(pin_file.read_text())
    assert stored["algorithm"] == "scrypt" and PIN not in pin_file.read_text()
    assert PinStore(tmp_path).verify(PIN) and not PinStore(tmp_path).verify(PIN + "x")


def test_security_headers_on_pages_api_and_errors(client: TestClient) -> None:
    for path in ("/live", "/api/auth/status", "/api/settings", "/static/nope.js", "/openapi.json"):
        r = client.get(path)
        assert r.headers["content-security-policy"].startswith("default-src 'self'")
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
    assert client.get("/api/auth/status").headers["cache-control"] == "no-store"


def test_pages_and_assets_are_served_from_memory_and_paths_never_reach_the_disk(client: TestClient) -> None:
    for page in ("/live", "/setup", "/runners", "/settings", "/history", "/health", "/login", "/docs"):
        r = client.get(page)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert r.text.startswith("<!doctype html>") and "{{" not in r.text and '<nav aria-label="Pages">' in r.text
        assert client.get(page, headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/live"
    r = client.get("/static/app.css")
    assert r.status_code == 200 and "text/css" in r.headers["content-type"]
    assert client.get("/static/app.css", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    for probe in ("/static/..%2f..%2fapp.py", "/static/%2e%2e/app.py", "/static/live.html", "/static/../../../etc/passwd"):
        assert client.get(probe).status_code == 404, probe


def test_no_page_or_script_loads_anything_from_another_host(client: TestClient) -> None:
    for name, asset in [*client.app.state.assets.items(), *client.app.state.pages.items()]:
        text = asset.body.decode().replace("http://www.w3.org/2000/svg", "")  # a namespace name, not a fetch
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, name
        assert "<script>" not in text and " style=" not in text, f"{name}: inline script/style breaks the CSP"


def test_openapi_documents_every_api_endpoint_with_models(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    for _, path, _ in PROTECTED:
        template = path.split("?")[0].replace("/1", "/{runner_id}" if "/runners/" in path else "/{session_id}")
        template = template.replace("/test/speaker", "/test/{kind}")
        assert template in paths, template
    for name in ("LiveSnapshot", "SettingsView", "ErrorBody", "Health", "CameraSnapshot", "Runner", "Session"):
        assert name in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_large_bodies_are_refused_with_413(client: TestClient) -> None:
    csrf = login(client)
    big = {"changes": {"audio.voice": "x" * 70_000}}
    r = client.put("/api/settings", json=big, headers=csrf)
    assert r.status_code == 413 and "larger than" in r.json()["detail"]


def test_large_chunked_bodies_are_refused_while_streaming(client: TestClient) -> None:
    csrf = login(client)
    chunks = (b'{"changes": {"audio.voice": "' + b"x" * 30_000, b"x" * 30_000, b"x" * 30_000 + b'"}}')
    r = client.put("/api/settings", content=iter(chunks), headers={**csrf, "Content-Type": "application/json"})
    assert r.status_code == 413 and "larger than" in r.json()["detail"]


def test_malformed_input_is_422_naming_the_field(client: TestClient) -> None:
    csrf = login(client)
    r = client.post("/api/session/start", json={"runner_id": "abc"}, headers=csrf)
    assert r.status_code == 422
    body = r.json()
    assert body["errors"][0]["field"] == "body.runner_id"
    assert body["detail"] == "Not accepted: runner id must be a whole number."
    assert body["errors"][0]["message"] == "must be a whole number"
    r = client.post("/api/runners", json={"name": "   "}, headers=csrf)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.name"
    assert r.json()["detail"] == "Not accepted: name must not be empty."
    r = client.post("/api/runners", content=b"{not json", headers={**csrf, "Content-Type": "application/json"})
    assert r.status_code == 422


# ---- settings -----------------------------------------------------------------------------------


def test_settings_view_has_every_field_with_unit_range_and_help(client: TestClient, fake: FakeController) -> None:
    login(client)
    fields = {f["path"]: f for f in client.get("/api/settings").json()["fields"]}
    expected = set()
    for section, model in fake.settings:
        if hasattr(model, "model_fields"):
            expected |= {f"{section}.{name}" for name in type(model).model_fields}
        else:
            expected.add(section)
    assert expected == set(fields)
    width = fields["camera.width"]
    assert (width["unit"], width["minimum"], width["maximum"], width["kind"]) == ("px", 160, 1920, "integer")
    assert width["description"] == "Capture width" and width["value"] == 640 and width["editable"]
    assert fields["lights.red_pin"]["warning"] is True and "wiring" in fields["lights.red_pin"]["note"]
    assert fields["audio.metronome_sound"]["choices"] == ["click", "woodblock"]
    assert fields["storage.data_dir"]["editable"] is False
    assert fields["panel.port"]["editable"] is False
    # the runtime's rule: camera and pins at the next start, volume and the public view at once
    assert fields["camera.width"]["restart"] and fields["lights.red_pin"]["restart"]
    assert not fields["audio.volume"]["restart"] and not fields["panel.public_live_view"]["restart"]
    assert fields["audio.prompt_texts"]["kind"] == "object" and fields["audio.prompt_texts"]["value"] == {}


def test_object_settings_take_json_objects(client: TestClient, fake: FakeController) -> None:
    csrf = login(client)
    r = client.put("/api/settings", json={"changes": {"audio.prompt_texts": {"quick_feet": "faster"}}}, headers=csrf)
    assert r.status_code == 200, r.text
    assert fake.settings.audio.prompt_texts == {"quick_feet": "faster"}
    r = client.put("/api/settings", json={"changes": {"audio.prompt_texts": "quick"}}, headers=csrf)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "audio.prompt_texts"


def test_settings_change_is_validated_persisted_and_applied(client: TestClient, fake: FakeController) -> None:
    csrf = login(client)
    r = client.put("/api/settings", json={"changes": {"audio.volume": 0.5, "camera.fps": 30}}, headers=csrf)
    assert r.status_code == 200, r.text
    fields = {f["path"]: f for f in r.json()["fields"]}
    assert fields["audio.volume"]["value"] == 0.5
    assert fake.applied[-1][1] == "panel" and fake.applied[-1][0].audio.volume == 0.5
    assert load_settings(fake.config_path).camera.fps == 30
    assert {f["path"]: f for f in client.get("/api/settings").json()["fields"]}["camera.fps"]["value"] == 30


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"camera.width": 5000}, "camera.width", "must be at most 1920"),
        ({"audio.volume": "loud"}, "audio.volume", "must be a number"),
        ({"camera.fps": ""}, "camera.fps", "must be a number"),
        ({"audio.metronome_sound": "bell"}, "audio.metronome_sound", "must be one of 'click' or 'woodblock'"),
        ({"camera.fliparound": 1}, "camera.fliparound", "is not a setting"),
        ({"storage.data_dir": "/etc"}, "storage.data_dir", "cannot be changed from the panel"),
        ({"camera.source": "video:/etc/passwd"}, "camera.source", "names a file"),
        ({"audio.sink": "WAV:/tmp/x.wav"}, "audio.sink", "names a file"),
        ({"panel.port": 22}, "panel.port", "cannot be changed from the panel"),
        ({"audio.voice": ""}, "audio.voice", "espeak-ng voice name"),
        ({"audio.voice": "--help"}, "audio.voice", "espeak-ng voice name"),
        ({"audio.voice": "klingon-xx"}, "audio.voice", "no voice called"),
        ({"audio.prompt_texts": {f"cue{i}": "x" for i in range(1000)}}, "audio.prompt_texts", "is not a spoken cue"),
        ({"audio.prompt_texts": {"quick_feet": "  "}}, "audio.prompt_texts", "must not be empty"),
        ({"audio.prompt_texts": {"quick_feet": "go\nfaster"}}, "audio.prompt_texts", "line breaks"),
        ({"session.runner_id": 999}, "session.runner_id", "no such runner"),
        ({"session.runner_id": 2**64}, "session.runner_id", "no such runner"),
        ({"session.runner_id": "abc"}, "session.runner_id", "must be a whole number"),
        ({"gait.min_cadence_spm": 140, "gait.max_cadence_spm": 130}, "gait.min_cadence_spm", "below the fastest"),
        ({"gait.rearfoot_above_deg": -5, "gait.forefoot_below_deg": 0}, "gait.forefoot_below_deg", "rearfoot"),
        ({"gait.airborne_height_leg_lengths": 0.02}, "gait.airborne_height_leg_lengths", "higher than one on the belt"),
    ],
)
def test_wrong_settings_are_refused_naming_field_and_reason(
    client: TestClient, fake: FakeController, changes: dict, field: str, reason: str
) -> None:
    csrf = login(client)
    r = client.put("/api/settings", json={"changes": changes}, headers=csrf)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert errors[0]["field"] == field and reason in errors[0]["message"], errors
    assert fake.applied == [] and not fake.config_path.exists()
    # In words, without internals: no "body.", no pydantic phrasing, no dotted field names.
    detail = r.json()["detail"]
    assert detail.startswith("Not saved: ") and field not in detail, detail
    for internal in ("Input should", "unable to parse", "String should", "Value error"):
        assert internal not in detail and internal not in errors[0]["message"]


def test_settings_name_a_selected_runner_that_exists(client: TestClient, fake: FakeController) -> None:
    csrf = login(client)
    runner = make_runner(client, csrf)
    r = client.put("/api/settings", json={"changes": {"session.runner_id": runner}}, headers=csrf)
    assert r.status_code == 200, r.text
    client.post(f"/api/runners/{runner}/archive", json={"archived": True}, headers=csrf)
    r = client.put("/api/settings", json={"changes": {"session.runner_id": runner}}, headers=csrf)
    assert r.status_code == 422 and "no such runner" in r.json()["errors"][0]["message"]
    r = client.put("/api/settings", json={"changes": {"session.runner_id": None, "audio.voice": " en "}}, headers=csrf)
    assert r.status_code == 200, r.text
    assert fake.settings.audio.voice == "en"


def test_settings_are_labelled_for_a_clinician_and_everyday_ones_come_first(client: TestClient) -> None:
    login(client)
    fields = client.get("/api/settings").json()["fields"]
    by_path = {f["path"]: f for f in fields}
    assert fields[0]["path"] != "version" and fields[0]["everyday"]
    assert by_path["camera.fps"]["title"] == "Frame rate" and by_path["camera.record_video"]["title"] == "Record video"
    assert not by_path["version"]["everyday"] and not by_path["lights.red_pin"]["everyday"]
    everyday = [f["everyday"] for f in fields]
    assert everyday == sorted(everyday, reverse=True)  # the everyday ones, then the rest
    forms = client.get("/api/runners/forms").json()
    titles = {f["path"]: (f["title"], f["unit"]) for f in forms["targets"]}
    assert titles["cadence.increase_pct"] == ("Cadence increase", "%")
    assert titles["cadence.tolerance_spm"] == ("Tolerance", "steps/min")


# ---- live view and session control -----------------------------------------------------------------


def test_live_snapshot_needs_login_unless_the_public_view_is_on(client: TestClient, fake: FakeController) -> None:
    assert client.get("/api/live").status_code == 401
    assert client.get("/api/live/stream?limit=1").status_code == 401
    fake._settings = fake.settings.model_copy(update={"panel": fake.settings.panel.model_copy(update={"public_live_view": True})})
    r = client.get("/api/live")
    assert r.status_code == 200 and r.json()["phase"] == "idle"
    assert client.get("/api/auth/status").json()["public_live_view"] is True
    # the public view reads only: controls still need a login
    assert client.post("/api/session/stop").status_code == 401


def test_live_stream_sends_server_sent_events(client: TestClient) -> None:
    login(client)
    with client.stream("GET", "/api/live/stream?limit=3") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    events = [block for block in text.split("\n\n") if block.startswith("event: snapshot")]
    assert len(events) == 3
    snapshot = json.loads(events[0].split("data: ", 1)[1])
    assert snapshot["phase"] == "idle" and snapshot["source"] == "fake"
    assert text.startswith("retry: ")


def test_session_start_pause_resume_stop_and_conflicts(client: TestClient, fake: FakeController) -> None:
    csrf = login(client)
    runner = make_runner(client, csrf)
    r = client.post("/api/session/stop", headers=csrf)
    assert r.status_code == 409 and r.json()["detail"] == "no session is running"
    r = client.post("/api/session/start", json={"runner_id": runner}, headers=csrf)
    assert r.status_code == 200, r.text
    session_id = r.json()["session_id"]
    assert r.json()["snapshot"]["session_id"] == session_id
    assert client.get("/api/live").json()["cadence_target_spm"] == 172.0
    assert client.post("/api/session/start", json={"runner_id": runner}, headers=csrf).status_code == 409
    assert client.post("/api/session/pause", headers=csrf).json()["phase"] == "paused"
    assert client.post("/api/session/resume", headers=csrf).json()["phase"] == "feedback"
    assert client.post("/api/session/stop", headers=csrf).json()["phase"] == "idle"
    assert client.get(f"/api/sessions/{session_id}").json()["state"] == "completed"
    r = client.post("/api/session/start", json={"runner_id": 999}, headers=csrf)
    assert r.status_code == 404 and "no runner" in r.json()["detail"]


# ---- runners and history -----------------------------------------------------------------------


def test_runners_create_list_edit_archive(client: TestClient) -> None:
    csrf = login(client)
    a = make_runner(client, csrf, "Alex")
    b = make_runner(client, csrf, "Bea")
    assert [r["name"] for r in client.get("/api/runners").json()] == ["Alex", "Bea"]
    r = client.put(f"/api/runners/{a}", json={"name": "Alex M."}, headers=csrf)
    assert r.status_code == 200 and r.json()["name"] == "Alex M."
    detail = client.get(f"/api/runners/{a}").json()
    assert detail["runner"]["name"] == "Alex M." and detail["sessions"] == []
    assert detail["next_session"] == {"number": 1, "run_minutes": 15.0, "feedback_share": 1.0, "day": 0}
    assert detail["targets"]["cadence"]["increase_pct"] == 7.5 and len(detail["programme"]["sessions"]) == 8
    assert detail["selected"] is False
    assert client.put("/api/settings", json={"changes": {"session.runner_id": a}}, headers=csrf).status_code == 200
    assert client.get(f"/api/runners/{a}").json()["selected"] is True
    r = client.post(f"/api/runners/{b}/archive", json={"archived": True}, headers=csrf)
    assert r.status_code == 200 and r.json()["archived"] is True
    assert [r["name"] for r in client.get("/api/runners").json()] == ["Alex M."]
    assert len(client.get("/api/runners?include_archived=true").json()) == 2
    assert client.get("/api/runners/999").status_code == 404
    assert client.put("/api/runners/999", json={"name": "Z"}, headers=csrf).status_code == 404


@pytest.mark.parametrize(
    ("name", "reason"),
    [("Bea\r\nAdmin", "line breaks"), ("Bea\x00", "control"), ("\u202eaeB", "invisible"), ("  alex  ", "already used"),
     ("Archie", "another runner (archived)")],
)
def test_runner_names_are_trimmed_visible_and_unique(client: TestClient, name: str, reason: str) -> None:
    csrf = login(client)
    make_runner(client, csrf, "Alex")
    archie = make_runner(client, csrf, "archie")
    client.post(f"/api/runners/{archie}/archive", json={"archived": True}, headers=csrf)
    r = client.post("/api/runners", json={"name": name}, headers=csrf)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.name", r.text
    assert reason in r.json()["detail"] and r.json()["detail"].startswith("The name ")


def test_a_runner_keeps_its_own_name_and_names_are_trimmed(client: TestClient) -> None:
    csrf = login(client)
    alex = make_runner(client, csrf, "  Alex  ")
    assert client.get(f"/api/runners/{alex}").json()["runner"]["name"] == "Alex"
    r = client.put(f"/api/runners/{alex}", json={"name": "ALEX"}, headers=csrf)
    assert r.status_code == 200 and r.json()["name"] == "ALEX"


def test_runner_targets_and_programme_are_validated_by_the_coach_models(client: TestClient) -> None:
    csrf = login(client)
    runner = make_runner(client, csrf)
    targets = {"cadence": {"increase_pct": None, "absolute_spm": 176, "tolerance_spm": 2}, "strike": {"aim": "forefoot"}}
    r = client.put(f"/api/runners/{runner}", json={"targets": targets}, headers=csrf)
    assert r.status_code == 200, r.text
    stored = r.json()["targets"]
    assert stored["cadence"]["absolute_spm"] == 176 and stored["strike"] == {"aim": "forefoot", "tolerance_deg": 0.0}
    r = client.put(f"/api/runners/{runner}", json={"targets": {"cadence": {"absolute_spm": 400}}}, headers=csrf)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "targets.cadence.absolute_spm"
    r = client.put(f"/api/runners/{runner}", json={"targets": {"cadence": None}}, headers=csrf)
    assert r.status_code == 422 and "at least one" in r.json()["detail"]
    short = {"name": "short", "sessions": [{"number": 1, "run_minutes": 20, "feedback_share": 0.5}]}
    r = client.put(f"/api/runners/{runner}", json={"programme": short}, headers=csrf)
    assert r.status_code == 200
    detail = client.get(f"/api/runners/{runner}").json()
    assert detail["programme"]["name"] == "short" and detail["next_session"]["feedback_share"] == 0.5
    bad = {"sessions": [{"number": 2, "run_minutes": 20, "feedback_share": 0.5}]}
    r = client.put(f"/api/runners/{runner}", json={"programme": bad}, headers=csrf)
    assert r.status_code == 422 and "numbered" in r.json()["detail"]
    forms = client.get("/api/runners/forms").json()
    fields = {f["path"]: f for f in forms["targets"]}
    assert fields["cadence.tolerance_spm"]["unit"] == "steps/min" and fields["strike.aim"]["choices"] == ["midfoot", "forefoot"]
    assert [f["path"] for f in forms["session"]] == ["number", "run_minutes", "feedback_share", "day"]
    assert len(forms["default_programme"]["sessions"]) == 8


def test_history_series_pain_notes_and_exports(client: TestClient) -> None:
    csrf = login(client)
    runner = make_runner(client, csrf)
    session_id = client.post("/api/session/start", json={"runner_id": runner}, headers=csrf).json()["session_id"]
    client.post("/api/session/stop", headers=csrf)
    sessions = client.get(f"/api/sessions?runner_id={runner}").json()
    assert [s["id"] for s in sessions] == [session_id] and sessions[0]["step_count"] == 40
    series = client.get(f"/api/sessions/{session_id}/series").json()
    assert len(series["t_s"]) == len(series["cadence_spm"]) == 40 and series["t_s"][0] == 0.0
    assert [(b["phase"], b["feedback_on"]) for b in series["blocks"]] == [("warmup", False), ("feedback", True)]
    assert series["blocks"][1]["start_s"] == pytest.approx(20 * 0.35)
    r = client.put(f"/api/sessions/{session_id}/pain", json={"pain_before": 3, "pain_after": 2, "notes": "felt easy"}, headers=csrf)
    assert r.status_code == 200 and (r.json()["pain_before"], r.json()["notes"]) == (3, "felt easy")
    r = client.put(f"/api/sessions/{session_id}/pain", json={"pain_after": 11}, headers=csrf)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.pain_after"
    r = client.get(f"/api/sessions/{session_id}/export?format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f'filename="session-{session_id}.csv"' in r.headers["content-disposition"]
    assert r.text.splitlines()[0].startswith("record,t,t_rel_s") and len(r.text.splitlines()) == 41
    doc = client.get(f"/api/sessions/{session_id}/export?format=json").json()
    assert doc["session"]["pain_after"] == 2 and len(doc["steps"]) == 40
    assert client.get(f"/api/sessions/{session_id}/export?format=xml").status_code == 422
    assert client.get(f"/api/sessions/{session_id}/events").json() == []
    assert client.get("/api/sessions/999/series").status_code == 404
    assert client.get("/api/sessions?runner_id=999").status_code == 404


def test_history_series_carry_the_coachs_median_and_the_sessions_limits(client: TestClient, fake: FakeController) -> None:
    from dataclasses import replace

    from test_web_fakes import fake_step

    csrf = login(client)
    runner = make_runner(client, csrf)
    session = fake.store.create_session(runner, t_start=0.0, source="test")
    angles = [10.0, 2.0, 30.0, 4.0, 6.0, 99.0]  # the sixth step is not valid: it leaves the median alone
    for i, angle in enumerate(angles):
        step = replace(fake_step(i, i * 0.35, 170.0, False), foot_strike_angle_deg=angle, shank_angle_deg=angle, valid=i < 5)
        fake.store.record_step(session.id, step, phase="warmup", feedback_on=False)
    targets = {"overstride": {"target": 4.0, "lo": -90.0, "hi": 4.0}, "strike": {"target": 8.0, "lo": -90.0, "hi": 8.0}}
    fake.store.finish_session(session.id, "completed", {"targets": targets})
    series = client.get(f"/api/sessions/{session.id}/series").json()
    assert series["median_steps"] == fake.settings.coach.strike_median_steps == 5
    assert series["foot_strike_median_deg"] == [10.0, 6.0, 10.0, 7.0, 6.0, None]
    assert series["valid"][-1] is False
    # The limit the coach judged by, the one the live view showed: not a fixed 10 degrees.
    assert (series["overstride_limit_deg"], series["strike_limit_deg"]) == (4.0, 8.0)
    assert (series["rearfoot_above_deg"], series["forefoot_below_deg"]) == (
        fake.settings.gait.rearfoot_above_deg, fake.settings.gait.forefoot_below_deg)


# ---- set-up and health -------------------------------------------------------------------------


def test_setup_snapshot_output_tests_and_health(client: TestClient, fake: FakeController) -> None:
    csrf = login(client)
    snap = client.get("/api/setup/snapshot").json()
    assert snap["advice"] == ["feet cut off"] and snap["jpeg_base64"].startswith("/9j/")
    for kind in ("speaker", "voice", "lights"):
        r = client.post(f"/api/setup/test/{kind}", headers=csrf)
        assert r.status_code == 200 and r.json()["ok"] is True
    assert fake.tests == ["speaker", "voice", "lights"]
    r = client.post("/api/setup/test/siren", headers=csrf)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "path.kind"
    health = client.get("/api/health").json()
    assert health["loop_hz"] == 30.0 and health["version"] == "test"


# ---- appliance set-pin -------------------------------------------------------------------------


def test_set_pin_command_stores_a_scrypt_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import io

    from appliance.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("clinic-pin-7\n"))
    assert main(["set-pin", "--data-dir", str(tmp_path), "--stdin"]) == 0
    assert PinStore(tmp_path).verify("clinic-pin-7")
    assert stat.S_IMODE(PinStore(tmp_path).path.stat().st_mode) == 0o600
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    assert main(["set-pin", "--data-dir", str(tmp_path), "--stdin"]) == 1
    assert "at least 6 characters" in capsys.readouterr().err
    assert PinStore(tmp_path).verify("clinic-pin-7")


def test_the_public_live_view_shows_initials_and_the_clinician_the_name(client: TestClient, fake: FakeController) -> None:
    csrf = login(client)
    runner_id = make_runner(client, csrf, "Ada Lovelace")
    assert client.post("/api/session/start", json={"runner_id": runner_id}, headers=csrf).status_code == 200
    assert client.get("/api/live").json()["runner"]["name"] == "Ada Lovelace"
    fake._settings = fake.settings.model_copy(update={"panel": fake.settings.panel.model_copy(update={"public_live_view": True})})
    client.cookies.clear()  # anyone on the LAN
    assert client.get("/api/live").json()["runner"] == {"id": runner_id, "name": "A. L."}
    with client.stream("GET", "/api/live/stream?limit=1") as r:
        text = "".join(r.iter_text())
    assert "Ada" not in text and '"name":"A. L."' in text


def test_the_restart_mark_of_every_setting_is_the_runtime_s_rule(client: TestClient) -> None:
    """One source of truth: the form's "after a restart" mark is needs_restart, field by field."""
    from appliance.runtime.settings_changes import needs_restart

    login(client)
    fields = client.get("/api/settings").json()["fields"]
    marks = {f["path"]: f["restart"] for f in fields}
    assert marks == {f["path"]: needs_restart(f["path"]) for f in fields}
    assert marks["panel.public_live_view"] is False and marks["storage.retention_months"] is False
    assert marks["panel.port"] is True and marks["gait.heavy_look"] is True and marks["audio.ramp_ms"] is True
    assert marks["audio.volume"] is False and marks["coach.warmup_minutes"] is False


def test_a_controller_not_started_from_a_command_line_shows_the_saved_values_in_force(client: TestClient) -> None:
    login(client)
    view = client.get("/api/settings").json()
    assert all(f["in_force"] == f["value"] and f["overridden_by"] is None for f in view["fields"])


def _programme(days: list[int]) -> dict:
    return {"name": "days", "sessions": [{"number": i + 1, "run_minutes": 20, "feedback_share": 1.0, "day": d}
                                          for i, d in enumerate(days)]}


@pytest.mark.parametrize(
    ("days", "index", "reason"),
    [
        ([0, 2, 1, 4], 2, "must not be before session 2's day (2)"),
        ([0, 3, 3, 7], 2, "must be later than session 2's day (3)"),
        ([5, 0], 1, "must not be before session 1's day (5)"),
    ],
)
def test_a_programme_whose_days_go_backwards_or_repeat_is_refused_in_words(
        client: TestClient, days: list[int], index: int, reason: str) -> None:
    csrf = login(client)
    runner = make_runner(client, csrf)
    before = client.get(f"/api/runners/{runner}").json()["programme"]
    r = client.put(f"/api/runners/{runner}", json={"programme": _programme(days)}, headers=csrf)
    assert r.status_code == 422, r.text
    error = r.json()["errors"][0]
    assert error["field"] == f"programme.sessions.{index}.day" and error["message"].startswith(reason)
    assert r.json()["detail"].startswith(f"The programme was not saved: session {index + 1}: Day {reason}")
    assert "sessions.2" not in r.json()["detail"]  # in words, not the field's path
    assert client.get(f"/api/runners/{runner}").json()["programme"] == before  # nothing saved
    r = client.post("/api/runners", json={"name": "New", "programme": _programme(days)}, headers=csrf)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == f"programme.sessions.{index}.day"


def test_a_programme_with_days_in_order_or_no_days_at_all_is_saved(client: TestClient) -> None:
    csrf = login(client)
    runner = make_runner(client, csrf)
    for days in ([0, 1, 5, 6], [0, 0, 0], [3]):
        r = client.put(f"/api/runners/{runner}", json={"programme": _programme(days)}, headers=csrf)
        assert r.status_code == 200, (days, r.text)
        assert [s["day"] for s in client.get(f"/api/runners/{runner}").json()["programme"]["sessions"]] == days
