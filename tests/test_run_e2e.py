"""``appliance run`` end to end, as a subprocess: the simulated runner through a whole session, systemd
notify, SIGTERM, a kill -9 in the middle of a session and the restart after it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from appliance.store import Store

APPLIANCE = [sys.executable, "-m", "appliance"]


def start(args: list[str], env: dict | None = None, verbose: bool = False) -> subprocess.Popen:
    cmd = APPLIANCE + (["-v"] if verbose else []) + ["run", "--port", "0", *args]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    if "NOTIFY_SOCKET" not in (env or {}):
        full_env.pop("NOTIFY_SOCKET", None)  # never notify the systemd that runs the test itself
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full_env)


def read_db(data_dir: Path, sql: str, args=()) -> list[tuple]:
    """Read what is committed, as another process sees it (read-only, beside the writer)."""
    db = data_dir / "appliance.db"
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:  # schema not created yet
        return []
    finally:
        conn.close()


def wait_until(predicate, timeout: float, proc: subprocess.Popen | None = None, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"appliance run exited ({proc.returncode}) before {what}:\n{proc.stdout.read()}")
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def export(data_dir: Path, session: str = "last") -> dict:
    out = subprocess.run(APPLIANCE + ["export", "--data-dir", str(data_dir), "--session", session, "--format", "json"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def drain(sock: socket.socket) -> list[str]:
    """The datagrams that have arrived, waiting at most 0.1 s for more."""
    sock.settimeout(0.1)
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except (TimeoutError, BlockingIOError):
            return out


def test_simulated_session_end_to_end(tmp_path: Path, notify_socket):
    sock_path, sock = notify_socket
    data = tmp_path / "data"
    proc = start(["--source", "sim", "--demo", "--speed", "40", "--data-dir", str(data)],
                 env={"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "2000000"})
    messages: list[str] = []
    try:
        banner = ""
        for line in proc.stdout:
            if line.startswith("appliance "):
                banner = line
                break
        assert "a demo session for 'Demo runner' starts by itself" in banner, banner
        url = re.search(r"panel on (http://\S+?),", banner).group(1)
        with urllib.request.urlopen(f"{url}/openapi.json", timeout=5) as r:
            assert r.status == 200 and "paths" in json.loads(r.read())
        wait_until(lambda: read_db(data, "SELECT state FROM sessions") == [("completed",)], 90, proc,
                   "the demo session to complete")
        messages += drain(sock)
        t_term = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        stop_s = time.monotonic() - t_term
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    messages += drain(sock)
    assert proc.returncode == 0
    assert stop_s < 2.0, f"SIGTERM took {stop_s:.2f} s"
    # systemd notify: READY first, STATUS lines, watchdog pings while healthy, STOPPING at the end
    assert messages[0].startswith("READY=1\nSTATUS=")
    assert messages.count("WATCHDOG=1") >= 3
    assert any(m.startswith("STATUS=feedback") for m in messages)
    assert messages[-1].startswith("STOPPING=1")

    doc = export(data)
    session, steps, events = doc["session"], doc["steps"], doc["cue_events"]
    assert session["state"] == "completed" and session["runner_name"] == "Demo runner"
    # the simulated runner runs at 164 steps/min and follows the metronome (+7.5 %) in feedback blocks
    assert session["baseline_cadence_spm"] == pytest.approx(164, abs=2)
    assert session["target_cadence_spm"] == pytest.approx(session["baseline_cadence_spm"] * 1.075, abs=0.2)
    # five minutes of running, every step once, numbered in order, in time order
    assert 5 * 160 <= len(steps) <= 5 * 185
    assert [s["index"] for s in steps] == list(range(len(steps)))
    t_ic = [s["t_ic"] for s in steps]
    assert t_ic == sorted(t_ic)
    assert sum(s["final"] for s in steps) >= len(steps) - 2
    assert all(s["calibrated"] for s in steps if s["phase"] != "calibrating")
    phases = {s["phase"] for s in steps}
    assert {"warmup", "feedback", "no_feedback", "retention"} <= phases
    assert all(s["feedback_on"] == (s["phase"] == "feedback") for s in steps)
    kinds = [e["kind"] for e in events]
    assert kinds[:3] == ["session_start", "calibrated", "session_started"]
    assert kinds.count("block_started") == 10  # warm-up, 4 x (on, off), retention
    assert kinds.count("cue_given") >= 1 and all(
        e["payload"]["prompt"] == "quick_feet" for e in events if e["kind"] == "cue_given")
    bpm = [e["payload"]["bpm"] for e in events if e["kind"] == "metronome"]
    assert bpm.count(None) >= 4 and sum(b is not None for b in bpm) == 4  # faded: on in 4 blocks only
    assert kinds[-1] == "session_end"
    summary_event = next(e for e in events if e["kind"] == "summary")
    assert summary_event["payload"]["sentences"][0].startswith("Cadence ")
    # the stored summary: the retention cadence the clinician wants to see
    summary = session["summary"]
    assert summary["ended"] == "completed"
    assert summary["phases"]["retention"]["cadence_spm"] > session["baseline_cadence_spm"] + 5
    wavs = list((data / "audio").glob("run-*.wav"))
    assert len(wavs) == 1 and wavs[0].stat().st_size > 48000 * 2 * 300  # > 5 min of 48 kHz 16-bit audio


LOG_STEP = re.compile(r"^(\S+ \S+) DEBUG appliance\.runtime\.loop: session (\d+) step (\d+) recorded")


def test_kill_9_mid_session_then_restart_keeps_every_recorded_step(tmp_path: Path):
    data = tmp_path / "data"
    proc = start(["--source", "sim", "--demo", "--speed", "10", "--no-panel", "--data-dir", str(data)], verbose=True)
    lines: list[str] = []
    try:
        wait_until(lambda: (read_db(data, "SELECT count(*) FROM steps") or [(0,)])[0][0] >= 150, 60, proc,
                   "150 recorded steps")
        # what another reader sees committed right now must all survive the crash
        seen = read_db(data, 'SELECT "index", t_ic, foot, strike, shank_angle_deg FROM steps ORDER BY "index"')
        kill_wall = time.time()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        lines = proc.stdout.read().splitlines()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert read_db(data, "SELECT state FROM sessions") == [("running",)]

    restart = subprocess.run(APPLIANCE + ["run", "--source", "sim", "--no-demo", "--no-panel", "--duration", "1",
                                          "--data-dir", str(data)], capture_output=True, text=True, timeout=60)
    assert restart.returncode == 0, restart.stdout + restart.stderr
    assert "session 1 was interrupted by a crash or power loss" in restart.stderr

    doc = export(data, "1")
    assert doc["session"]["state"] == "interrupted" and doc["session"]["ended"] is not None
    stored = {s["index"]: s for s in doc["steps"]}
    for index, t_ic, foot, strike, shank in seen:
        got = stored[index]
        assert (got["t_ic"], got["foot"], got["strike"]) == (t_ic, foot, strike)
        assert got["shank_angle_deg"] == pytest.approx(shank)
    # every step the process reported as recorded more than a second before the kill is stored
    logged = []
    for line in lines:
        m = LOG_STEP.match(line)
        if m:
            wall = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            logged.append((wall, int(m.group(3))))
    assert len(logged) >= 150
    old_enough = {i for wall, i in logged if wall < kill_wall - 1.0}
    assert old_enough and old_enough <= set(stored)
    assert len(stored) >= len(seen)
    with Store(data) as store:  # a second start recovers nothing more
        assert store.recovered_sessions == []


def test_the_login_throttle_ignores_forwarded_headers(tmp_path: Path):
    """Over loopback (a local process, an SSH tunnel) a rotating X-Forwarded-For must not dodge the
    throttle: the panel trusts no forwarded header."""
    from appliance.web.pin import PinStore

    data = tmp_path / "data"
    PinStore(data).set_pin("the-right-pin-1")
    proc = start(["--source", "sim", "--no-demo", "--data-dir", str(data)])
    try:
        url = ""
        for line in proc.stdout:
            if line.startswith("appliance "):  # the banner
                found = re.search(r"panel on (http://[^\s,]+)", line)
                url = found.group(1) if found else ""
                break
        assert url, "no panel URL in the banner"
        codes = []
        for i in range(6):
            req = urllib.request.Request(f"{url}/api/auth/login", data=json.dumps({"pin": "wrong-pin-0"}).encode(),
                                         headers={"Content-Type": "application/json", "X-Forwarded-For": f"10.9.8.{i}"})
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    codes.append(r.status)
            except urllib.error.HTTPError as e:
                codes.append(e.code)
        assert 429 in codes, codes
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
