"""What the panel (``appliance.web``) steers: the runtime's ``ApplianceController``.

``PanelController`` answers the panel's calls on a started ``Runtime``: the live snapshot and the
health page (copies, never waiting for the loop), settings changes (saved and recorded at once,
applied on the loop thread at the next tick), starting, pausing, resuming and stopping a session and
testing an output (run on the loop thread at a tick boundary, refusals as ``ControllerError``), and
the set-up camera view.
"""

from __future__ import annotations

import logging
import shutil
import time
from typing import TYPE_CHECKING, Any

from appliance import __version__
from appliance.config import Settings
from appliance.runtime.controller import (
    CameraSnapshot,
    ControllerError,
    Health,
    LiveSnapshot,
    OutputKind,
    RearCameraSnapshot,
)
from appliance.runtime.host import cpu_temperature_c, pi_throttled
from appliance.runtime.parts import tracker_factory
from appliance.runtime.session import SessionCommandError
from appliance.runtime.settings_changes import (
    StartedWith,
    needs_restart,
    save_settings_file,
    settings_diff,
    started_with,
)
from appliance.runtime.watchdog import loop_healthy
from appliance.store import NotFound, Store, StoreError

if TYPE_CHECKING:
    from appliance.runtime.app import Runtime

log = logging.getLogger("appliance.runtime.app")  # the lines these calls log kept their logger


