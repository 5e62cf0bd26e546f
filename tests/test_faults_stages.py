"""A stage of the control loop that fails: the frame's result is dropped, cues pause, the failure is
logged once per kind and counted on Live and Health; only a stage failing on every frame ends the
process, and the same failure after the restart (a saved setting) keeps the appliance and its panel
up so that the clinician can fix the setting there."""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from waiting import wait_for

from appliance.config import Settings
from appliance.runtime.app import STAGE_FAULT_FILE, RunOptions, Runtime
from appliance.runtime.stats import StageFaults
from appliance.store import Store
from appliance.web.pin import PinStore

PIN = "stage-fault-pin-1"

# `appliance run` with one thing changed: the gait stage raises on every frame with a pose while the
# (valid) setting gait.cadence_window_s is 7 s, as a saved setting that breaks a stage would; and
# the loop gives up after 2 s instead of 10 (STAGE_GIVE_UP_S).
WRAPPER = """
import sys
import appliance.runtime.stats as stats
stats.STAGE_GIVE_UP_S = 2.0
from appliance.gait.tracker import GaitTracker
real = GaitTracker.update
def update(self, pose, t, *args, **kw):
    if self.settings.cadence_window_s == 7.0 and pose is not None:
        raise ValueError("no cadence in a 7 s window")
    return real(self, pose, t, *args, **kw)
GaitTracker.update = update
from appliance.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_stage_faults_count_kinds_time_runs_and_give_up_only_on_a_run():
    now = [100.0]
    faults = StageFaults(give_up_s=2.0, hold_s=1.0, min_failures=5, clock=lambda: now[0])
    assert faults.failed("gait", ValueError("a")) is True
    assert faults.failed("gait", ValueError("b")) is False  # same kind: not logged again
    assert faults.failed("gait", KeyError("c")) is True
    assert faults.active() and "the gait stage fails (KeyError: 'c'; 3 times" in faults.sentence()
    assert faults.succeeded("gait") == 3
    now[0] += 1.5
    assert not faults.active() and faults.sentence() is None
    for _ in range(4):  # failing on every frame for 3 s, but only 4 frames: not yet
        faults.failed("pose", RuntimeError("x"))
        now[0] += 1.0
    assert faults.failing_too_long() is None
    faults.failed("pose", RuntimeError("x"))
    assert faults.failing_too_long().stage == "pose"
    faults.keep_running("pose")
    assert faults.failing_too_long() is None and "also after a restart" in faults.sentence()
    (gait, pose) = faults.report()
    assert (gait.failures, gait.kinds, gait.failing_for_s) == (3, {"ValueError": 2, "KeyError": 1}, None)
    assert pose.failures == 5 and pose.failing_for_s == 4.0 and pose.kept_running


def test_a_stage_failing_now_and_then_drops_those_frames_pauses_cues_and_the_loop_goes_on(tmp_path: Path, monkeypatch,
                                                                                         caplog):
    from appliance.gait.tracker import GaitTracker

    real = GaitTracker.update
    calls = [0]

    def sometimes(self, pose, t, *args, **kw):
        calls[0] += 1
        if calls[0] % 7 == 0:
            raise ZeroDivisionError("every 7th frame")
        return real(self, pose, t, *args, **kw)

    monkeypatch.setattr(GaitTracker, "update", sometimes)
    caplog.set_level(logging.INFO, logger="appliance.runtime.loop")
    rt = Runtime(Settings(), RunOptions(source="sim", data_dir=tmp_path, panel=False, demo=True, speed=10))
    rt.start()
    try:
        wait_for(lambda: rt.snapshot().steps >= 20, what="20 steps although every 7th frame fails")
        assert rt.loop.alive and rt.loop.error is None
        snap = rt.snapshot()
        assert snap.stage_fault and "the gait stage fails (ZeroDivisionError: every 7th frame" in snap.stage_fault
        health = rt.health()
        (fault,) = health.stage_faults
        assert fault.stage == "gait" and fault.failures >= 3 and fault.kinds == {"ZeroDivisionError": fault.failures}
        assert health.stage_fault == rt.loop.faults.sentence()
        assert "The gait stage fails" in rt._status_line()
        # The cues that follow from the steps are not given while the stage fails.
        wait_for(lambda: rt.loop.faults.cues_paused > 0, timeout=60, what="a cue paused")
    finally:
        rt.shutdown()
    logged = [r for r in caplog.records if r.getMessage().startswith("the gait stage failed")]
    assert len(logged) == 1  # once per kind, however often
    with Store(tmp_path) as store:
        (session,) = store.list_sessions()
        kinds = {e.kind for e in store.session_events(session.id)}
        assert not kinds & {"cue_given", "light_band", "light_flag"}
        assert len(store.session_steps(session.id)) >= 20


def _start(wrapper: Path, data: Path, stderr) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(wrapper), "run", "--source", "sim", "--demo", "--speed", "4", "--port", "0",
         "--host", "127.0.0.1", "--data-dir", str(data), "--config", str(data / "settings.json")],
        stdout=subprocess.PIPE, stderr=stderr, text=True)


def test_a_saved_setting_that_breaks_a_stage_restarts_once_then_keeps_the_panel_up_to_fix_it(tmp_path: Path):
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(WRAPPER)
    data = tmp_path / "data"
    PinStore(data).set_pin(PIN)
    (data / "settings.json").write_text(json.dumps({"version": 1, "gait": {"cadence_window_s": 7.0}}))

    # First start: the stage fails on every frame for 2 s; the process says so and exits 1 (systemd restarts it).
    log1 = tmp_path / "first.log"
    with log1.open("w") as err:
        first = _start(wrapper, data, err)
        assert first.wait(timeout=60) == 1
    text = log1.read_text()
    assert re.search(r"CRITICAL .*the gait stage failed on every frame for 2 s \(\d+ frames; ValueError: no cadence "
                     r"in a 7 s window\): the control loop stops and the appliance exits so that systemd restarts it",
                     text)
    assert len(re.findall(r"ERROR .*the gait stage failed \(ValueError", text)) == 1
    assert (data / STAGE_FAULT_FILE).is_file()

    # The restart fails the same way: said once, and the appliance stays up with its panel.
    log2 = tmp_path / "second.log"
    with log2.open("w") as err:
        second = _start(wrapper, data, err)
        try:
            url = None
            deadline = time.monotonic() + 60
            while url is None and time.monotonic() < deadline:
                found = re.search(r"panel on (http://[^\s,]+)", second.stdout.readline())
                url = found.group(1) if found else None
            assert url, "the panel did not start"
            wait_for(lambda: "fails again as it did before the restart" in log2.read_text(), what="the repeat")
            time.sleep(1.0)
            assert second.poll() is None, "the appliance exited on the same failure again"

            login = urllib.request.Request(f"{url}/api/auth/login", data=json.dumps({"pin": PIN}).encode(),
                                           headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(login, timeout=10) as r:
                cookies = {c.split(";")[0].split("=", 1)[0]: c.split(";")[0].split("=", 1)[1]
                           for c in r.headers.get_all("Set-Cookie")}
            cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())

            def api(method: str, path: str, body: dict | None = None) -> dict:
                req = urllib.request.Request(
                    f"{url}{path}", method=method, data=json.dumps(body).encode() if body is not None else None,
                    headers={"Cookie": cookie, "Content-Type": "application/json",
                             "X-CSRF-Token": cookies.get("appliance_csrf", "")})
                with urllib.request.urlopen(req, timeout=10) as r:
                    return json.loads(r.read())

            health = api("GET", "/api/health")
            (fault,) = health["stage_faults"]
            assert fault["stage"] == "gait" and fault["kept_running"] and fault["failures"] > 10
            assert "also after a restart" in health["stage_fault"] and "change the setting" in health["stage_fault"]
            live = api("GET", "/api/live")
            assert live["stage_fault"] == live["message"] == health["stage_fault"]

            # The clinician changes the setting on the panel: the stage works again at once.
            api("PUT", "/api/settings", {"changes": {"gait.cadence_window_s": 10.0}})
            wait_for(lambda: api("GET", "/api/health")["stage_fault"] is None, what="the fault to clear")
            wait_for(lambda: api("GET", "/api/live")["steps"] > 0, timeout=60, what="steps recorded again")
            assert not (data / STAGE_FAULT_FILE).exists()
            assert "the gait stage works again" in log2.read_text()
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=10) == 0
    assert log2.read_text().count("fails again as it did before the restart") == 1
