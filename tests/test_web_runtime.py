"""The panel on the real runtime (simulated runner), through FastAPI's TestClient: a settings change
is validated, saved to the config file, recorded in the store, and applied by the running loop at
a tick boundary; session control reaches the loop and the live snapshot shows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from waiting import wait_for

from appliance.config import Settings
from appliance.web.app import create_app
from appliance.web.logins import CSRF_COOKIE, CSRF_HEADER
from appliance.web.pin import PinStore

PIN = "runtime-test-pin"


@pytest.fixture
def runtime(tmp_path: Path):
    from appliance.runtime.app import RunOptions, Runtime

    rt = Runtime(Settings(), RunOptions(source="sim", data_dir=tmp_path, panel=False, speed=4.0, demo=False))
    rt.start()
    try:
        yield rt
    finally:
        rt.shutdown()


@pytest.fixture
def client(runtime, tmp_path: Path):
    PinStore(tmp_path).set_pin(PIN)
    with TestClient(create_app(runtime, tmp_path)) as c:
        assert c.post("/api/auth/login", json={"pin": PIN}).status_code == 200
        c.headers[CSRF_HEADER] = c.cookies[CSRF_COOKIE]
        yield c


def test_settings_change_is_saved_recorded_and_applied_by_the_loop(client: TestClient, runtime, tmp_path: Path) -> None:
    wait_for(lambda: client.get("/api/live").json()["loop"]["frames"] > 0, what="the loop to tick")
    r = client.put("/api/settings", json={"changes": {"session.summary_seconds": 25, "audio.volume": 0.4}})
    assert r.status_code == 200, r.text
    wait_for(lambda: runtime.loop.session.settings.summary_seconds == 25, what="the loop to apply the change")
    saved = json.loads(Path(runtime.config_path).read_text())
    assert saved["session"]["summary_seconds"] == 25 and saved["audio"]["volume"] == 0.4
    change = runtime.store.settings_changes()[0]
    assert change.who == "panel" and set(change.diff) == {"session.summary_seconds", "audio.volume"}
    r = client.put("/api/settings", json={"changes": {"session.summary_seconds": 500}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "session.summary_seconds"
    assert runtime.settings.session.summary_seconds == 25


def test_a_session_started_from_the_panel_runs_in_the_loop(client: TestClient, runtime) -> None:
    runner = client.post("/api/runners", json={"name": "Loop Runner"}).json()
    r = client.post("/api/session/start", json={"runner_id": runner["id"]})
    assert r.status_code == 200, r.text
    session_id = r.json()["session_id"]
    wait_for(lambda: client.get("/api/live").json()["session_id"] == session_id, what="the session in the snapshot")
    live = client.get("/api/live").json()
    assert live["runner"] == {"id": runner["id"], "name": "Loop Runner"} and live["phase"] != "idle"
    r = client.post("/api/session/start", json={"runner_id": runner["id"]})
    assert r.status_code == 409
    assert client.post("/api/session/stop").status_code == 200
    wait_for(lambda: client.get(f"/api/sessions/{session_id}").json()["state"] != "running", what="the session to end")
    assert client.get(f"/api/sessions/{session_id}/series").status_code == 200
    health = client.get("/api/health").json()
    assert health["loop_hz"] > 0 and health["disk_free_bytes"] > 0
    snap = client.get("/api/setup/snapshot").json()
    assert snap["width"] > 0 and snap["jpeg_base64"]


def test_a_strike_class_limit_changed_in_the_panel_moves_classification_and_the_coach_band(
        client: TestClient, runtime) -> None:
    """One rule: the rearfoot limit a clinician sets classifies the steps and bounds the next
    session's strike band (it used to bound the classes only; the coach kept 8 deg)."""
    from appliance.coach.targets import Baseline, resolve
    from appliance.feet.contact_look import classify_strike

    wait_for(lambda: client.get("/api/live").json()["loop"]["frames"] > 0, what="the loop to tick")
    r = client.put("/api/settings", json={"changes": {"gait.rearfoot_above_deg": 12.0}})
    assert r.status_code == 200, r.text
    wait_for(lambda: runtime.loop.tracker.settings.rearfoot_above_deg == 12.0, what="the tracker to take the limit")
    assert classify_strike(10.0, runtime.loop.tracker.settings) == "midfoot"  # rearfoot under the old 8 deg
    runner = client.post("/api/runners", json={"name": "Strike Runner",
                                               "targets": {"cadence": None, "strike": {"aim": "midfoot"}}}).json()
    assert client.post("/api/session/start", json={"runner_id": runner["id"]}).status_code == 200
    wait_for(lambda: runtime.loop.session.active is not None and runtime.loop.session.active.coach is not None,
             timeout=60, what="the session's coach")
    coach = runtime.loop.session.active.coach
    bands, _ = resolve(coach.targets, Baseline(30, 170.0, 5.0, 10.0), coach.gait)
    assert bands["strike"].hi == 12.0 and bands["strike"].judge(10.0) == "in"


