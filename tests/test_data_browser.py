"""The clinic's data in a real browser against the real `appliance run --source sim`: erasing a
runner needs their name typed again (the button stays disabled until it matches), and the backup
download on Health works logged in and is refused logged out."""

from __future__ import annotations

import gzip

from test_browser_panel import appliance_url, browser, log_in, phone, pytestmark, shot  # noqa: F401 - fixtures

NAME = "Erin Erasable-7731"


def test_erasing_a_runner_asks_for_their_name_and_the_backup_download_needs_a_login(
        appliance_url: str, phone, browser) -> None:  # noqa: F811 - fixtures
    page = phone
    log_in(page, appliance_url)
    post = """([path, body]) => fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json',
        'X-CSRF-Token': document.cookie.match(/appliance_csrf=([^;]+)/)[1]}, body: JSON.stringify(body)}).then(r => r.json())"""
    runner = page.evaluate(post, ["/api/runners", {"name": NAME}])
    page.goto(appliance_url + f"/runners?runner={runner['id']}")
    page.wait_for_selector(f"#runner-detail h2:has-text('{NAME}')")
    page.click("#erase-card summary")
    button = page.locator("#erase-runner")
    assert button.is_disabled()
    page.fill("#erase-name", NAME.lower())
    assert button.is_disabled()
    page.fill("#erase-name", NAME)
    assert button.is_enabled()
    shot(page, "20-erase-runner")
    button.click()
    page.wait_for_selector("#toast:has-text('erased')")
    assert NAME not in page.inner_text("#runner-list")
    assert page.evaluate(f"fetch('/api/runners/{runner['id']}').then(r => r.status)") == 404

    page.goto(appliance_url + "/health")
    page.wait_for_selector("#health-table th:has-text('Last backup')")
    assert "off" in page.inner_text("#health-table")
    with page.expect_download() as download:
        page.click("#download-backup")
    data = gzip.decompress(open(download.value.path(), "rb").read())
    assert b"manifest.json" in data and NAME.encode() not in data

    stranger = browser.new_context()
    try:
        assert stranger.request.get(appliance_url + "/api/data/backup").status == 401
    finally:
        stranger.close()
