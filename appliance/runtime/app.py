"""``appliance run`` as an object: the start-up sequence (``start``: each step a named method, called
in order) and the shutdown sequence (``shutdown``), both read top to bottom.

Threads: the capture thread (newest frame only), the control loop (every tick), the store's writer,
the data upkeep (backups, retention), uvicorn (the panel), gpiozero's (the button). The main thread
starts everything, pings the systemd watchdog while the loop is healthy, writes STATUS lines
(``watchdog.py``), and shuts down on SIGTERM or at the end of ``--duration``. Commands from the panel
(``panel_controller.py``) and the button run on the loop thread at a tick boundary; the session
machine asks ``session_service.py`` for the stored session and its coach.

The hardware is chosen once (``appliance.hardware.open_hardware``): real, or the simulator. On a
machine without a camera (``--source auto``) that is the embedded default: the simulated runner
(sped up), mock GPIO, audio rendered to WAV files under the data dir, the panel on localhost, and a
short demo session that starts by itself (``demo.py``). Nothing here asks which one it is.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from appliance.config import Settings
from appliance.errors import ApplianceError
from appliance.feet.stage import FootStage
from appliance.hardware import Frames, Hardware, open_hardware
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
        self.store_if_open: Store | None = None
        self.upkeep = None  # the scheduled backup and retention (data_upkeep.py)
        self.hardware: Hardware | None = None  # real or simulated, chosen once (appliance.hardware)
        self.frames: Frames | None = None
        self.audio = self.lights = self.button = self.heavy_worker = None
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

    @property
    def demo(self) -> bool:
        """A demo session starts by itself (the embedded default, or ``--demo``)."""
        return self.hardware is not None and self.hardware.demo

    @property
    def model_loaded(self) -> bool:
        """A pose model runs on the frames (the Health page)."""
        return self.frames is not None and self.frames.pose.model_loaded

    # ---- start ----

    def start(self) -> None:
        """Open everything and start the threads; raises ``StartupError`` (message and fix) when it cannot."""
        from appliance.gait import GaitTracker  # noqa: F401  (fail early when the gait package is broken)

        try:
            self._open_store()  # in the data directory, made when missing
            self._start_data_upkeep()
            self._choose_hardware()
            self._open_frames()
            self._open_rear_camera()
            self._open_outputs()
            self._build_loop()
            self._open_button()
            self._start_panel()  # bound before any session can start: a panel that cannot listen leaves none behind
        except StartupError:
            raise
        except ApplianceError as e:  # a part that cannot open says what and how to fix it
            raise StartupError(e.message, e.fix) from e
        self._start_demo()
        self.capture.start()
        self.loop.start()

    def _open_store(self) -> None:
        self.store_if_open = parts.open_store(self.data_dir)

    def _start_data_upkeep(self) -> None:
        from appliance.runtime.data_upkeep import DataUpkeep

        self.upkeep = DataUpkeep(self.store, lambda: self.settings, self.data_dir, self.config_path)
        self.upkeep.start()

    def _choose_hardware(self) -> None:
        opts = self.options
        self.hardware = open_hardware(self.settings, opts.source, self.data_dir, speed=opts.speed, demo=opts.demo,
                                      sim_absences=opts.sim_absences, warn_no_camera=self.notifier.enabled)

    def _open_frames(self) -> None:
        self.frames = self.hardware.open_frames(self.options.replay, self.options.time_scale)

    def _open_rear_camera(self) -> None:
        self.rear = self.hardware.open_rear_camera(self.options.replay)

    def _open_outputs(self) -> None:
        self.audio = self.hardware.audio.open()
        self.lights = self.hardware.lights.open()

    def _build_loop(self) -> None:
        s, opts, frames = self.settings, self.options, self.frames
        self.sessions = SessionService(self.store, frames.source.name, s.coach, s.gait)
        self.capture = LatestFrameCapture(frames.source, lockstep=frames.lockstep)
        outputs = self.hardware.cue_player(self.audio, self.lights)
        looks = None
        if frames.pixels:  # the foot stage and the heavy model look at the images
            looks, self.heavy_worker = parts.open_looks(s, frames.lockstep)
        self.loop = ControlLoop(self.capture, frames.frame_period_s, frames.pose, parts.tracker_factory(s),
                                s.session, self.sessions, outputs, self.store, lambda: self.settings.session.runner_id,
                                frames.source.name, stats_window=opts.stats_window, time_scale=frames.time_scale,
                                foot_stage=FootStage() if frames.pixels and s.gait.foot_stage else None, looks=looks)
        memory = StageFaultMemory(self.data_dir, self.started_epoch)
        self.loop.rear = self.rear
        self.loop.video = parts.session_video(lambda: self.settings, self.data_dir, frames)
        self.loop.on_stage_gave_up = memory.gave_up
        self.loop.on_stage_recovered = memory.recovered

    def _open_button(self) -> None:
        press, hold = parts.button_actions(self.loop, lambda: self.settings.session.runner_id)
        self.button = self.hardware.button.open(on_press=press, on_hold=hold)

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
        parts_said = [self.hardware.describe()]
        audio = self.hardware.audio_said(self.audio)
        if audio:
            parts_said.append(audio)
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
        if self.capture is not None:  # before the rear camera: a simulated rear view waits on the side's clock
            self.capture.stop(timeout=0.5)
        elif self.frames is not None:  # start() failed before the capture thread existed
            self.frames.source.close()
        if self.rear is not None:
            self.rear.stop(timeout=0.5)
        parts.close_outputs(button=self.button, lights=self.lights, audio=self.audio)
        if self.panel is not None:
            self.panel.join(timeout=max(0.1, 1.5 - (time.monotonic() - t0)))
        if self.upkeep is not None:
            self.upkeep.stop(timeout=0.5)
        if self.store_if_open is not None:
            self.store_if_open.close()
        self.notifier.close()
        log.info("stopped in %.2f s", time.monotonic() - t0)
