"""Runtime building blocks: sd_notify over a real datagram socket, the newest-frame capture thread,
loop statistics and runner presence."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.runtime.capture import LatestFrameCapture
from appliance.runtime.notify import SystemdNotifier
from appliance.runtime.presence import PresenceDetector
from appliance.runtime.stats import LoopMonitor
from appliance.types import Step


def test_notifier_speaks_the_systemd_datagram_protocol(notify_socket):
    path, sock = notify_socket
    n = SystemdNotifier(socket_path=str(path), watchdog_usec="10000000", watchdog_pid="")
    assert n.enabled and n.watchdog_interval_s == 10.0
    n.ready("camera and model up")
    n.status("loop 30.0 Hz")
    n.watchdog()
    n.stopping()
    got = [sock.recv(4096).decode() for _ in range(4)]
    assert got == ["READY=1\nSTATUS=camera and model up", "STATUS=loop 30.0 Hz", "WATCHDOG=1", "STOPPING=1"]
    n.close()


def test_notifier_outside_systemd_does_nothing(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    n = SystemdNotifier()
    assert not n.enabled and not n.ready() and n.sent == 0


def test_notifier_ignores_a_watchdog_meant_for_another_pid():
    assert SystemdNotifier(socket_path="/x", watchdog_usec="5000000", watchdog_pid="1").watchdog_interval_s is None


def test_notifier_counts_failures_without_raising(tmp_path: Path):
    n = SystemdNotifier(socket_path=str(tmp_path / "missing.sock"))
    assert n.watchdog() is False and n.failures == 1


@dataclass
class Item:
    t: float
    index: int


class PacedSource:
    """Yields items every ``period`` s of wall time, like a camera."""

    name = "paced"

    def __init__(self, n: int, period: float):
        self.n, self.period = n, period
        self.closed = False

    def __iter__(self):
        t0 = time.monotonic()
        for i in range(self.n):
            time.sleep(max(0.0, t0 + i * self.period - time.monotonic()))
            yield Item(t=i * self.period, index=i)

    def close(self):
        self.closed = True


def test_capture_keeps_only_the_newest_frame_and_counts_drops():
    source = PacedSource(40, 0.005)
    capture = LatestFrameCapture(source).start()
    taken = []
    while not capture.exhausted:
        item = capture.take(timeout=0.5)
        if item is not None:
            taken.append(item.index)
            time.sleep(0.02)  # a slow loop: about four frames arrive per tick
    capture.stop()
    assert source.closed
    assert taken == sorted(taken) and taken[-1] == 39
    assert len(taken) < 20
    assert capture.frames_in == 40
    assert capture.dropped == 40 - len(taken)


def test_capture_lockstep_delivers_every_frame_once():
    capture = LatestFrameCapture(iter([Item(i * 0.1, i) for i in range(50)]), lockstep=True).start()
    taken = []
    while not capture.exhausted:
        item = capture.take(timeout=0.5)
        if item is not None:
            taken.append(item.index)
            time.sleep(0.001)
    capture.stop()
    assert taken == list(range(50)) and capture.dropped == 0


def test_capture_hands_a_source_error_to_the_loop():
    def broken():
        yield Item(0.0, 0)
        raise OSError("camera unplugged")

    capture = LatestFrameCapture(broken()).start()
    first = capture.take(timeout=1)
    assert first is not None and first.index == 0
    assert capture.take(timeout=1) is None
    assert capture.finished and isinstance(capture.error, OSError)


def test_capture_stop_interrupts_a_waiting_lockstep_reader():
    capture = LatestFrameCapture(iter([Item(i, i) for i in range(1000)]), lockstep=True).start()
    assert capture.take(timeout=1) is not None
    done = threading.Event()

    def stopper():
        capture.stop(timeout=2)
        done.set()

    threading.Thread(target=stopper).start()
    assert done.wait(3)
    assert capture.frames_in < 1000


def test_loop_monitor_measures_period_stages_and_misses():
    now = [0.0]
    m = LoopMonitor(frame_period_s=1 / 30, clock=lambda: now[0])
    for i in range(10):
        m.begin_tick()
        m.stage("pose", 10.0)
        m.stage("gait", 0.5)
        now[0] += 0.050 if i == 3 else 0.010  # one tick busy for 50 ms: a miss at 30 fps
        m.end_tick(dropped_total=i)
        now[0] += 1 / 30 - 0.010
    s = m.summary()
    assert s.frames == 10 and s.deadline_misses == 1 and s.dropped_frames == 9
    assert s.stage_ms == {"pose": 10.0, "gait": 0.5}
    assert s.period_ms == pytest.approx(1000 / 30, abs=0.01)
    assert s.jitter_ms > 5  # the long tick delayed the next period by 40 ms
    assert s.fps == pytest.approx(1 / ((9 / 30 + 0.04) / 9), rel=0.01)


def _step(i: int, t: float, duty: float = float("nan")) -> Step:
    return Step(index=i, foot="A", frame_ic=i, t_ic=t, strike="midfoot", foot_strike_angle_deg=0.0,
                shank_angle_deg=5.0, knee_flexion_deg=20.0, heel_to_hip_leg_lengths=0.2, cadence_spm=float("nan"),
                instant_cadence_spm=float("nan"), confidence=0.9, valid=True, duty_factor=duty)


def feed(detector: PresenceDetector, t0: float, t1: float, pose: bool, step_every: float | None, duty=float("nan"),
         fps: float = 30.0) -> list[str]:
    states, t, next_step, i = [], t0, t0, 0
    while t < t1:
        steps = []
        if step_every is not None and t >= next_step:
            steps = [_step(i, t, duty)]
            i += 1
            next_step += step_every
        states.append(detector.update(t, pose, steps))
        t += 1 / fps
    return states


def test_presence_follows_a_runner_arriving_running_walking_and_leaving():
    d = PresenceDetector()
    assert feed(d, 0, 2, pose=False, step_every=None)[-1] == "absent"
    assert feed(d, 2, 5, pose=True, step_every=None)[-1] == "standing"
    assert feed(d, 5, 10, pose=True, step_every=60 / 120, duty=0.6)[-1] == "walking"
    assert feed(d, 10, 15, pose=True, step_every=60 / 170, duty=0.35)[-1] == "running"
    assert 3.0 < d.held_for(15) < 5.0  # running recognised within about a second of the change
    # cadence alone when the duty factor is not measured
    assert feed(d, 15, 20, pose=True, step_every=60 / 110)[-1] == "walking"
    assert feed(d, 20, 25, pose=True, step_every=60 / 165)[-1] == "running"
    states = feed(d, 25, 27, pose=False, step_every=None)
    assert states[0] == "running" and states[-1] == "absent"


def test_presence_survives_a_short_detection_gap():
    d = PresenceDetector()
    feed(d, 0, 5, pose=True, step_every=60 / 170)
    assert feed(d, 5, 5.5, pose=False, step_every=None)[-1] == "running"


def test_presence_takes_the_gait_trackers_classification_but_keeps_its_own_absence_delay():
    d = PresenceDetector()
    assert d.update(0.0, True, [], gait_moving="walking") == "walking"
    assert d.update(0.5, False, [], gait_moving="absent") == "walking"  # one second before absent
    assert d.update(1.2, False, [], gait_moving="absent") == "absent"


def test_loop_monitor_separates_drop_gaps_from_loop_jitter():
    now = [0.0]
    m = LoopMonitor(frame_period_s=0.05, clock=lambda: now[0])
    dropped = 0
    for i in range(6):
        m.begin_tick()
        now[0] += 0.01
        m.end_tick(dropped_total=dropped)
        gap = 0.1 if i == 2 else 0.05  # one frame dropped after tick 2: a double period
        dropped += i == 2
        now[0] += gap - 0.01
    assert list(m.periods_ms().round(3)) == [50.0, 50.0, 100.0, 50.0, 50.0]
    assert list(m.periods_without_drop_ms().round(3)) == [50.0, 50.0, 50.0, 50.0]
