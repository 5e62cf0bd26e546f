"""``appliance run`` as an object: wires source, pose, gait, session, coach, outputs, store and panel,
runs them, and is the ``ApplianceController`` the panel steers.

Threads: the capture thread (newest frame only), the control loop (every tick), the store's writer,
uvicorn (the panel), gpiozero's (the button). The main thread starts everything, pings the systemd
watchdog while the loop is healthy, writes STATUS lines, and shuts down on SIGTERM or at the end of
``--duration``. Commands from the panel and the button run on the loop thread at a tick boundary.

On a machine without a camera (``--source auto``) the embedded default runs: the simulated runner
(sped up), mock GPIO, audio rendered to a WAV file under the data dir, the panel on localhost, and a
short demo session that starts by itself.
"""

from __future__ import annotations

import errno
import logging
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance import __version__
from appliance.config import CoachSettings, Settings, save_settings
from appliance.feet.stage import FootStage
from appliance.outputs.cue_player import CuePlayer
from appliance.runtime.capture import LatestFrameCapture
from appliance.runtime.controller import CameraSnapshot, ControllerError, Health, LiveSnapshot, OutputKind
from appliance.runtime.host import cpu_temperature_c, pi_throttled
from appliance.runtime.loop import ControlLoop, StageGaveUp
from appliance.runtime.notify import SystemdNotifier
from appliance.runtime.session import SessionCommandError
from appliance.runtime.session_service import SessionService
from appliance.runtime.settings_changes import needs_restart, settings_diff
from appliance.store import NotFound, Store, StoreError

log = logging.getLogger(__name__)

# Heavy looks waiting for the spare core: ~9 frames a contact, so a few contacts' worth; when the
# core falls behind, the oldest wait is dropped (a late look at an old contact is worth less).
HEAVY_QUEUE = 40
DEMO_RUNNER = "Demo runner"
DEMO_SPEED = 6.0  # the 5-minute demo session in under a minute
DEMO_PROGRAMME = {"name": "demo (5 min, feedback faded to 50 %)",
                  "sessions": [{"number": 1, "run_minutes": 5, "feedback_share": 0.5}]}
DEMO_COACH = CoachSettings(warmup_minutes=0.5, retention_minutes=0.5, min_block_minutes=0.5,
                           min_cue_interval_s=8, min_baseline_steps=20)


# A stage that failed on every frame until the loop gave up leaves this file in the data dir; when
# a process started within REPEAT_WITHIN_S of it gives up on the same stage with the same kind of
# error, the restart did not help (a saved setting, a file on disk): the appliance then goes on
# without that stage instead of restarting forever. The file goes when the stage works again.
STAGE_FAULT_FILE = "stage-fault.json"
REPEAT_WITHIN_S = 3600.0


class StartupError(Exception):
    """A runtime that cannot start; the message says what to fix."""


