"""End to end in a real browser: Debian's Chromium driven by Playwright at a phone viewport, against
the real `appliance run --source sim` in a subprocess (its own data dir, a PIN set with
`appliance set-pin`). Screenshots go to artifacts/browser/.

Flow: log in, pick a runner, change the target cadence, start a simulated session, see the live
cadence update, stop, open the history and see the chart. Also: the live page's weight and first
render on a phone viewport.
"""

from __future__ import annotations

import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
PIN = "browser-test-pin"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "browser"
LIVE_PAGE_BUDGET_BYTES = 150 * 1024
SIM_SPEED = 6

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def appliance_command() -> list[str]:
    exe = Path(sys.executable).with_name("appliance")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "appliance"]


def wait_until_serving(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"appliance run exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/api/auth/status", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"appliance run did not serve {url} within {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def appliance_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real appliance on the simulated runner, on a free localhost port."""
    data_dir = tmp_path_factory.mktemp("appliance-data")
    # A short warm-up, and the simulated runner at 6x, so that the feedback phase comes within seconds.
    (data_dir / "settings.json").write_text('{"coach": {"warmup_minutes": 0.5}}')
    subprocess.run(
        [*appliance_command(), "set-pin", "--data-dir", str(data_dir), "--stdin"],
        input=PIN + "\n", text=True, check=True, timeout=60,
    )
    port = free_port()
    log = data_dir / "appliance-run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*appliance_command(), "run", "--data-dir", str(data_dir), "--source", "sim", "--speed", str(SIM_SPEED),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, ARTIFACTS / "appliance-run.log")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_default_timeout(15_000)
    yield page
    context.close()
    # Refused requests (401 before login, 422 for a wrong setting) are logged by the browser as
    # "Failed to load resource"; anything else (a script error) fails the test.
    assert not [e for e in errors if not e.startswith("Failed to load resource")], f"browser errors: {errors}"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def open_and_expect_login(page, url: str) -> None:
    """Open the live page logged out and wait for its script to send us to the login page.

    The goto returns when the page commits: that script's redirect may come before the page's
    load event, and would otherwise interrupt the goto."""
    page.goto(url + "/live", wait_until="commit")
    page.wait_for_url("**/login?next=*")


def log_in(page, url: str) -> None:
    open_and_expect_login(page, url)
    page.fill("#pin", PIN)
    page.click("#login-button")
    page.wait_for_url("**/live")


POST_FROM_PAGE = """([path, body]) => fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json',
    'X-CSRF-Token': document.cookie.match(/appliance_csrf=([^;]+)/)[1]}, body: JSON.stringify(body)})
    .then(async (r) => [r.status, await r.json().catch(() => null)])"""


def post_from_page(page, path: str, body: dict) -> tuple[int, object]:
    """POST JSON from the logged-in page (its session cookie and CSRF token): (status, JSON answer)."""
    status, answer = page.evaluate(POST_FROM_PAGE, [path, body])
    return status, answer


def read_cadences(page, seconds: float) -> list[str]:
    values = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        values.append(page.inner_text("#cadence"))
        page.wait_for_timeout(250)
    return values


def test_clinician_flow_on_a_phone(appliance_url: str, phone) -> None:
    page = phone
    open_and_expect_login(page, appliance_url)
    assert page.is_hidden("#logout")  # nobody is logged in to log out
    page.fill("#pin", "wrong-pin-1")
    page.click("#login-button")
    page.wait_for_selector("#login-error:has-text('wrong PIN')")
    shot(page, "01-login-refused")
    page.fill("#pin", PIN)
    page.click("#login-button")
    page.wait_for_url("**/live")

    # Pick a runner (created here) and change the target cadence.
    page.goto(appliance_url + "/runners")
    page.fill("#new-name", "Sam Runner")
    page.click("#new-runner button[type=submit]")
    page.wait_for_selector("#runner-detail h2:has-text('Sam Runner')")
    page.goto(appliance_url + "/runners")
    page.click(".list-item:has-text('Sam Runner') .open-runner")
    page.wait_for_selector("#runner-detail h2:has-text('Sam Runner')")
    page.fill("input[name='cadence.absolute_spm']", "178")
    page.click("#save-runner")
    page.wait_for_selector("#toast:has-text('Runner saved')")
    shot(page, "02-runner-targets")
    runner = page.evaluate("fetch('/api/runners').then(r => r.json())")[0]
    assert runner["name"] == "Sam Runner" and runner["targets"]["cadence"]["absolute_spm"] == 178

    # Start a simulated session and watch the live cadence change.
    page.click("#runner-detail #start-session")
    page.wait_for_url("**/live")
    page.wait_for_selector("#conn.live")
    page.wait_for_function("() => /^\\d+$/.test(document.getElementById('cadence').textContent)", timeout=60_000)
    steps_before = int(page.inner_text("#steps") or 0)
    values = read_cadences(page, 4.0)
    numeric = [v for v in values if v.isdigit()]
    assert numeric and all(140 <= int(v) <= 210 for v in numeric), values
    # The view is live: the step count moves while the runner runs (a steady runner's rounded
    # cadence may well stay the same for seconds).
    assert int(page.inner_text("#steps") or 0) > steps_before
    assert page.inner_text("#runner-name") == "Sam Runner"
    assert page.inner_text("#phase") not in ("Idle", "–")
    shot(page, "03-live-warmup")
    # After the warm-up the loop coaches toward the target set above.
    page.wait_for_function("() => document.getElementById('phase').textContent === 'Feedback'", timeout=60_000)
    page.wait_for_function("() => document.getElementById('cadence-target').textContent === '178'")
    assert page.inner_text("#cadence-band") == "175–181"
    assert page.inner_text("#feedback") == "on"
    # The simulated runner follows the metronome: the live cadence climbs from the baseline into the band.
    assert statistics.median(int(v) for v in numeric) <= 171, values
    page.wait_for_function("() => Number(document.getElementById('cadence').textContent) >= 175", timeout=60_000)
    page.wait_for_function("() => /^\\d+$/.test(document.getElementById('on-target').textContent)")  # the coach's share
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "03-live-feedback")

    page.click("#stop")
    page.wait_for_function("() => ['Idle', 'Summary'].includes(document.getElementById('phase').textContent)")
    page.select_option("#pain-after", "2")
    page.fill("#pain-note", "calf a bit tight")
    page.click("#pain-save")
    page.wait_for_selector("#toast:has-text('Saved')")

    # History: the session with its per-step charts.
    page.goto(appliance_url + f"/history?runner={runner['id']}")
    page.click(".open-session >> nth=0")
    page.wait_for_selector("svg.chart[data-metric='cadence'] path.series")
    points = int(page.get_attribute("svg.chart[data-metric='cadence'] path.series", "data-points"))
    assert points >= 3, "the cadence chart has no steps"
    assert page.locator("#session-card svg.chart").count() == 3
    # Strike and shank: each step a dot, the coach's rolling median the line.
    assert int(page.get_attribute("svg.chart[data-metric='strike'] path.median", "data-points")) >= 3
    assert "median of the last" in page.inner_text("#overstride-note")
    page.locator("svg.chart[data-metric='strike']").scroll_into_view_if_needed()
    shot(page, "04b-history-strike-and-shank")
    assert page.locator("#strike-unsteady").count() == 0  # the simulated runner's feet are seen steadily
    assert page.locator("#session-list svg.chart[data-metric='progress']").count() == 2
    assert page.input_value("#notes") == "calf a bit tight" and page.input_value("#pain-after") == "2"
    page.locator("#session-card").scroll_into_view_if_needed()
    shot(page, "04-history-chart")


