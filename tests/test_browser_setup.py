"""In a real browser (Debian's Chromium, Playwright, phone viewport) against the real appliance on
the simulated runner (`--source sim`) with the simulated rear camera (`rear_camera.source = sim`),
its panel on a real HTTP server: the Set-up page shows
both cameras, the rear one with its pose drawn and its framing advice, or without a rear camera how
to add one; a session's printed report holds the rear camera's figures per side. Screenshots go to
artifacts/browser/."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from test_browser_panel import (
    CHROMIUM,
    PIN,
    browser,  # noqa: F401 (fixture)
    log_in,
    phone,  # noqa: F401 (fixture)
    post_from_page,
    shot,
)

from appliance.config import Settings

SIM_SPEED = 2  # the simulated rear camera keeps every frame on a loaded 2-core machine

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def rear_appliance_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real appliance on the simulated runner with the simulated rear camera, its panel served
    on a free localhost port once the cameras run.

    In-process, and the panel started after the runtime: `appliance run` starts the simulated rear
    camera's clock before the side camera's and serves the panel in between, and at a high --speed
    that lead alone puts the rear frames past the stances the side camera hands it (no frontal
    stances are recorded); see the report of tests/test_browser_setup.py's author."""
    from appliance.runtime.app import RunOptions, Runtime
    from appliance.runtime.panel_server import PanelServer
    from appliance.web.pin import PinStore

    data_dir = tmp_path_factory.mktemp("appliance-rear")
    settings = Settings.model_validate({"coach": {"warmup_minutes": 0.5}, "rear_camera": {"source": "sim"}})
    rt = Runtime(settings, RunOptions(source="sim", data_dir=data_dir, panel=False, speed=SIM_SPEED, demo=False))
    rt.start()
    panel = PanelServer(rt.controller, data_dir, "127.0.0.1", 0)
    try:
        PinStore(data_dir).set_pin(PIN)
        panel.start()
        yield panel.url
    finally:
        panel.stop_accepting()
        rt.shutdown()


def test_setup_shows_the_rear_camera_with_its_pose_and_framing_advice(rear_appliance_url: str, phone) -> None:  # noqa: F811
    page = phone
    log_in(page, rear_appliance_url)
    page.goto(rear_appliance_url + "/setup")
    page.wait_for_function("() => document.getElementById('snapshot').naturalWidth > 0")
    page.wait_for_function("() => document.getElementById('rear-snapshot').naturalWidth > 0")
    # Until the simulated runner steps on, the advice says nobody is seen; then the framing is good.
    deadline = time.monotonic() + 20
    while "Seen from behind" not in page.inner_text("#rear-notes") and time.monotonic() < deadline:
        page.click("#refresh")
        page.wait_for_timeout(500)
    assert page.locator("#rear-snapshot").is_visible()
    assert page.evaluate("document.getElementById('rear-snapshot').naturalWidth") == 640
    assert page.inner_text("#rear-advice") == "Framing looks good."
    notes = page.inner_text("#rear-notes")
    assert "Seen from behind, as set." in notes and "px apart" in notes and "Simulated runner" in notes
    page.locator("#rear-card").scroll_into_view_if_needed()
    shot(page, "20-setup-rear-camera")


def test_setup_advice_from_the_rear_camera_is_listed_in_words(rear_appliance_url: str, phone) -> None:  # noqa: F811
    """The page shows what the panel says: an off-centre camera's advice (the panel's answer for
    one, from tests/test_frontal_setup.py's case) in the rear camera's list."""
    page = phone
    log_in(page, rear_appliance_url)
    page.goto(rear_appliance_url + "/setup")
    page.wait_for_function("() => document.getElementById('rear-snapshot').naturalWidth > 0")
    snap = page.evaluate("fetch('/api/setup/rear-snapshot').then(r => r.json())")
    said = ("The camera is off the belt's centre line: the runner's pelvis is left of the image's centre. With the runner "
            "in the middle of the belt, slide the camera about 40 cm to the left (your left, standing behind the camera), "
            "keeping it pointed straight along the belt.")
    answer = json.dumps({**snap, "advice": [said]})
    page.route("**/api/setup/rear-snapshot", lambda route: route.fulfill(status=200, content_type="application/json", body=answer))
    page.click("#refresh")
    page.wait_for_selector("#rear-advice li.warn")
    assert page.inner_text("#rear-advice") == said


def test_setup_without_a_rear_camera_says_how_to_add_one(rear_appliance_url: str, phone) -> None:  # noqa: F811
    """The panel's own answer without a rear camera (render_rear_snapshot(None)), as served."""
    from appliance.runtime.camera_view import render_rear_snapshot

    page = phone
    log_in(page, rear_appliance_url)
    none = render_rear_snapshot(None).model_dump_json()
    page.route("**/api/setup/rear-snapshot", lambda route: route.fulfill(status=200, content_type="application/json", body=none))
    page.goto(rear_appliance_url + "/setup")
    page.wait_for_selector("#rear-missing")
    text = page.inner_text("#rear-missing")
    assert text.startswith("No rear camera.") and "rear_camera.source" in text and "Open Settings" in text
    assert not page.locator("#rear-snapshot").is_visible()
    assert page.locator("#rear-missing a").get_attribute("href") == "/settings"
    page.wait_for_function("() => document.getElementById('snapshot').naturalWidth > 0")  # the side camera still shows


def test_the_printed_report_holds_the_rear_camera_s_figures_per_side(rear_appliance_url: str, phone) -> None:  # noqa: F811
    page = phone
    log_in(page, rear_appliance_url)
    runner = post_from_page(page, "/api/runners", {"name": "Rear Report", "targets": {"frontal": {"measure": "hip_adduction"}}})[1]
    session = post_from_page(page, "/api/session/start", {"runner_id": runner["id"]})[1]["session_id"]
    # Past the warm-up (30 simulated seconds) into the feedback block, then a few seconds more.
    deadline = time.monotonic() + 90
    while page.evaluate("fetch('/api/live').then(r => r.json()).then(s => s.phase)") != "feedback":
        assert time.monotonic() < deadline, "no feedback block within 90 s"
        page.wait_for_timeout(500)
    page.wait_for_timeout(6000)
    post_from_page(page, "/api/session/stop", {})
    state = f"fetch('/api/sessions/{session}').then(r => r.json()).then(s => s.state)"
    while page.evaluate(state) == "running":  # the summary is stored as the session ends
        assert time.monotonic() < deadline + 30, "the session did not end"
        page.wait_for_timeout(200)
    page.goto(rear_appliance_url + f"/history?runner={runner['id']}&session={session}")
    page.wait_for_selector("#frontal-table")
    page.emulate_media(media="print")
    try:
        table = page.locator("#frontal-table")
        assert table.is_visible()
        rows = {row.locator("th").inner_text(): row.locator("td").all_inner_texts() for row in table.locator("tr").all()[1:]}
        for label in ("Pelvic drop (°)", "Hip adduction (°)", "Knee angle, valgus + (°)", "Stances"):
            left, right = rows[label]
            assert left != "–" and right != "–", (label, rows)
        assert int(rows["Stances"][0]) > 10 and int(rows["Stances"][1]) > 10
        retraining = [k for k in rows if k.startswith("Hip adduction while retraining (limit")]
        assert retraining, rows
        assert page.locator("svg[data-metric='frontal-left']").is_visible()
        assert page.locator("svg[data-metric='frontal-right']").is_visible()
        assert "Hip adduction, left" in page.inner_text("#summary-sentences")
        assert not page.locator("nav").is_visible()
        shot(page, "21-session-print-frontal")
    finally:
        page.emulate_media(media="screen")
