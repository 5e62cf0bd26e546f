"""The panel under faults: bursts of requests on a real server must not grow its open files or memory,
and a database damaged under a running panel answers a clear error, never a 5xx."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient
from faultfs import scribble_inner_pages
from test_store import make_step
from test_web_fakes import FakeController

from appliance.store.database import READERS
from appliance.web.app import create_app
from appliance.web.logins import CSRF_COOKIE, CSRF_HEADER
from appliance.web.pin import PinStore

PIN = "fault-test-pin-1"
APPLIANCE = [sys.executable, "-m", "appliance"]


def process_figures(pid: int, db: Path) -> tuple[int, int, int]:
    """(descriptors on the database file, all descriptors, RSS in kB) of process ``pid``."""
    on_db = total = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        total += 1
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(db):
                on_db += 1
        except OSError:
            pass
    rss = int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1))
    return on_db, total, rss


def test_bursts_of_history_requests_leave_descriptors_and_memory_where_they_were(tmp_path: Path):
    data = tmp_path / "data"
    PinStore(data).set_pin(PIN)
    proc = subprocess.Popen(APPLIANCE + ["run", "--source", "sim", "--no-demo", "--port", "0", "--host", "127.0.0.1",
                                         "--data-dir", str(data)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            found = re.search(r"panel on (http://[^\s,]+)", line)
            url = found.group(1) if found else None
        assert url, "the panel did not start"
        login = urllib.request.Request(f"{url}/api/auth/login", data=json.dumps({"pin": PIN}).encode(),
                                       headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(login, timeout=10) as r:
            cookies = "; ".join(c.split(";")[0] for c in r.headers.get_all("Set-Cookie"))

        def get(_i: int) -> int:
            req = urllib.request.Request(f"{url}/api/sessions?limit=5", headers={"Cookie": cookies})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    r.read()
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code

        def burst() -> None:
            with ThreadPoolExecutor(20) as pool:
                statuses = list(pool.map(get, range(140)))
            assert set(statuses) == {200}, statuses

        db = data / "appliance.db"
        get(0)
        first = process_figures(proc.pid, db)  # one reader open, as after the first page view
        burst()  # the first burst warms up imports and caches
        time.sleep(1.0)
        warm = process_figures(proc.pid, db)
        for i in range(8):
            burst()
            # idle gaps; once longer than the server's idle thread timeout (10 s), so that its worker
            # threads end and new ones read
            time.sleep(11.0 if i == 3 else 0.5)
        time.sleep(1.0)
        end = process_figures(proc.pid, db)
        print(f"descriptors on the db {first[0]} -> {warm[0]} -> {end[0]}, all {first[1]} -> {warm[1]} -> {end[1]}, "
              f"RSS {first[2] / 1024:.0f} -> {warm[2] / 1024:.0f} -> {end[2] / 1024:.0f} MB")
        more_readers = READERS - 1  # the pool opens its other readers under load, and no more
        assert end[0] <= first[0] + more_readers
        assert end[1] <= first[1] * 1.1 + 2 * more_readers  # each reader holds the file and its WAL
        assert end[2] <= warm[2] * 1.1
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_database_damaged_under_the_panel_answers_a_clear_error_never_5xx(fake: FakeController, tmp_path: Path):
    store = fake.store
    runner = store.create_runner("Ann")
    session = store.create_session(runner.id)
    for i in range(400):
        store.record_step(session.id, make_step(i, i * 0.35))
    store.finish_session(session.id, "completed")
    PinStore(tmp_path).set_pin(PIN)
    with TestClient(create_app(fake, tmp_path), base_url="http://panel.local") as client:
        assert client.post("/api/auth/login", json={"pin": PIN}).status_code == 200
        client.headers[CSRF_HEADER] = client.cookies[CSRF_COOKIE]
        assert client.get("/api/sessions").status_code == 200
        import sqlite3

        conn = sqlite3.connect(store.path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        scribble_inner_pages(store.path)
        r = client.get("/api/sessions")
        assert r.status_code == 409 and "is damaged" in r.json()["detail"] and "move the file away" in r.json()["detail"]
        for path in (f"/api/sessions/{session.id}", "/api/runners", "/api/sessions?limit=5", f"/api/runners/{runner.id}"):
            r = client.get(path)  # what a scribbled page still yields, or a clear refusal: never a 5xx
            assert r.status_code < 500, (path, r.status_code, r.text)
            assert r.status_code == 200 or r.json()["detail"], r.text
        assert client.get("/api/live").status_code == 200  # the connection still answers