def test_a_pin_submitted_before_the_login_page_has_loaded_still_logs_in(appliance_url: str, phone) -> None:
    # A quick clinician (or a slow appliance) submits before the page's status request returns.
    page = phone
    held = []
    page.route("**/api/auth/status", lambda route: held.append(route))
    page.goto(appliance_url + "/login?next=/live")
    while not held:
        page.wait_for_timeout(20)
    page.fill("#pin", PIN)
    page.click("#login-button")
    held[0].continue_()
    page.unroute("**/api/auth/status")
    page.wait_for_url("**/live")


def test_settings_refuse_a_wrong_value_beside_the_field(appliance_url: str, phone) -> None:
    page = phone
    log_in(page, appliance_url)
    page.goto(appliance_url + "/settings")
    page.wait_for_selector("input[name='audio.volume']")
    # Hardware settings are folded away: a clinician opens the fold to reach the camera.
    assert not page.is_visible("input[name='camera.width']")
    page.click("#expert-settings > summary")
    page.fill("input[name='camera.width']", "99999")
    page.click("#save")
    page.wait_for_selector("#field-camera\\.width.invalid")
    assert page.inner_text("#error-camera\\.width") == "Must be at most 1920."
    page.locator("#field-camera\\.width").scroll_into_view_if_needed()
    shot(page, "05-settings-refused")
    page.fill("input[name='camera.width']", "640")
    page.fill("input[name='audio.volume']", "0.55")
    page.click("#save")
    page.wait_for_selector("#toast:has-text('Saved and applied')")  # volume: applied at the next tick
    view = page.evaluate("fetch('/api/settings').then(r => r.json())")
    assert {f["path"]: f["value"] for f in view["fields"]}["audio.volume"] == 0.55


