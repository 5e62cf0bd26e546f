"""``appliance run`` as an object: the start-up sequence (``start``: each step a named method, called
in order) and the shutdown sequence (``shutdown``), both read top to bottom.

Threads: the capture thread (newest frame only), the control loop (every tick), the store's writer,
the data upkeep (backups, retention), uvicorn (the panel), gpiozero's (the button). The main thread
starts everything, pings the systemd watchdog while the loop is healthy, writes STATUS lines
(``watchdog.py``), and shuts down on SIGTERM or at the end of ``--duration``. Commands from the panel
(``panel_controller.py``) and the button run on the loop thread at a tick boundary; the session
machine asks ``session_service.py`` for the stored session and its coach.

On a machine without a camera (``--source auto``) the embedded default runs: the simulated runner
(sped up), mock GPIO, audio rendered to a WAV file under the data dir, the panel on localhost, and a
short demo session that starts by itself (``demo.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from appliance import __version__
from appliance.config import Settings
from appliance.feet.stage import FootStage
from appliance.outputs.cue_player import CuePlayer
from appliance.runtime import parts
from appliance.runtime.capture import LatestFrameCapture
from appliance.runtime.controller import ControllerError
from appliance.runtime.demo import DEMO_RUNNER, DEMO_SPEED, start_demo_session
from appliance.runtime.errors import StartupError
from appliance.runtime.loop import ControlLoop
from appliance.runtime.notify import SystemdNotifier
from appliance.runtime.panel_controller import ForwardsPanelCalls, PanelController
from appliance.runtime.panel_server import PanelServer
from appliance.runtime.session_service import SessionService
from appliance.runtime.stage_fault_memory import STAGE_FAULT_FILE, StageFaultMemory
from appliance.runtime.watchdog import loop_healthy, status_line, stop_loop, watch
from appliance.store import Store

__all__ = ["DEMO_RUNNER", "DEMO_SPEED", "STAGE_FAULT_FILE", "RunOptions", "Runtime", "StartupError"]

log = logging.getLogger(__name__)


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


class Runtime(ForwardsPanelCalls):
    """The running appliance: its parts, opened by ``start()`` and closed by ``shutdown()``. It answers
    the panel's calls too (``ApplianceController``), by its ``controller``."""

    def __init__(self, settings: Settings, options: RunOptions, notifier: SystemdNotifier | None = None):
        self.settings = settings  # replaced by the panel's changes (PanelController.apply_settings)
        self.options = options
        self.data_dir = Path(options.data_dir or settings.storage.data_dir)
        self.config_path = options.config_path or (self.data_dir / "settings.json")
        self.notifier = notifier or SystemdNotifier()
        self.started_wall = time.monotonic()
        self.started_epoch = time.time()
        self.controller = PanelController(self)
        self.simulated = self.embedded = self.demo = self.model_loaded = False
        self.audio_path: Path | None = None
        self.store_if_open: Store | None = None
        self.upkeep = None  # the scheduled backup and retention (data_upkeep.py)
        self.frames: parts.Frames | None = None
        self.source = self.sim_source = self.pose_engine = None
        self.audio = self.lights = self.pin_factory = self.button = self.heavy_worker = None
        self.rear = None  # the second camera's pipeline (appliance.frontal.rear_camera), when configured
        self.sessions: SessionService | None = None
        self.capture: LatestFrameCapture | None = None
        self.loop: ControlLoop | None = None
        self.panel: PanelServer | None = None
        self._shutdown_lock = threading.Lock()
        self._stopped = False

    @property
    def store(self) -> Store:
        if self.store_if_open is None:
            raise ControllerError("the appliance is still starting")
        return self.store_if_open

    @property
    def panel_url(self) -> str | None:
        return self.panel.url if self.panel is not None else None

    # ---- start ----

    def start(self) -> None:
        """Open everything and start the threads; raises ``StartupError`` with a fix when it cannot."""
        from appliance.gait import GaitTracker  # noqa: F401  (fail early when the gait package is broken)

        self._open_store()  # in the data directory, made when missing
        self._start_data_upkeep()
        self._open_frames()
        self._open_rear_camera()
        self._open_outputs()
        self._build_loop()
        self._open_button()
        self._start_panel()  # bound before any session can start: a panel that cannot listen leaves none behind
        self._start_demo()
        self.capture.start()
        self.loop.start()

    def _open_store(self) -> None:
        self.store_if_open = parts.open_store(self.data_dir)

    def _start_data_upkeep(self) -> None:
        from appliance.runtime.data_upkeep import DataUpkeep

        self.upkeep = DataUpkeep(self.store, lambda: self.settings, self.data_dir, self.config_path)
        self.upkeep.start()

    def _open_frames(self) -> None:
        opts = self.options
        frames = parts.open_frames(self.settings, opts.source or self.settings.camera.source, opts.demo, opts.speed,
                                   opts.replay, opts.sim_absences, self.notifier)
        self.source, self.pose_engine, self.sim_source = frames.source, frames.pose_engine, frames.sim_source
        self.simulated, self.embedded, self.demo = frames.simulated, frames.embedded, frames.demo
        self.model_loaded = frames.pose_engine is not None
        self.frames = frames

    def _open_rear_camera(self) -> None:
        self.rear = parts.open_rear_camera(self.settings, self.sim_source, self.options.replay)

    def _open_outputs(self) -> None:
        self.audio, self.audio_path = parts.open_audio(self.settings, self.simulated, self.data_dir)
        self.pin_factory, self.lights = parts.open_lights(self.settings, self.simulated)

    def _build_loop(self) -> None:
        s, opts, frames, real = self.settings, self.options, self.frames, self.pose_engine is not None
        self.sessions = SessionService(self.store, self.source.name, s.coach, s.gait)
        self.capture = LatestFrameCapture(self.source, lockstep=frames.lockstep)
        outputs = CuePlayer(self.audio, self.lights, offline_audio=self.simulated,
                            follow_beat=self._follow_beat if self.simulated else None)
        looks = None
        if real:
            looks, self.heavy_worker = parts.open_looks(s, frames.lockstep)
        self.loop = ControlLoop(self.capture, frames.frame_period_s, self.pose_engine, parts.tracker_factory(s),
                                s.session, self.sessions, outputs, self.store, lambda: self.settings.session.runner_id,
                                self.source.name, stats_window=opts.stats_window,
                                time_scale=opts.time_scale if real else 1.0,
                                foot_stage=FootStage() if real and s.gait.foot_stage else None, looks=looks)
        memory = StageFaultMemory(self.data_dir, self.started_epoch)
        self.loop.rear = self.rear
        self.loop.on_stage_gave_up = memory.gave_up
        self.loop.on_stage_recovered = memory.recovered

    def _follow_beat(self, bpm: float | None) -> None:
        if self.sim_source is not None and bpm is not None:
            self.sim_source.target_cadence_spm = bpm  # the simulated runner follows the metronome

    def _open_button(self) -> None:
        self.button = parts.open_button(self.settings, self.loop, self.pin_factory,
                                        lambda: self.settings.session.runner_id)

    def _start_panel(self) -> None:
        if not self.options.panel:
            return
        opts, panel = self.options, self.settings.panel
        self.panel = PanelServer(self.controller, self.data_dir, opts.host or panel.host,
                                 opts.port if opts.port is not None else panel.port)
        self.panel.start()

    def _start_demo(self) -> None:
        if self.demo:
            start_demo_session(self.store, self.sessions, self.loop)

    # ---- main thread ----

    def describe(self) -> str:
        """The one line said at start."""
        loop = self.loop
        parts_said = [f"appliance {__version__}: source {loop.source_name if loop else '?'}"]
        if self.embedded:
            parts_said = [f"appliance {__version__}: no camera found, running the embedded default: simulated runner"
                          f" at {self.sim_source.speed:g}x, mock GPIO"]
        if self.audio_path is not None:
            parts_said.append(f"audio to {self.audio_path}")
        elif self.audio is not None:
            parts_said.append(f"audio {self.audio.sink}")
        if self.panel_url:
            parts_said.append(f"panel on {self.panel_url}")
        if self.demo:
            parts_said.append(f"a demo session for '{DEMO_RUNNER}' starts by itself")
        return ", ".join(parts_said)

    def run(self, duration_s: float | None, stop: threading.Event) -> int:
        """Watch the loop until ``stop``, the end of ``duration_s`` or the end of the source; returns
        the exit status (non-zero when the loop failed)."""
        return watch(self.loop, self.notifier, self.loop_healthy, duration_s, stop)

    def loop_healthy(self) -> bool:
        """True while the loop ticks: it processed a frame within ``session.watchdog_stall_seconds``."""
        return loop_healthy(self.loop, self.settings)

    def _status_line(self) -> str:
        return status_line(self.snapshot())

    # ---- shutdown ----

    def shutdown(self, reason: str = "appliance stopped") -> None:
        """Stop everything in order within about two seconds; an active session is stored as interrupted."""
        with self._shutdown_lock:
            if self._stopped:
                return
            self._stopped = True
        self.notifier.stopping("stopping")
        t0 = time.monotonic()
        if self.panel is not None:
            self.panel.stop_accepting()
        if self.loop is not None:
            stop_loop(self.loop, self.sessions, reason)
        if self.heavy_worker is not None:
            self.heavy_worker.close(drop_waiting=True)
        if self.rear is not None:
            self.rear.stop(timeout=0.5)
        if self.capture is not None:
            self.capture.stop(timeout=0.5)
        elif self.source is not None:  # start() failed before the capture thread existed
            self.source.close()
        parts.close_outputs(button=self.button, lights=self.lights, audio=self.audio)
        if self.panel is not None:
            self.panel.join(timeout=max(0.1, 1.5 - (time.monotonic() - t0)))
        if self.upkeep is not None:
            self.upkeep.stop(timeout=0.5)
        if self.store_if_open is not None:
            self.store_if_open.close()
        self.notifier.close()
        log.info("stopped in %.2f s", time.monotonic() - t0)