@pytest.fixture
def started_with_options(tmp_path: Path):
    """The real runtime started as `appliance run --source sim --data-dir D --host 127.0.0.2 --port 8123`
    over a saved settings file that names none of them; its panel through TestClient, logged in."""
    from appliance.config import load_settings
    from appliance.runtime.app import RunOptions, Runtime

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "settings.json").write_text('{"panel": {"port": 8080}, "audio": {"volume": 0.8}}')
    rt = Runtime(load_settings(data_dir / "settings.json"),
                 RunOptions(source="sim", data_dir=data_dir, host="127.0.0.2", port=8123, panel=False, speed=4.0,
                            demo=False))
    rt.start()
    PinStore(data_dir).set_pin(PIN)
    try:
        with TestClient(create_app(rt, data_dir)) as c:
            assert c.post("/api/auth/login", json={"pin": PIN}).status_code == 200
            c.headers[CSRF_HEADER] = c.cookies[CSRF_COOKIE]
            yield rt, c, data_dir
    finally:
        rt.shutdown()


def test_settings_show_the_values_in_force_and_save_no_command_line_value(started_with_options) -> None:
    runtime, client, data_dir = started_with_options
    view = client.get("/api/settings").json()
    fields = {f["path"]: f for f in view["fields"]}
    port = fields["panel.port"]
    assert (port["value"], port["in_force"], port["overridden_by"]) == (8080, 8123, "--port 8123")
    host = fields["panel.host"]
    assert (host["value"], host["in_force"], host["overridden_by"]) == ("127.0.0.1", "127.0.0.2", "--host 127.0.0.2")
    data = fields["storage.data_dir"]
    assert data["in_force"] == str(data_dir) and data["overridden_by"] == f"--data-dir {data_dir}"
    assert data["value"] != str(data_dir)  # the saved (default) one, in force when started without --data-dir
    source = fields["camera.source"]
    assert (source["value"], source["in_force"], source["overridden_by"]) == ("auto", "sim", "--source sim")
    volume = fields["audio.volume"]
    assert (volume["value"], volume["in_force"], volume["overridden_by"]) == (0.8, 0.8, None)
    assert view["settings_file"] == str(data_dir / "settings.json") and view["settings_file_option"] is None

    r = client.put("/api/settings", json={"changes": {"audio.volume": 0.3, "camera.fps": 30}})
    assert r.status_code == 200, r.text
    assert {f["path"]: f for f in r.json()["fields"]}["panel.port"]["overridden_by"] == "--port 8123"
    saved = json.loads((data_dir / "settings.json").read_text())
    assert saved["audio"]["volume"] == 0.3 and saved["camera"]["fps"] == 30
    assert saved["panel"]["port"] == 8080 and saved["panel"]["host"] == "127.0.0.1"
    assert saved["camera"]["source"] == "auto"
    assert "data_dir" not in saved["storage"]  # neither --data-dir nor a default worked out at this start


def test_the_settings_file_keeps_the_data_directory_it_named(tmp_path: Path) -> None:
    from appliance.config import load_settings
    from appliance.runtime.settings_changes import save_settings_file

    path = tmp_path / "settings.json"
    path.write_text('{"storage": {"data_dir": "/srv/appliance"}}')
    settings = load_settings(path).model_copy(deep=True)
    settings.audio.volume = 0.2
    settings.storage.data_dir = tmp_path / "elsewhere"  # e.g. what --data-dir said: never written
    save_settings_file(settings, path)
    saved = load_settings(path)
    assert str(saved.storage.data_dir) == "/srv/appliance" and saved.audio.volume == 0.2


def test_settings_named_by_config_at_start_are_said_on_the_page(tmp_path: Path) -> None:
    from appliance.runtime.app import RunOptions
    from appliance.runtime.settings_changes import started_with

    options = RunOptions(source="auto", config_path=tmp_path / "my.json")
    said = started_with(Settings(), options, tmp_path / "my.json", bound_port=None)
    assert said.settings_file_option == f"--config {tmp_path / 'my.json'}" and said.values == []
    zero = started_with(Settings(), RunOptions(port=0), tmp_path / "s.json", bound_port=40123).values
    assert [(v.path, v.in_force, v.option) for v in zero] == [("panel.port", 40123, "--port 0")]
    same = started_with(Settings(), RunOptions(source="auto", host="127.0.0.1", port=8080), tmp_path / "s.json")
    assert same.values == []  # an option that says what the file says overrides nothing


def test_a_live_setting_applies_at_once_and_the_log_names_only_those_that_wait(
        client: TestClient, runtime, caplog: pytest.LogCaptureFixture) -> None:
    """panel.public_live_view applies at the next request, without a restart, and the log line on
    the save does not claim otherwise (it used to); camera.fps does wait for a restart."""
    import logging

    wait_for(lambda: client.get("/api/live").json()["loop"]["frames"] > 0, what="the loop to tick")
    with TestClient(client.app) as stranger:  # no login
        assert stranger.get("/api/live").status_code == 401
        with caplog.at_level(logging.WARNING, logger="appliance.runtime.app"):
            r = client.put("/api/settings", json={"changes": {"panel.public_live_view": True, "camera.fps": 30}})
            assert r.status_code == 200, r.text
            assert stranger.get("/api/live").status_code == 200
            wait_for(lambda: any("after a restart" in m for m in caplog.messages), what="the log line on the save")
    said = next(m for m in caplog.messages if "after a restart" in m)
    assert "camera.fps" in said and "public_live_view" not in said