def test_live_page_weight_and_first_render_on_a_phone(appliance_url: str, phone) -> None:
    page = phone
    log_in(page, appliance_url)
    page.goto("about:blank")  # a live page polling without its cookie would redirect mid-login
    page.context.clear_cookies()
    log_in(page, appliance_url)  # now the pages are cached: measure a cold load in a fresh context below
    context = page.context.browser.new_context(viewport=PHONE, is_mobile=True, storage_state=page.context.storage_state())
    cold = context.new_page()
    cold.goto(appliance_url + "/live")
    cold.wait_for_selector("#conn.live")
    weight = cold.evaluate(
        """() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const res = performance.getEntriesByType('resource').filter(r => !r.name.includes('/api/'));
          const fcp = performance.getEntriesByName('first-contentful-paint')[0];
          return {bytes: nav.encodedBodySize + res.reduce((s, r) => s + r.encodedBodySize, 0),
                  files: res.map(r => r.name), fcp_ms: fcp ? fcp.startTime : null};
        }"""
    )
    context.close()
    print(f"live page: {weight['bytes']} bytes in {1 + len(weight['files'])} files, first contentful paint {weight['fcp_ms']} ms")
    assert weight["bytes"] <= LIVE_PAGE_BUDGET_BYTES
    assert weight["fcp_ms"] is not None


def test_setup_page_shows_the_camera_with_advice_and_tests_outputs(appliance_url: str, phone) -> None:
    page = phone
    log_in(page, appliance_url)
    page.goto(appliance_url + "/setup")
    page.wait_for_function("() => document.getElementById('snapshot').naturalWidth > 0")
    assert page.locator("#advice li").count() >= 1
    page.click("[data-test=speaker]")
    page.wait_for_selector("#toast:has-text('test click played')")
    shot(page, "06-setup")
    page.goto(appliance_url + "/health")
    page.wait_for_selector("#health-table td:has-text('frames/s')")
    assert "longer than one frame period" in page.inner_text("#health-table")  # late frames, in words
    assert "frame_age" not in page.inner_text("#stage-table")
    assert "0.1.0" in page.inner_text("#health-table")
    shot(page, "07-health")


def test_public_live_view_needs_no_login_and_offers_no_controls(appliance_url: str, phone, browser) -> None:
    page = phone
    log_in(page, appliance_url)
    page.goto(appliance_url + "/settings")
    page.wait_for_selector("input[name='panel.public_live_view']")
    page.check("input[name='panel.public_live_view']")
    page.click("#save")
    page.wait_for_selector("#toast:has-text('Saved')")
    runner_view = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
    try:
        runner_view.goto(appliance_url + "/live")
        runner_view.wait_for_selector("#conn.live")
        assert runner_view.url.endswith("/live")
        assert not runner_view.is_visible("#controls") and not runner_view.is_visible("nav")
        assert runner_view.evaluate("fetch('/api/settings').then(r => r.status)") == 401
    finally:
        runner_view.context.close()
        page.uncheck("input[name='panel.public_live_view']")
        page.click("#save")
        page.wait_for_selector("#toast:has-text('Saved')")