class PanelController:
    """The panel's calls on ``runtime``'s parts (implements ``appliance.runtime.controller.ApplianceController``)."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def store(self) -> Store:
        return self.runtime.store

    def apply_settings(self, new: Settings, who: str) -> None:
        rt = self.runtime
        old = rt.settings
        diff = settings_diff(old, new)
        if not diff:
            return
        save_settings_file(new, rt.config_path)  # the saved values: a command-line one is never written
        self.store.record_settings_change(who, diff)
        rt.settings = new
        log.info("settings changed by %s: %s", who, ", ".join(diff))
        if rt.loop is not None:
            rt.loop.post(lambda t: self._apply_at_tick(old, new, diff, t))

    def started_with(self) -> StartedWith:
        """The settings ``appliance run``'s options overrode at start and the settings file in use
        (the Settings page shows the values in force beside the saved ones)."""
        rt = self.runtime
        url = rt.panel_url
        bound_port = int(url.rsplit(":", 1)[1]) if url else None
        return started_with(rt.settings, rt.options, rt.config_path, bound_port)

    def snapshot(self) -> LiveSnapshot:
        loop = self.runtime.loop
        return loop.snapshot() if loop is not None else LiveSnapshot()

    def frontal_live(self):
        """The mirror page's view: the rear camera's newest pose and the session coach's band."""
        from appliance.frontal.live import frontal_live

        loop = self.runtime.loop
        active = loop.session.active if loop is not None else None
        return frontal_live(self.runtime.rear, active.coach if active is not None else None)

    def start_session(self, runner_id: int) -> int:
        try:
            runner = self.store.get_runner(runner_id)
        except NotFound as e:
            raise ControllerError(str(e)) from e
        if runner.archived:
            raise ControllerError(f"{runner.name} is archived; restore them before starting a session")
        loop = self.runtime.loop

        def start(t: float) -> int:
            machine = loop.session
            before = machine.active
            session_id, events = machine.start(runner_id, t)
            loop.dispatch(before, events)
            return session_id

        return self._loop_call(start)

    def pause_session(self) -> None:
        self._loop_call(lambda t: self.runtime.loop.session_command("pause", t))

    def resume_session(self) -> None:
        self._loop_call(lambda t: self.runtime.loop.session_command("resume", t))

    def stop_session(self) -> None:
        self._loop_call(lambda t: self.runtime.loop.session_command("stop", t))

    def test_output(self, kind: OutputKind) -> None:
        self._loop_call(lambda t: self.runtime.loop.outputs.test_output(kind, t))

    def camera_snapshot(self) -> CameraSnapshot:
        from appliance.runtime.camera_view import render_snapshot

        loop = self.runtime.loop
        last = loop.last_frame if loop is not None else None
        if last is None:
            raise ControllerError("no camera frame yet: the camera is starting or delivers no images")
        state = last.gait
        belt = (state.belt_slope, state.belt_intercept_px) if state is not None and state.belt_slope is not None else None
        step = state.last_step if state is not None else None
        return render_snapshot(last.image, last.pose, last.image_size, belt, last.t, simulated=last.image is None,
                               foot_spread_deg=step.strike_spread_deg if step is not None else None)

    def rear_camera_snapshot(self) -> RearCameraSnapshot:
        """The rear camera's newest image with its framing advice (its own thread's latest; never waits)."""
        from appliance.runtime.camera_view import render_rear_snapshot

        return render_rear_snapshot(self.runtime.rear)

    def health(self) -> Health:
        rt = self.runtime
        loop = rt.loop
        stats = loop.monitor.with_stall(loop.stats()) if loop is not None else None
        store = rt.store_if_open
        fault = store.write_fault if store is not None else None
        return Health(
            loop_hz=stats.fps if stats else 0.0,
            loop_healthy=loop_healthy(loop, rt.settings),
            dropped_frames=stats.dropped_frames if stats else 0,
            deadline_misses=stats.deadline_misses if stats else 0,
            cpu_temperature_c=cpu_temperature_c(),
            throttled=pi_throttled(),
            disk_free_bytes=shutil.disk_usage(rt.data_dir).free,
            version=__version__,
            uptime_s=round(time.monotonic() - rt.started_wall, 1),
            source=loop.source_name if loop is not None else "",
            model_loaded=rt.model_loaded,
            backup=rt.upkeep.status if rt.upkeep is not None else None,
            recording_fault=fault.sentence(rt.data_dir) if fault is not None else None,
            writes_waiting=fault.waiting if fault is not None else 0,
            writes_lost=store.writes_dropped if store is not None else 0,
            stage_fault=loop.faults.sentence() if loop is not None else None,
            stage_faults=loop.faults.report() if loop is not None else [],
            cues_paused=loop.faults.cues_paused if loop is not None else 0,
        )

    # ---- on the loop thread ----

    def _loop_call(self, fn) -> Any:
        """Run ``fn(t)`` on the loop thread at the next tick boundary; its refusals as ControllerError."""
        loop = self.runtime.loop
        if loop is None:
            raise ControllerError("the appliance is still starting")
        try:
            return loop.call(fn)
        except (SessionCommandError, StoreError) as e:
            raise ControllerError(str(e)) from e
        except TimeoutError as e:
            raise ControllerError("the control loop did not answer within 3 s; see the health page") from e
        except (RuntimeError, ValueError) as e:
            raise ControllerError(str(e)) from e

    def _apply_at_tick(self, old: Settings, new: Settings, diff: dict[str, list[Any]], t: float) -> None:
        """The new settings reach the running parts, between two ticks."""
        rt = self.runtime
        loop = rt.loop
        loop.session.settings = new.session
        if new.gait != old.gait:
            loop.tracker.settings = new.gait
            loop.make_tracker = tracker_factory(new)
            rt.sessions.strike_classes = new.gait
        if not rt.demo:
            rt.sessions.coach_settings = new.coach  # the next session's coach
        if rt.audio is not None and new.audio.volume != old.audio.volume:
            rt.audio.set_volume(new.audio.volume)
        if rt.lights is not None and new.lights.brightness != old.lights.brightness:
            rt.lights.set_brightness(new.lights.brightness, t)
        if rt.lights is not None:
            rt.lights.pulse_on_beat = new.lights.pulse_on_beat
        later = [k for k in diff if needs_restart(k)]
        if later:
            log.warning("these settings take effect after a restart of the appliance: %s", ", ".join(later))


class ForwardsPanelCalls:
    """The panel's calls made on the ``Runtime`` itself (tests, the benchmark), answered by its
    ``controller``: a Runtime is an ``ApplianceController`` too."""

    controller: PanelController

    def apply_settings(self, new: Settings, who: str) -> None:
        self.controller.apply_settings(new, who)

    def started_with(self) -> StartedWith:
        return self.controller.started_with()

    def snapshot(self) -> LiveSnapshot:
        return self.controller.snapshot()

    def frontal_live(self):
        return self.controller.frontal_live()

    def start_session(self, runner_id: int) -> int:
        return self.controller.start_session(runner_id)

    def pause_session(self) -> None:
        self.controller.pause_session()

    def resume_session(self) -> None:
        self.controller.resume_session()

    def stop_session(self) -> None:
        self.controller.stop_session()

    def test_output(self, kind: OutputKind) -> None:
        self.controller.test_output(kind)

    def camera_snapshot(self) -> CameraSnapshot:
        return self.controller.camera_snapshot()

    def rear_camera_snapshot(self) -> RearCameraSnapshot:
        return self.controller.rear_camera_snapshot()

    def health(self) -> Health:
        return self.controller.health()