def _check_panel_address(host: str, port: int) -> None:
    """Refuse a panel address that does not resolve or cannot be bound, with the reason (uvicorn
    itself only exits its thread)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise StartupError(f"the panel's address {host!r} does not resolve ({getattr(e, 'strerror', None) or e}); "
                           "set --host or panel.host to an address of this machine (0.0.0.0: all)") from e
    if port == 0:
        return
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as e:
            why = "the port is in use by another program" if e.errno == errno.EADDRINUSE else e.strerror
            raise StartupError(f"the panel cannot listen on {host}:{port} ({why}); set --port or panel.port, "
                               "or stop the other program") from e


@dataclass
class RunOptions:
    """What ``appliance run`` was asked for (command-line overrides of the settings)."""

    source: str = "auto"
    data_dir: Path | None = None
    config_path: Path | None = None
    host: str | None = None
    port: int | None = None
    speed: float | None = None  # simulated runner only: simulated seconds per wall second
    demo: bool | None = None  # None: the demo session runs on the embedded default only
    replay: str = "realtime"  # video files: realtime (like a camera) or fast (every frame, as fast as possible)
    time_scale: float = 1.0  # video files: real seconds per clip second (slow motion)
    panel: bool = True
    stats_window: int = 300  # ticks kept for the loop figures (the benchmark keeps a whole replay)
    sim_absences: tuple[tuple[float, float], ...] = ()  # simulated runner: (start, end) s off the belt


class Runtime:
    """The running appliance (implements ``appliance.runtime.controller.ApplianceController``)."""

    def __init__(self, settings: Settings, options: RunOptions, notifier: SystemdNotifier | None = None):
        self._settings = settings
        self.options = options
        self.data_dir = Path(options.data_dir or settings.storage.data_dir)
        self.config_path = options.config_path or (self.data_dir / "settings.json")
        self.notifier = notifier or SystemdNotifier()
        self.started_wall = time.monotonic()
        self.started_epoch = time.time()
        self.embedded = False
        self.demo = False
        self.simulated = False
        self.model_loaded = False
        self.panel_url: str | None = None
        self.audio_path: Path | None = None
        self._store: Store | None = None
        self.loop: ControlLoop | None = None
        self.capture: LatestFrameCapture | None = None
        self._sim_source = None
        self._source = None
        self._heavy_worker = None
        self._audio = None
        self._lights = None
        self._button = None
        self._server = None
        self._server_thread: threading.Thread | None = None
        self._app = None
        self._upkeep = None  # the scheduled backup and retention (appliance/runtime/data_upkeep.py)
        self.sessions: SessionService | None = None  # the stored side of the sessions (session_service.py)
        self._shutdown_lock = threading.Lock()
        self._stopped = False

    # ---- ApplianceController ----

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            raise ControllerError("the appliance is still starting")
        return self._store

    def apply_settings(self, new: Settings, who: str) -> None:
        old = self._settings
        diff = settings_diff(old, new)
        if not diff:
            return
        save_settings(new, self.config_path)
        self.store.record_settings_change(who, diff)
        self._settings = new
        log.info("settings changed by %s: %s", who, ", ".join(diff))
        if self.loop is not None:
            self.loop.post(lambda t: self._apply_at_tick(old, new, diff, t))

    def snapshot(self) -> LiveSnapshot:
        return self.loop.snapshot() if self.loop is not None else LiveSnapshot()

    def start_session(self, runner_id: int) -> int:
        try:
            runner = self.store.get_runner(runner_id)
        except NotFound as e:
            raise ControllerError(str(e)) from e
        if runner.archived:
            raise ControllerError(f"{runner.name} is archived; restore them before starting a session")

        def start(t: float) -> int:
            machine = self.loop.session
            before = machine.active
            session_id, events = machine.start(runner_id, t)
            self.loop.dispatch(before, events)
            return session_id

        return self._loop_call(start)

    def pause_session(self) -> None:
        self._loop_call(lambda t: self._session_command("pause", t))

    def resume_session(self) -> None:
        self._loop_call(lambda t: self._session_command("resume", t))

    def stop_session(self) -> None:
        self._loop_call(lambda t: self._session_command("stop", t))

    def test_output(self, kind: OutputKind) -> None:
        self._loop_call(lambda t: self.loop.outputs.test_output(kind, t))

    def camera_snapshot(self) -> CameraSnapshot:
        from appliance.runtime.camera_view import render_snapshot

        loop = self.loop
        last = loop.last_frame if loop is not None else None
        if last is None:
            raise ControllerError("no camera frame yet: the camera is starting or delivers no images")
        state = last.gait
        belt = (state.belt_slope, state.belt_intercept_px) if state is not None and state.belt_slope is not None else None
        step = state.last_step if state is not None else None
        return render_snapshot(last.image, last.pose, last.image_size, belt, last.t, simulated=last.image is None,
                               foot_spread_deg=step.strike_spread_deg if step is not None else None)

    def health(self) -> Health:
        stats = self.loop.monitor.with_stall(self.loop.stats()) if self.loop is not None else None
        store = self._store
        fault = store.write_fault if store is not None else None
        return Health(
            loop_hz=stats.fps if stats else 0.0,
            loop_healthy=self.loop_healthy(),
            dropped_frames=stats.dropped_frames if stats else 0,
            deadline_misses=stats.deadline_misses if stats else 0,
            cpu_temperature_c=cpu_temperature_c(),
            throttled=pi_throttled(),
            disk_free_bytes=shutil.disk_usage(self.data_dir).free,
            version=__version__,
            uptime_s=round(time.monotonic() - self.started_wall, 1),
            source=self.loop.source_name if self.loop is not None else "",
            model_loaded=self.model_loaded,
            backup=self._upkeep.status if self._upkeep is not None else None,
            recording_fault=fault.sentence(self.data_dir) if fault is not None else None,
            writes_waiting=fault.waiting if fault is not None else 0,
            writes_lost=store.writes_dropped if store is not None else 0,
            stage_fault=self.loop.faults.sentence() if self.loop is not None else None,
            stage_faults=self.loop.faults.report() if self.loop is not None else [],
            cues_paused=self.loop.faults.cues_paused if self.loop is not None else 0,
        )

    # ---- helpers for the controller ----

    def _loop_call(self, fn) -> Any:
        if self.loop is None:
            raise ControllerError("the appliance is still starting")
        try:
            return self.loop.call(fn)
        except (SessionCommandError, StoreError) as e:
            raise ControllerError(str(e)) from e
        except TimeoutError as e:
            raise ControllerError("the control loop did not answer within 3 s; see the health page") from e
        except (RuntimeError, ValueError) as e:
            raise ControllerError(str(e)) from e

    def _session_command(self, what: str, t: float) -> None:
        machine = self.loop.session
        before = machine.active
        events = getattr(machine, what)(t)
        self.loop.dispatch(before, events)

    def _apply_at_tick(self, old: Settings, new: Settings, diff: dict[str, list[Any]], t: float) -> None:
        """Runs on the loop thread between two ticks."""
        loop = self.loop
        loop.session.settings = new.session
        if new.gait != old.gait:
            loop.tracker.settings = new.gait
            loop.make_tracker = self._tracker_factory(new)
            self.sessions.strike_classes = new.gait
        if not self.demo:
            self.sessions.coach_settings = new.coach  # the next session's coach
        if self._audio is not None and new.audio.volume != old.audio.volume:
            self._audio.set_volume(new.audio.volume)
        if self._lights is not None and new.lights.brightness != old.lights.brightness:
            self._lights.set_brightness(new.lights.brightness, t)
        if self._lights is not None:
            self._lights.pulse_on_beat = new.lights.pulse_on_beat
        later = [k for k in diff if needs_restart(k)]
        if later:
            log.warning("these settings take effect after a restart of the appliance: %s", ", ".join(later))

    def _tracker_factory(self, settings: Settings):
        from appliance.gait import GaitTracker

        gait = settings.gait
        return lambda calibration: GaitTracker(gait, calibration)

    def loop_healthy(self) -> bool:
        """True while the loop ticks: it processed a frame within ``session.watchdog_stall_seconds``."""
        loop = self.loop
        if loop is None or not loop.alive:
            return False
        last = loop.monitor.last_tick_wall
        return last is not None and time.monotonic() - last < self._settings.session.watchdog_stall_seconds

    # ---- start ----

    def start(self) -> None:
        """Open everything and start the threads; raises ``StartupError`` with a fix when it cannot."""
        from appliance.gait import GaitTracker  # noqa: F401  (fail early when the gait package is broken)

        s = self._settings
        opts = self.options
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StartupError(f"cannot create the data directory {self.data_dir} ({e.strerror}); create it with "
                               "write access for the appliance's user, or choose another --data-dir") from e
        try:
            self._store = Store(self.data_dir)
        except StoreError as e:
            raise StartupError(str(e)) from e
        for sid in self._store.recovered_sessions:
            log.warning("session %d was interrupted by a crash or power loss; its recorded steps are kept", sid)
        from appliance.runtime.data_upkeep import DataUpkeep

        self._upkeep = DataUpkeep(self._store, lambda: self._settings, self.data_dir, self.config_path)
        self._upkeep.start()
        source, pose_engine, lockstep, frame_period = self._open_source()
        self._source = source
        self._open_outputs()
        self.sessions = SessionService(self._store, source.name, s.coach, s.gait)
        self.capture = LatestFrameCapture(source, lockstep=lockstep)
        outputs = CuePlayer(self._audio, self._lights, offline_audio=self.simulated,
                            follow_beat=self._follow_beat if self.simulated else None)
        self.loop = ControlLoop(self.capture, frame_period, pose_engine, self._tracker_factory(s), s.session, self.sessions, outputs,
                                self._store, lambda: self._settings.session.runner_id, source.name,
                                stats_window=opts.stats_window, time_scale=opts.time_scale if pose_engine else 1.0,
                                foot_stage=FootStage() if pose_engine is not None and s.gait.foot_stage else None,
                                looks=self._open_looks(lockstep) if pose_engine is not None else None)
        self.loop.on_stage_gave_up = self._stage_gave_up
        self.loop.on_stage_recovered = self._stage_recovered
        self._open_button()
        if opts.panel:  # bound before any session can start: a panel that cannot listen leaves none behind
            self._start_panel()
        if self.demo:
            self._prepare_demo()
        self.capture.start()
        self.loop.start()

    # ---- a stage that keeps failing (loop thread) ----

    def _stage_fault_marker(self) -> dict | None:
        import json

        path = self.data_dir / STAGE_FAULT_FILE
        try:
            marker = json.loads(path.read_text())
            return marker if isinstance(marker, dict) else None
        except (OSError, ValueError):
            return None

    def _stage_gave_up(self, fault) -> bool:
        """A stage failed on every frame for STAGE_GIVE_UP_S: True ends the loop (the process exits 1
        and systemd restarts it), unless it failed the same way just before this start: then a
        restart does not help, and the appliance goes on without the stage (False), said once."""
        import json

        kind = fault.last_error.split(":", 1)[0]
        before = self._stage_fault_marker()
        if (before is not None and before.get("stage") == fault.stage and before.get("kind") == kind
                and 0 <= self.started_epoch - float(before.get("time", 0)) < REPEAT_WITHIN_S):
            log.critical("the %s stage fails again as it did before the restart (%s): a restart does not help, "
                         "so the appliance goes on without it (no cues) and the panel stays up: change the "
                         "setting that causes it (Settings) or run appliance selftest", fault.stage, fault.last_error)
            return False
        marker = {"stage": fault.stage, "kind": kind, "error": fault.last_error, "time": time.time()}
        try:
            (self.data_dir / STAGE_FAULT_FILE).write_text(json.dumps(marker) + "\n")
        except OSError as e:  # a full disk: the restart then gives up once more, that is all
            log.error("cannot write %s: %s", self.data_dir / STAGE_FAULT_FILE, e)
        return True

    def _stage_recovered(self, stage: str) -> None:
        before = self._stage_fault_marker()
        if before is not None and before.get("stage") == stage:
            (self.data_dir / STAGE_FAULT_FILE).unlink(missing_ok=True)

    def _follow_beat(self, bpm: float | None) -> None:
        if self._sim_source is not None and bpm is not None:
            self._sim_source.target_cadence_spm = bpm  # the simulated runner follows the metronome

    def _open_source(self):
        from appliance.sources.base import SourceError, open_source

        s = self._settings
        opts = self.options
        spec = opts.source or s.camera.source
        source = None
        if spec != "sim":
            try:
                source = open_source(spec, s.camera, realtime=opts.replay == "realtime")
            except SourceError as e:
                raise StartupError(str(e)) from e
        if source is None:
            self.simulated = True
            self.embedded = spec == "auto"
            if self.embedded and self.notifier.enabled:
                log.warning("no camera found: this service runs the simulated runner; connect the camera and "
                            "restart, or set camera.source (appliance selftest checks the camera)")
            self.demo = opts.demo if opts.demo is not None else self.embedded
            speed = opts.speed if opts.speed is not None else (DEMO_SPEED if self.demo else 1.0)
            from appliance.sim import RunnerParams
            from appliance.sources.simulated import SimulatedSource

            params = RunnerParams(cadence_spm=164.0, stand_s=s.session.calibration_seconds + 1.5,
                                  image_size=(s.camera.width, s.camera.height))
            self._sim_source = SimulatedSource(params, fps=30.0, speed=speed, absences=opts.sim_absences)
            # A simulated camera waits for the loop (nothing real is lost), so a sped-up run is exact.
            return self._sim_source, None, True, 1.0 / 30.0
        self.demo = bool(opts.demo)
        from appliance.pose.engine import PoseEngine
        from appliance.pose.model_files import ModelError

        try:
            engine = PoseEngine.from_settings(s.pose)
        except ModelError as e:
            source.close()
            raise StartupError(str(e)) from e
        self.model_loaded = True
        return source, engine, opts.replay == "fast", 1.0 / source.nominal_fps

    def _open_looks(self, lockstep: bool):
        """The heavy model's look at each contact (None when it is off or not installed): on a
        background thread, or on the loop's own for a lock-step replay (frame for frame the same
        as ``appliance analyze``)."""
        from appliance.feet.looks import ContactLooks
        from appliance.pose.heavy import HeavyPose, HeavyWorker
        from appliance.pose.model_files import ModelError

        gait = self._settings.gait
        if not (gait.foot_stage and gait.heavy_look):
            return None
        try:
            heavy = HeavyPose(self._settings.pose.model_dir, threads=1)
        except ModelError as e:
            log.warning("%s; the contacts' angles come from the per-frame model", e)
            return None
        if lockstep:
            return ContactLooks(runner=heavy)
        self._heavy_worker = HeavyWorker(heavy, max_pending=HEAVY_QUEUE)
        return ContactLooks(worker=self._heavy_worker)

    def _open_outputs(self) -> None:
        from appliance.outputs import AudioEngine, AudioError, Lights, PromptError, make_pin_factory

        s = self._settings
        if self.simulated:
            out = None
            if s.audio.sink != "null":
                stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
                out = self.data_dir / "audio" / f"run-{stamp}.wav"
                out.parent.mkdir(parents=True, exist_ok=True)
                self.audio_path = out
            open_audio = lambda prompts: AudioEngine.offline(s.audio, out, data_dir=self.data_dir,  # noqa: E731
                                                             with_prompts=prompts)
        else:
            open_audio = lambda prompts: AudioEngine.open(s.audio, data_dir=self.data_dir, with_prompts=prompts)  # noqa: E731
        try:
            try:
                self._audio = open_audio(True)
            except PromptError as e:
                log.warning("spoken prompts unavailable (%s); metronome only", e)
                self._audio = open_audio(False)
        except AudioError as e:
            if not (self.simulated and out is not None):
                raise StartupError(str(e)) from e
            log.warning("%s; the simulated session's sound is not recorded", e)  # e.g. a full disk
            out = None
            self.audio_path = None
            self._audio = open_audio(False)
        factory_name = "mock" if self.simulated else s.gpio.pin_factory
        try:
            self._pin_factory = make_pin_factory(factory_name)
            self._lights = Lights.from_settings(s.lights, self._pin_factory)
        except Exception as e:  # gpiozero raises many kinds for a busy or missing pin
            raise StartupError(f"lights: {e} (check lights.* pins and gpio.pin_factory)") from e

    def _open_button(self) -> None:
        from appliance.outputs import SessionButton

        s = self._settings
        if not s.button.enabled:
            return
        loop = self.loop

        def press() -> None:
            def toggle(t: float) -> None:
                before = loop.session.active
                loop.dispatch(before, loop.session.toggle(self._settings.session.runner_id, t))

            loop.post(toggle)

        def hold() -> None:
            loop.post(lambda t: self._session_command("stop", t) if loop.session.active else None)

        try:
            self._button = SessionButton.from_settings(s.button, on_press=press, on_hold=hold, pin_factory=self._pin_factory)
        except Exception as e:  # a pin already used by the lights, or no GPIO
            raise StartupError(f"button on GPIO {s.button.pin}: {e} (check button.pin)") from e

    def _prepare_demo(self) -> None:
        from appliance.coach import Targets

        runner = self._store.find_runner(DEMO_RUNNER) or self._store.create_runner(
            DEMO_RUNNER, targets=Targets().model_dump(mode="json"), programme=DEMO_PROGRAMME
        )
        self.sessions.coach_settings = DEMO_COACH
        machine = self.loop.session
        loop = self.loop

        def start(t: float) -> None:
            if machine.active is None:
                before = machine.active
                loop.dispatch(before, machine.start(runner.id, t)[1])

        loop.post_when_ticking(start)  # a stop before the first frame leaves no empty session

    def _start_panel(self) -> None:
        import uvicorn

        from appliance.web.app import create_app

        s = self._settings
        host = self.options.host or s.panel.host
        port = self.options.port if self.options.port is not None else s.panel.port
        _check_panel_address(host, port)
        self._app = create_app(self, self.data_dir)
        # No forwarded header is trusted (no proxy stands in front of the panel): uvicorn would take
        # the client's address from X-Forwarded-For sent over loopback, and a local process or an
        # SSH tunnel could then rotate it past the login throttle.
        config = uvicorn.Config(self._app, host=host, port=port, log_level="warning", access_log=False,
                                lifespan="off", timeout_graceful_shutdown=1, proxy_headers=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="panel", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not server.started:
            raise StartupError(f"the panel cannot listen on {host}:{port} (in use? set --port or panel.port)")
        bound = server.servers[0].sockets[0].getsockname()
        self.panel_url = f"http://{bound[0]}:{bound[1]}"
        self._server, self._server_thread = server, thread

    # ---- main thread ----

    def describe(self) -> str:
        """The one line said at start."""
        loop = self.loop
        parts = [f"appliance {__version__}: source {loop.source_name if loop else '?'}"]
        if self.embedded:
            parts = [f"appliance {__version__}: no camera found, running the embedded default: simulated runner"
                     f" at {self._sim_source.speed:g}x, mock GPIO"]
        if self.audio_path is not None:
            parts.append(f"audio to {self.audio_path}")
        elif self._audio is not None:
            parts.append(f"audio {self._audio.sink}")
        if self.panel_url:
            parts.append(f"panel on {self.panel_url}")
        if self.demo:
            parts.append(f"a demo session for '{DEMO_RUNNER}' starts by itself")
        return ", ".join(parts)

    def run(self, duration_s: float | None, stop: threading.Event) -> int:
        """Watch the loop until ``stop``, the end of ``duration_s`` or the end of the source; returns
        the exit status (non-zero when the loop failed)."""
        loop = self.loop
        end = None if duration_s is None else time.monotonic() + duration_s
        self.notifier.ready(self._status_line())
        interval = self.notifier.watchdog_interval_s
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
                if self.loop_healthy():
                    self.notifier.watchdog()
                next_ping = now + ping_every
            snap = loop.snapshot()
            if now >= next_status or snap.phase != last_phase:
                self.notifier.status(self._status_line())
                next_status = now + 2.0
            if now >= next_log or snap.phase != last_phase:
                log.info(self._status_line())
                next_log = now + 30.0
                last_phase = snap.phase
            stop.wait(0.05)
        if loop.error is not None:
            if not isinstance(loop.error, StageGaveUp):  # that one has said it all
                log.error("the control loop failed: %s", loop.error)
            return 1
        return 0

    def _status_line(self) -> str:
        snap = self.snapshot()
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

    def _interrupt_stuck_session(self, loop: ControlLoop, reason: str) -> None:
        """The loop is stuck inside a tick: store its session as interrupted from the main thread
        (the store is thread-safe; the loop's own state is left alone, its thread is abandoned)."""
        log.error("the control loop did not stop within 1 s (stuck for %.1f s)", loop.monitor.since_last_tick_s() or 0)
        active = loop.session.active
        if active is None or self._store is None:
            return
        summary = {"steps": active.steps, "valid_steps": active.valid_steps, "calibrated": active.calibrated,
                   "end_reason": f"{reason} (the control loop was stuck)"}
        try:
            self._store.finish_session(active.session_id, "interrupted", summary, timeout=0.5)
        except StoreError as e:
            log.error("session %d's end could not be stored: %s", active.session_id, e)

    def shutdown(self, reason: str = "appliance stopped") -> None:
        """Stop everything in order within about two seconds; an active session is stored as interrupted."""
        with self._shutdown_lock:
            if self._stopped:
                return
            self._stopped = True
        self.notifier.stopping("stopping")
        t0 = time.monotonic()
        if self._app is not None:
            self._app.state.stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        loop = self.loop
        if loop is not None:
            loop.stop(timeout=1.0)
            if loop.alive:
                self._interrupt_stuck_session(loop, reason)
            else:
                if loop.session.active is not None:
                    t = loop.t if loop.t is not None else 0.0
                    before = loop.session.active
                    calibrating = loop.session.phase == "calibrating"
                    try:
                        events = loop.session.stop(t, reason, state="interrupted")
                        loop.dispatch(before, events)
                        if calibrating and self._store is not None and \
                                self._store.discard_session_if_empty(before.session_id):
                            log.info("session %d had recorded no step; not kept", before.session_id)
                    except Exception as e:  # report and carry on: the rest must still close
                        log.error("ending the session at shutdown failed: %s", e)
                loop.outputs.silence(loop.t or 0.0)
        if self._heavy_worker is not None:
            self._heavy_worker.close(drop_waiting=True)
        if self.capture is not None:
            self.capture.stop(timeout=0.5)
        elif self._source is not None:  # start() failed before the capture thread existed
            self._source.close()
        for name, part in (("button", self._button), ("lights", self._lights), ("audio", self._audio)):
            if part is not None:
                try:
                    part.close()
                except Exception as e:  # report and carry on: the rest must still close
                    log.error("closing %s failed: %s", name, e)
        if self._server_thread is not None:
            self._server_thread.join(timeout=max(0.1, 1.5 - (time.monotonic() - t0)))
        if self._upkeep is not None:
            self._upkeep.stop(timeout=0.5)
        if self._store is not None:
            self._store.close()
        self.notifier.close()
        log.info("stopped in %.2f s", time.monotonic() - t0)