def test_offline_api_reference_lists_every_operation(appliance_url: str, phone) -> None:
    page = phone
    page.goto(appliance_url + "/docs")
    page.wait_for_selector("#docs details")
    spec = page.evaluate("fetch('/openapi.json').then(r => r.json())")
    operations = sum(len(methods) for methods in spec["paths"].values())
    assert page.locator("#docs details:has(summary code)").count() >= operations
    page.click("#docs details:has-text('/api/settings') >> nth=0")
    shot(page, "08-docs")


# ---- what a clinician relies on between patients (issue 37) ---------------------------------------


def test_a_wrong_current_pin_is_said_beside_the_field_and_nothing_typed_is_lost(appliance_url: str, phone) -> None:
    page = phone
    log_in(page, appliance_url)
    page.goto(appliance_url + "/settings")
    page.wait_for_selector("input[name='audio.volume']")
    page.fill("#cur-pin", "not-the-pin-1")
    page.fill("#next-pin", "brand-new-pin-2")
    page.fill("#next-pin2", "brand-new-pin-2")
    page.click("#change-pin")
    page.wait_for_selector("#field-cur-pin.invalid")
    assert page.inner_text("#error-cur-pin") == "The current PIN is wrong."
    # Still here, still logged in, and what was typed is still there to correct.
    assert page.url.endswith("/settings")
    assert (page.input_value("#cur-pin"), page.input_value("#next-pin"), page.input_value("#next-pin2")) == (
        "not-the-pin-1", "brand-new-pin-2", "brand-new-pin-2")
    page.locator("#pin-card").scroll_into_view_if_needed()
    shot(page, "09-pin-wrong-current")
    # A new PIN typed differently the second time is refused before anything is sent.
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/api/auth/pin") else None)
    page.fill("#cur-pin", PIN)
    page.fill("#next-pin2", "brand-new-pin-3")
    page.click("#change-pin")
    page.wait_for_selector("#field-next-pin2.invalid")
    assert "differ" in page.inner_text("#error-next-pin2") and not page.is_visible("#error-cur-pin")
    assert sent == []
    assert page.evaluate("fetch('/api/settings').then(r => r.status)") == 200  # the PIN is unchanged, still in


def test_a_settings_error_is_in_words_on_its_field(appliance_url: str, phone) -> None:
    page = phone
    log_in(page, appliance_url)
    page.goto(appliance_url + "/settings")
    field = "#field-coach\\.warmup_minutes"
    page.wait_for_selector(field)
    assert page.inner_text(f"{field} > span") == "Warm-up (min)"
    page.fill("input[name='coach.warmup_minutes']", "")
    page.click("#save")
    page.wait_for_selector(f"{field}.invalid")
    assert page.inner_text("#error-coach\\.warmup_minutes") == "Must be a number."
    assert page.inner_text("#settings-error") == "Not saved: see the marked field."
    text = page.inner_text("main")
    for internal in ("unable to parse", "Input should", "body.", "coach.warmup_minutes", "Value error"):
        assert internal not in text
    # The marked field is on screen, below the page links.
    box = page.locator(field).bounding_box()
    nav = page.locator("nav").bounding_box()
    assert box["y"] >= nav["y"] + nav["height"] - 1 and box["y"] < PHONE["height"]
    shot(page, "10-settings-error-at-field")
    # The Save bar stays small on a phone.
    assert page.locator(".savebar").bounding_box()["height"] <= 0.12 * PHONE["height"]


