"""Item 9 of issue 41: a session of the sped-up simulated runner killed mid-run is recovered with an
end in wall time (its capture clock runs `--speed` times faster), never in the future."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from appliance.store import Store


def _steps(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM steps").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_killed_session_at_speed_6_ends_when_it_was_killed_not_in_the_future(tmp_path: Path):
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "run", "--source", "sim", "--demo", "--speed", "6",
                             "--no-panel", "--data-dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while _steps(tmp_path / "appliance.db") < 60 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _steps(tmp_path / "appliance.db") >= 60, "no steps recorded"
    finally:
        proc.send_signal(signal.SIGKILL)
        killed = datetime.now(UTC)
        proc.wait(timeout=10)
    with Store(tmp_path) as store:
        (sid,) = store.recovered_sessions
        session = store.get_session(sid)
        steps = store.session_steps(sid)
    started = session.started
    ended = session.ended
    capture_span = max(s.t_ic for s in steps) - session.t_start  # simulated seconds: 6 per wall second
    assert session.state == "interrupted" and session.source == "sim (x6)"
    assert ended <= killed  # before the fix: started + capture_span, some 6 times as far from the start
    wall = (ended - started).total_seconds()
    assert abs(wall - capture_span / 6) < 0.5 and capture_span > 20
    print(f"capture span {capture_span:.1f} s at x6 -> ended {wall:.1f} s after the start "
          f"({(killed - ended).total_seconds():.1f} s before the kill)")
