"""The newcomer's path to the first PIN: the one-time setup code in a box in the log, repeated while
no PIN is set; the first-visit page saying where to find it (terminal or journal); `appliance
set-pin` ending in a sentence, never a traceback, when no PIN can be read."""

from __future__ import annotations

import logging
import os
import pty
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_web_fakes import FakeController

from appliance.web.app import create_app
from appliance.web.auth import AuthState
from appliance.web.pin import PinStore

PIN = "first-visit-pin"


def test_the_setup_code_is_logged_in_a_box_and_repeated_until_a_pin_is_set(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    state = AuthState(pins=PinStore(tmp_path))
    with caplog.at_level(logging.WARNING, logger="appliance.web.auth"):
        state.ensure_setup_code()
        code = state.setup_code
        first = caplog.messages[-1]
        box = first.splitlines()[1:]
        assert box[0].startswith("+---") and box[-1] == box[0] and all(line.startswith("|") for line in box[1:-1])
        assert len({len(line) for line in box}) == 1  # a closed frame, every line as wide
        assert f"One-time setup code:  {code}" in first
        assert f".venv/bin/appliance set-pin --data-dir {tmp_path}" in first  # the command for this data dir
        stop = threading.Event()
        reminders = threading.Thread(target=state.remind_while_no_pin, args=(stop, 0.02))
        reminders.start()
        deadline = time.monotonic() + 5
        while sum(code in m for m in caplog.messages) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sum(code in m for m in caplog.messages) >= 3  # said again while no PIN is set
        PinStore(tmp_path).set_pin(PIN)
        reminders.join(timeout=2)
        assert not reminders.is_alive() and state.setup_code is None  # a PIN: no more reminders
        stop.set()


def test_the_reminders_end_with_the_panel_and_never_start_with_a_pin(fake: FakeController, tmp_path: Path) -> None:
    app = create_app(fake, tmp_path)
    reminders = app.state.setup_reminders
    assert reminders.is_alive() and reminders.name == "setup-code-reminder"
    app.state.stopping.set()
    reminders.join(timeout=2)
    assert not reminders.is_alive()
    other = tmp_path / "with-pin"
    PinStore(other).set_pin(PIN)
    assert create_app(fake, other).state.setup_reminders is None


@pytest.mark.parametrize(("service", "said"), [(False, "terminal where the appliance was started (`./dev run`)"),
                                              (True, "run `journalctl -u appliance` on the appliance")])
def test_the_first_visit_page_says_where_the_setup_code_is(
        fake: FakeController, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, service: bool, said: str) -> None:
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    if service:
        monkeypatch.setenv("INVOCATION_ID", "0123456789abcdef")
    app = create_app(fake, tmp_path)
    with TestClient(app) as c:
        assert said in c.get("/api/auth/status").json()["setup_code_where"]
        r = c.post("/api/auth/setup", json={"setup_code": "x", "pin": PIN})
        assert r.status_code == 401 and said in r.json()["detail"]
        page = c.get("/login").text
        assert "./dev run" in page and "journalctl -u appliance" in page  # both, before the script says which
        assert c.post("/api/auth/setup", json={"setup_code": app.state.auth.setup_code, "pin": PIN}).status_code == 200
        assert c.get("/api/auth/status").json()["setup_code_where"] is None
    app.state.stopping.set()


def _set_pin_on_a_terminal(tmp_path: Path, typed: bytes) -> subprocess.CompletedProcess:
    """`appliance set-pin` on a pseudo-terminal; ``typed`` is sent once the prompt is shown."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "set-pin", "--data-dir", str(tmp_path)],
                            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    os.close(slave)
    try:
        shown = b""
        deadline = time.monotonic() + 30
        while b"characters): " not in shown and time.monotonic() < deadline:
            if select.select([proc.stderr], [], [], 0.5)[0]:
                shown += os.read(proc.stderr.fileno(), 1000)
        assert b"characters): " in shown, shown
        os.write(master, typed)
        out, err = proc.communicate(timeout=30)
    finally:
        os.close(master)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out.decode(), shown.decode() + err.decode())


def test_set_pin_ended_at_the_prompt_says_so_without_a_traceback(tmp_path: Path) -> None:
    ran = _set_pin_on_a_terminal(tmp_path, b"\x04")  # Ctrl-D at the prompt
    assert ran.returncode == 1 and "Traceback" not in ran.stderr
    assert "no PIN was typed" in ran.stderr and not PinStore(tmp_path).path.exists()


def test_set_pin_with_stdin_and_nothing_piped_says_so(tmp_path: Path) -> None:
    ran = subprocess.run([sys.executable, "-m", "appliance", "set-pin", "--data-dir", str(tmp_path), "--stdin"],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 1 and "Traceback" not in ran.stderr
    assert "--stdin got no line" in ran.stderr and not PinStore(tmp_path).path.exists()