def test_idle_live_shows_no_figures_of_a_past_session(appliance_url: str, phone) -> None:
    page = phone
    log_in(page, appliance_url)
    page.wait_for_selector("#conn.live")
    page.wait_for_function("() => document.getElementById('phase').textContent === 'Idle'", timeout=60_000)
    assert page.inner_text("#runner-name") == "No session"
    for figure in ("#on-target", "#cadence", "#shank", "#strike-angle"):
        assert page.inner_text(figure) == "–", figure
    shot(page, "11-live-idle")


def test_the_nav_reaches_every_page_on_a_phone(appliance_url: str, phone) -> None:
    page = phone
    log_in(page, appliance_url)
    links = page.locator("nav a")
    names = links.all_inner_texts()
    assert names == ["Live", "Runners", "Set-up", "History", "Settings", "Health", "API"]
    for name in names:  # every link wholly on screen, none cut at the edge
        box = page.locator("nav a", has_text=name).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["y"] + box["height"] <= PHONE["height"], name
    page.click("nav a:has-text('Health')")
    page.wait_for_url("**/health")
    page.wait_for_selector("#health-table td")
    page.click("nav a:has-text('API')")
    page.wait_for_url("**/docs")


def test_the_page_links_never_cover_an_opened_card(appliance_url: str, phone) -> None:
    page = phone
    log_in(page, appliance_url)
    for i in range(8):  # enough runners that the list scrolls
        assert post_from_page(page, "/api/runners", {"name": f"Filler {i}"})[0] == 201
    page.goto(appliance_url + "/runners")
    page.click(".list-item:has-text('Filler 7') .open-runner")
    page.wait_for_selector("#runner-detail h2:has-text('Filler 7')")
    page.wait_for_timeout(300)
    nav = page.locator("nav").bounding_box()
    title = page.locator("#runner-detail h2").first.bounding_box()
    assert nav["y"] == 0 and title["y"] >= nav["height"], (title, nav)  # the links stuck at the top, the card below
    shot(page, "12-runner-opened")
    runner = next(r for r in page.evaluate("fetch('/api/runners').then(r => r.json())") if r["name"] == "Filler 7")
    assert post_from_page(page, "/api/session/start", {"runner_id": runner["id"]})[0] == 200
    assert post_from_page(page, "/api/session/stop", {})[0] == 200
    page.goto(appliance_url + f"/history?runner={runner['id']}")
    page.click(".open-session >> nth=0")
    page.wait_for_selector("#session-card h2")
    page.wait_for_timeout(300)
    assert page.locator("#session-card h2").bounding_box()["y"] >= page.locator("nav").bounding_box()["height"]


def show_live_snapshot(page, url: str, **fields) -> None:
    """Open the live page fed one snapshot: the appliance's own, with ``fields`` changed."""
    import json

    page.goto(url + "/live")
    page.wait_for_selector("#conn.live")
    snapshot = {**page.evaluate("fetch('/api/live').then(r => r.json())"), **fields}
    body = f"retry: 60000\n\nevent: snapshot\ndata: {json.dumps(snapshot)}\n\n"
    page.route("**/api/live/stream", lambda route: route.fulfill(status=200, content_type="text/event-stream", body=body))
    page.reload()
    page.wait_for_function(f"() => window.LivePage.last() && window.LivePage.last().time === {snapshot['time']}")


def test_live_judges_overstride_by_the_coachs_limit_only(appliance_url: str, phone) -> None:
    # The coach's rule: above the limit is overstriding; any angle below it (negative too) is fine.
    page = phone
    log_in(page, appliance_url)
    show_live_snapshot(page, appliance_url, session_id=1, runner={"id": 1, "name": "Sam"}, phase="feedback",
                       overstride_band=[0.0, 4.0], shank_angle_deg=-3.3, on_target_share=0.5)
    assert page.inner_text("#shank-band") == "at most 4.0°"
    assert page.get_attribute("#shank", "class") == "big ok"
    assert page.inner_text("#on-target") == "50"


