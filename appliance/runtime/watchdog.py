"""The main thread's watch over the control loop, and the loop's end at shutdown.

While the appliance runs, the main thread pings the systemd watchdog as long as the loop ticks
(``loop_healthy``), says a STATUS line to systemd every 2 s and logs it every 30 s and at each phase
change (``watch``). At shutdown, ``stop_loop`` stops the loop within a second and stores its running
session as interrupted, from the main thread when the loop is stuck inside a tick.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from appliance.config import Settings
from appliance.runtime.controller import LiveSnapshot
from appliance.runtime.loop import ControlLoop, StageGaveUp
from appliance.runtime.notify import SystemdNotifier
from appliance.runtime.session_service import SessionService
from appliance.store.videos import delete_session_videos

log = logging.getLogger("appliance.runtime.app")  # the lines these calls log kept their logger


def loop_healthy(loop: ControlLoop | None, settings: Settings) -> bool:
    """True while the loop ticks: it processed a frame within ``session.watchdog_stall_seconds``."""
    if loop is None or not loop.alive:
        return False
    last = loop.monitor.last_tick_wall
    return last is not None and time.monotonic() - last < settings.session.watchdog_stall_seconds


def status_line(snap: LiveSnapshot) -> str:
    """One line on the phase, the runner, the loop's rate and stage times, and any fault."""
    st = snap.loop
    stages = " ".join(f"{k} {v:.1f}" for k, v in st.stage_ms.items())
    phase = snap.phase + (f" (session {snap.session_id})" if snap.session_id else "")
    if st.stalled:
        rate = f"loop STALLED (no tick for {st.since_last_tick_s or 0:.1f} s, 0 Hz)"
    else:
        rate = f"loop {st.fps:.1f} Hz, jitter {st.jitter_ms:.1f} ms"
    fault = f"; {snap.recording_fault.upper()[:1]}{snap.recording_fault[1:]}" if snap.recording_fault else ""
    if snap.stage_fault:
        fault += f"; {snap.stage_fault.upper()[:1]}{snap.stage_fault[1:]}"
    return (f"{phase}; runner {snap.runner_presence}; {rate}, "
            f"dropped {st.dropped_frames}, misses {st.deadline_misses}; ms: {stages}{fault}")


def watch(loop: ControlLoop, notifier: SystemdNotifier, healthy: Callable[[], bool], duration_s: float | None,
          stop: threading.Event) -> int:
    """Watch the loop until ``stop``, the end of ``duration_s`` or the end of the source; returns
    the exit status (non-zero when the loop failed)."""
    end = None if duration_s is None else time.monotonic() + duration_s
    notifier.ready(status_line(loop.snapshot()))
    interval = notifier.watchdog_interval_s
    ping_every = min(interval / 2, 1.0) if interval else 1.0
    next_ping = next_status = next_log = 0.0
    last_phase = None
    while not stop.is_set():
        now = time.monotonic()
        if end is not None and now >= end:
            log.info("--duration reached")
            break
        if loop.finished.is_set():
            break
        if now >= next_ping:
            if healthy():
                notifier.watchdog()
            next_ping = now + ping_every
        snap = loop.snapshot()
        if now >= next_status or snap.phase != last_phase:
            notifier.status(status_line(loop.snapshot()))
            next_status = now + 2.0
        if now >= next_log or snap.phase != last_phase:
            log.info(status_line(loop.snapshot()))
            next_log = now + 30.0
            last_phase = snap.phase
        stop.wait(0.05)
    if loop.error is not None:
        if not isinstance(loop.error, StageGaveUp):  # that one has said it all
            log.error("the control loop failed: %s", loop.error)
        return 1
    return 0


def stop_loop(loop: ControlLoop, sessions: SessionService | None, reason: str) -> None:
    """Stop the loop within a second; its running session ends as interrupted (not kept when it had
    recorded no step yet), and the outputs fall silent. A loop stuck inside a tick is abandoned and
    its session stored as interrupted from here."""
    loop.stop(timeout=1.0)
    if loop.alive:
        log.error("the control loop did not stop within 1 s (stuck for %.1f s)", loop.monitor.since_last_tick_s() or 0)
        active = loop.session.active
        if active is not None and sessions is not None:
            sessions.store_interrupted(active, reason)
        return
    discarded = None
    if loop.session.active is not None:
        t = loop.t if loop.t is not None else 0.0
        before = loop.session.active
        calibrating = loop.session.phase == "calibrating"
        try:
            events = loop.session.stop(t, reason, state="interrupted")
            loop.dispatch(before, events)
            if calibrating and sessions is not None and sessions.store.discard_session_if_empty(before.session_id):
                log.info("session %d had recorded no step; not kept", before.session_id)
                discarded = before.session_id
        except Exception as e:  # report and carry on: the rest must still close
            log.error("ending the session at shutdown failed: %s", e)
    if loop.video is not None:
        loop.video.close()
        if discarded is not None:
            delete_session_videos(loop.video.data_dir, [discarded])
    loop.outputs.silence(loop.t or 0.0)