def test_idle_live_hides_a_stale_on_target_share(appliance_url: str, phone) -> None:
    page = phone
    log_in(page, appliance_url)
    show_live_snapshot(page, appliance_url, session_id=None, runner=None, phase="idle", on_target_share=0.92,
                       shank_angle_deg=5.0, foot_strike_angle_deg=9.0, strike="rearfoot")
    assert page.inner_text("#runner-name") == "No session"
    for figure in ("#on-target", "#shank", "#strike-angle", "#strike"):
        assert page.inner_text(figure) == "–", figure


def test_a_refused_target_is_said_on_its_field_and_runner_names_are_checked(appliance_url: str, phone) -> None:
    page = phone
    log_in(page, appliance_url)
    page.goto(appliance_url + "/runners")
    page.fill("#new-name", "Tara Target")
    page.click("#new-runner button[type=submit]")
    page.wait_for_selector("#runner-detail h2:has-text('Tara Target')")
    field = "#target-cadence\\.tolerance_spm"
    assert page.inner_text(f"{field} > span") == "Tolerance (steps/min)"
    page.fill("input[name='cadence.tolerance_spm']", "")
    page.click("#save-runner")
    page.wait_for_selector(f"{field}.invalid")
    assert page.inner_text("#target-error-cadence\\.tolerance_spm") == "Must be a number."
    assert "Input should" not in page.inner_text("#runner-detail")
    # A second runner of the same name is refused in words.
    page.fill("#new-name", "  tara target ")
    page.click("#new-runner button[type=submit]")
    page.wait_for_selector("#new-error:has-text('already used by another runner')")


def test_a_session_prints_alone_with_the_runner_s_name(appliance_url: str, phone) -> None:
    page = phone
    log_in(page, appliance_url)
    runner = post_from_page(page, "/api/runners", {"name": "Printed Runner"})[1]
    post_from_page(page, "/api/session/start", {"runner_id": runner["id"]})
    post_from_page(page, "/api/session/stop", {})
    page.goto(appliance_url + f"/history?runner={runner['id']}")
    page.click(".open-session >> nth=0")
    page.wait_for_selector("#print-session")
    assert page.locator("#print-session").is_visible()
    page.emulate_media(media="print")
    try:
        assert "Printed Runner" in page.locator("#session-card h2").inner_text()
        assert page.locator("#session-card h2").is_visible()
        for hidden in ("nav", "#runner-select", "#print-session", "#session-list"):
            assert not page.locator(hidden).is_visible(), hidden
        shot(page, "13-session-print")
    finally:
        page.emulate_media(media="screen")


def test_health_says_when_recording_or_a_step_of_the_analysis_fails(appliance_url: str, phone) -> None:
    """Health fed the appliance's own health with a full disk and a failing gait step."""
    import json

    page = phone
    log_in(page, appliance_url)
    page.goto(appliance_url + "/health")
    page.wait_for_selector("#health-table th")
    health = {**page.evaluate("fetch('/api/health').then(r => r.json())"),
              "recording_fault": "the disk is full: steps cannot be stored; make room on the data directory's disk.",
              "writes_waiting": 31, "cues_paused": 4,
              "stage_faults": [{"stage": "gait", "failures": 120, "kinds": {"ValueError": 120},
                                "last_error": "ValueError: argmax of an empty sequence", "seconds_since_last": 0.1,
                                "failing_for_s": 4.0, "kept_running": False}]}
    page.route("**/api/health", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(health)))
    page.reload()
    page.wait_for_selector("#health-table th:has-text('Failing step')")
    text = page.locator("#health-table").inner_text()
    assert "FAILING" in text and "31 steps are kept in memory" in text
    assert "Failing step: Step detection" in text and "argmax of an empty sequence" in text
    assert "Cues held back" in text
    shot(page, "14-health-faults")


def test_the_mirror_page_shows_the_band_while_feedback_is_on_and_fades_after(appliance_url: str, phone) -> None:
    """The mirror fed a rear view: the left leg above the band in red, the right in green, large
    figures, no header or names; with feedback off only 'Keep it going'."""
    import json

    page = phone
    log_in(page, appliance_url)
    legs = {"left": {"hip": (300, 200), "knee": (315, 300), "ankle": (305, 400)},
            "right": {"hip": (340, 200), "knee": (342, 300), "ankle": (345, 400)}}
    view = {"available": True, "view": "rear", "t": 12.0, "image_size": [640, 480], "measure": "hip_adduction",
            "limit_deg": 9.0, "feedback": True,
            "left": {"points": legs["left"], "last_value": 13.2, "in_band": False},
            "right": {"points": legs["right"], "last_value": 7.9, "in_band": True}}
    state = {"body": json.dumps(view)}
    page.route("**/api/frontal", lambda route: route.fulfill(status=200, content_type="application/json", body=state["body"]))
    page.goto(appliance_url + "/mirror")
    page.wait_for_function("() => window.MirrorPage && window.MirrorPage.last()")
    assert page.locator("#mirror-left").inner_text().split() == ["left", "hip", "13°"]
    assert page.locator("#mirror-left").evaluate("e => getComputedStyle(e).color") == "rgb(239, 68, 68)"
    assert page.locator("#mirror-right").evaluate("e => getComputedStyle(e).color") == "rgb(34, 197, 94)"
    assert "under 9°" in page.locator("#mirror-message").inner_text()
    assert not page.locator("nav").is_visible() and not page.locator("header").is_visible()
    shot(page, "15-mirror")
    state["body"] = json.dumps({**view, "feedback": False})
    page.wait_for_function("() => !window.MirrorPage.last().feedback")
    assert page.locator("#mirror-message").inner_text() == "Keep it going"
    assert page.locator("#mirror-left").inner_text() == "" and page.locator("#mirror-right").inner_text() == ""


def test_live_shows_the_rear_camera_s_stances_only_when_one_runs(appliance_url: str, phone) -> None:
    import json

    page = phone
    log_in(page, appliance_url)
    page.goto(appliance_url + "/live")
    page.wait_for_selector("#conn.live")
    assert not page.locator("#frontal-card").is_visible()  # this appliance has no rear camera
    view = {"available": True, "view": "rear", "t": 3.0, "image_size": [640, 480], "measure": "hip_adduction",
            "limit_deg": 9.0, "feedback": True, "left": {"points": None, "last_value": 12.4, "in_band": False},
            "right": {"points": None, "last_value": 7.1, "in_band": True}}
    page.route("**/api/frontal", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(view)))
    page.reload()
    page.wait_for_selector("#frontal-card:not(.hidden)")
    assert page.locator("#frontal-left").inner_text() == "12.4" and "bad" in page.locator("#frontal-left").get_attribute("class")
    assert page.locator("#frontal-right").inner_text() == "7.1" and page.locator("#frontal-limit").inner_text() == "9.0°"


def test_history_charts_the_rear_camera_s_stances_per_side(appliance_url: str, phone) -> None:
    import json

    page = phone
    log_in(page, appliance_url)
    runner = post_from_page(page, "/api/runners", {"name": "Rear Charts"})[1]
    session = post_from_page(page, "/api/session/start", {"runner_id": runner["id"]})[1]
    post_from_page(page, "/api/session/stop", {})
    series = page.evaluate(f"fetch('/api/sessions/{session['session_id']}/series').then(r => r.json())")
    series["frontal"] = {"measure": "hip_adduction", "t_s": [1.0, 1.4, 1.8, 2.2], "foot": ["left", "right", "left", "right"],
                         "value_deg": [12.0, 7.0, 11.0, 8.0], "median_deg": [12.0, 7.0, 11.5, 7.5], "limit_deg": 9.0}
    page.route("**/series", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(series)))
    page.goto(appliance_url + f"/history?runner={runner['id']}&session={session['session_id']}")
    page.wait_for_selector("svg[data-metric='frontal-left']")
    assert page.locator("svg[data-metric='frontal-right']").count() == 1
    assert "limit" in page.locator("svg[data-metric='frontal-left']").inner_html()
    assert "what the coach judges" in page.locator("#frontal-note").inner_text()


def test_settings_show_the_values_the_command_line_set_at_start(appliance_url: str, phone) -> None:
    """The appliance runs with --port, --host, --data-dir and --source: the Settings page says the
    value in force on top and at the field, and the saved value that applies without the option."""
    page = phone
    port = int(appliance_url.rsplit(":", 1)[1])
    log_in(page, appliance_url)
    page.goto(appliance_url + "/settings")
    card = page.wait_for_selector("#started-with")
    assert card.is_visible() and card.bounding_box()["y"] < PHONE["height"]  # on the first screen, not folded
    said = page.inner_text("#started-with .override[data-path='panel.port']")
    assert said == (f"Panel port: In force: {port}, set by --port {port} at start; "
                    "the saved value 8080 applies when started without it.")
    sources = page.inner_text("#started-with .override[data-path='camera.source']")
    assert "In force: sim, set by --source sim" in sources and "saved value auto" in sources
    assert "--data-dir" in page.inner_text("#started-with .override[data-path='storage.data_dir']")
    shot(page, "13-settings-set-at-start")
    page.click("#expert-settings > summary")
    at_field = page.locator("#override-panel\\.port")
    at_field.scroll_into_view_if_needed()
    assert at_field.is_visible() and f"set by --port {port} at start" in at_field.inner_text()
    assert page.input_value("input[name='panel.port']") == "8080"  # the field is the saved value
    assert "settings.json" in page.inner_text("#settings-file")


# Every page, the element that says it has rendered its content (not only its frame).
PAGE_READY = {
    "live": "#conn.live",
    "runners": ".list-item .open-runner",
    "setup": "#advice li",
    "history": ".open-session",
    "settings": "#field-audio\\.volume",
    "health": "#health-table td",
    "mirror": "#mirror-message",
    "docs": "#docs h2, #docs h3, #docs details",
}


def test_every_page_fits_a_phone_and_is_photographed(appliance_url: str, phone) -> None:
    """A screenshot of every page at 390x844 (artifacts/browser/pages/, whole page) after a short
    session, and none wider than the phone (a page that scrolls sideways hides its right edge)."""
    page = phone
    folder = ARTIFACTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    log_in(page, appliance_url)
    status, runner = post_from_page(page, "/api/runners", {"name": "Robin Pages"})
    assert status == 201
    assert post_from_page(page, "/api/session/start", {"runner_id": runner["id"]})[0] == 200
    page.wait_for_timeout(3000)
    assert post_from_page(page, "/api/session/stop", {})[0] == 200
    for name, ready in PAGE_READY.items():
        path = f"/history?runner={runner['id']}" if name == "history" else f"/{name}"
        page.goto(appliance_url + path)
        page.wait_for_selector(ready)
        if name == "history":
            page.click(".open-session >> nth=0")
            page.wait_for_selector("#session-card h2")
        if name == "runners":
            page.click(".list-item:has-text('Robin Pages') .open-runner")
            page.wait_for_selector("#runner-detail h2")
        page.wait_for_timeout(500)
        page.evaluate("window.scrollTo(0, 0)")  # the sticky page links drawn at the top, not mid-page
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"{name} is {wide} px wider than the phone"
    page.context.clear_cookies()
    page.goto(appliance_url + "/login")
    page.wait_for_selector("#login-form:not(.hidden)")
    page.screenshot(path=str(folder / "login.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_a_session_s_summary_on_live_says_it_ended_and_offers_no_pause_or_stop(appliance_url: str, phone) -> None:
    """On the summary after a session (the snapshot then has its id but no runner): not "No
    session" beside the session's figures, and nothing to pause or stop; a new session may start."""
    page = phone
    log_in(page, appliance_url)
    show_live_snapshot(page, appliance_url, session_id=7, runner=None, phase="summary", on_target_share=0.8,
                       steps=0, shank_angle_deg=3.0, strike="midfoot")
    assert page.inner_text("#runner-name") == "Session ended"
    assert page.inner_text("#phase") == "Summary" and page.inner_text("#on-target") == "80"
    assert page.inner_text("#steps") == "–"  # the server no longer counts them
    assert page.is_hidden("#run-row") and page.is_visible("#start-row")
