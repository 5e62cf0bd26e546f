"""The control loop: one thread at the camera's rate, one tick per frame.

Each tick takes the newest frame from the capture thread and runs, in order: pose (the pose
provider: the TFLite engine, or a pass-through of the pose the frame carries), the foot stage (on
frames with pixels), gait, presence, the session and its coach,
the outputs, and the store. Commands from the panel and the button, and new settings, are
applied at the start of a tick, so a tick always sees one consistent state. Every event time is
the frame's capture time.

The loop publishes a ``LiveSnapshot`` (copy-on-write: the panel reads the last one, never waits)
and keeps ``LoopMonitor`` figures: loop period and jitter, stage times, dropped frames and
deadline misses.

A stage that raises (pose, feet, gait, coach, record, outputs) does not end the loop: that frame's
result is dropped, cues are paused while it fails, each kind of error is logged once and every
failure counted (``StageFaults``, on Live and Health). Only a stage failing on every frame for
``STAGE_GIVE_UP_S`` ends the loop (the process exits and systemd restarts it), and the runtime
lets the appliance go on without that stage when the same failure follows a restart (a restart
loop helps nobody; the panel stays up to change the setting that causes it).
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

from appliance.config import SessionSettings
from appliance.hardware import PoseProvider
from appliance.outputs.cue_player import CuePlayer
from appliance.runtime.capture import LatestFrameCapture
from appliance.runtime.controller import LiveSnapshot, LoopStats, RunnerRef
from appliance.runtime.presence import PresenceDetector
from appliance.runtime.session import SessionEvent, SessionMachine, SessionService
from appliance.runtime.stats import LoopMonitor, StageFaults
from appliance.types import UNSTEADY_FOOT_SPREAD_DEG, Frame, Pose, Step

log = logging.getLogger(__name__)

SNAPSHOT_EVERY_S = 0.05  # publish the live snapshot at most 20 times per (wall) second
# Cues that follow from the measured steps: not given while a stage fails (the metronome, set by the
# programme and not by the steps, goes on).
PAUSED_CUE_KINDS = frozenset({"cue_given", "light_band", "light_flag"})


class StageGaveUp(RuntimeError):
    """A stage failed on every frame for too long: the loop stops (the process exits, systemd restarts it)."""


class _FrameDropped(Exception):
    """A stage failed on this frame: the rest of its processing is skipped."""


@dataclass
class LastFrame:
    """What the camera snapshot needs: the newest image (None for the simulated runner) and pose."""

    t: float
    image: Any
    pose: Pose | None
    image_size: tuple[int, int]
    gait: Any = None  # the tracker's GaitState after this frame (belt line for the drawing)


class ControlLoop:
    """The per-tick pipeline and its thread. Build it with the parts, then ``start()``."""

    def __init__(
        self,
        capture: LatestFrameCapture,
        frame_period_s: float,
        pose: PoseProvider,
        make_tracker: Callable[[Any], Any],
        session_settings: SessionSettings,
        sessions: SessionService,
        outputs: CuePlayer,
        store: Any,
        selected_runner: Callable[[], int | None],
        source_name: str,
        stats_window: int = 300,
        time_scale: float = 1.0,
        foot_stage: Any | None = None,
        looks: Any | None = None,
        faults: StageFaults | None = None,
    ):
        """``pose`` turns each frame into a pose (``appliance.hardware.PoseProvider``: the TFLite
        engine, or a pass-through for frames that carry their pose). ``time_scale``: real seconds per
        source second (a slow-motion clip). The pose provider sees the source's own times (its filter is tuned to them, as in ``appliance analyze``); everything
        after it sees real time. ``foot_stage`` (a FootStage, or None: contacts from the landmarks
        alone) reads the pixels around the feet of camera frames; ``looks`` (ContactLooks, or None)
        reads each contact's angles with the heavy model on the frames around it. ``faults`` counts
        the stages' failures; ``on_stage_gave_up(fault)`` (set by the runtime) decides whether a stage
        failing on every frame ends the loop (True) or the appliance goes on without it (False);
        ``on_stage_recovered(stage)`` is told when a failing stage works again. The loop owns the
        session machine (``session``): it runs on this thread, asks ``sessions`` for the stored
        session and its coach, and hands calibration poses back to this loop's tracker."""
        self.capture = capture
        self.pose = pose
        self.make_tracker = make_tracker
        self.tracker = make_tracker(None)
        self.session = SessionMachine(session_settings, sessions, self.calibrate)
        self.outputs = outputs
        self.store = store
        self.selected_runner = selected_runner
        self.source_name = source_name
        self.time_scale = time_scale
        self.foot_stage = foot_stage
        self.looks = looks
        self.rear = None  # the rear camera (appliance.frontal.rear_camera), set by the runtime when configured
        self.video = None  # the sessions' video kept on the device (runtime.session_video), set by the runtime
        self.presence = PresenceDetector()
        self.monitor = LoopMonitor(frame_period_s, window=stats_window)
        self.faults = faults or StageFaults()
        self.on_stage_gave_up: Callable[[Any], bool] | None = None
        self.on_stage_recovered: Callable[[str], Any] | None = None
        self.last_frame: LastFrame | None = None
        self.t: float | None = None  # capture time of the newest frame processed
        self.finished = threading.Event()
        self.error: BaseException | None = None
        self.stopping = threading.Event()
        self._commands: queue.Queue[tuple[Callable[[float], Any], Future]] = queue.Queue()
        self._after_first_tick: list[Callable[[float], Any]] = []
        self._snapshot = LiveSnapshot(source=source_name)
        self._snapshot_wall = 0.0
        self._index_offset = 0  # a tracker replaced mid-session (calibration) continues the step numbering
        self._next_index = 0
        self._last_cadence: float | None = None
        self._last_valid: Step | None = None
        self._on_target_share: float | None = None  # of the current (or last) session, as the coach judged it
        self._thread = threading.Thread(target=self._run, name="control-loop", daemon=True)

    # ---- thread ----

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 1.5) -> None:
        self.stopping.set()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        self.monitor.mark_started()
        try:
            while not self.stopping.is_set():
                frame = self.capture.take(timeout=0.1)
                if frame is None:
                    self._run_commands()
                    if self.capture.error is not None:
                        raise self.capture.error
                    if self.capture.exhausted:
                        log.info("frame source %s ended", self.source_name)
                        break
                    continue
                self.tick(frame)
        except StageGaveUp as e:
            self.error = e
            log.critical("%s", e)
        except BaseException as e:
            self.error = e
            log.exception("control loop stopped: %s", e)
        finally:
            self._fail_pending_commands()
            self.finished.set()

    # ---- commands (other threads) ----

    def call(self, fn: Callable[[float], Any], timeout: float = 3.0) -> Any:
        """Run ``fn(capture_time)`` on the loop thread at the next tick boundary and return its result
        (or raise its exception). Used by the panel's and the button's commands."""
        if self.finished.is_set():
            raise RuntimeError("the control loop is not running")
        fut: Future = Future()
        self._commands.put((fn, fut))
        return fut.result(timeout)

    def post(self, fn: Callable[[float], Any]) -> None:
        """Like ``call`` without waiting (gpiozero callbacks); errors are logged."""
        fut: Future = Future()
        fut.add_done_callback(lambda f: f.exception() and log.error("command failed: %s", f.exception()))
        self._commands.put((fn, fut))

    def post_when_ticking(self, fn: Callable[[float], Any]) -> None:
        """Like ``post``, but not before the first frame has come (it then runs before that frame is
        processed): the demo session of an appliance stopped before any frame stores nothing."""
        if self.monitor.ticks > 0:
            self.post(fn)
        else:
            self._after_first_tick.append(fn)

    def _run_commands(self) -> None:
        done: list[tuple[Future, Any, BaseException | None]] = []
        while True:
            try:
                fn, fut = self._commands.get_nowait()
            except queue.Empty:
                break
            try:
                done.append((fut, fn(self.t if self.t is not None else 0.0), None))
            except BaseException as e:
                done.append((fut, None, e))
        if not done:
            return
        self._publish(force=True)  # the caller reads the snapshot as soon as its command returns
        for fut, result, err in done:
            if err is None:
                fut.set_result(result)
            else:
                fut.set_exception(err)

    def _fail_pending_commands(self) -> None:
        while True:
            try:
                _, fut = self._commands.get_nowait()
            except queue.Empty:
                return
            fut.set_exception(RuntimeError("the control loop has stopped"))

    # ---- one tick ----

    def tick(self, frame: Any) -> None:
        """Process one frame (public for tests and the benchmark). A stage that raises drops the rest
        of this frame's processing (its result), pauses the cues, and is counted (``faults``)."""
        m = self.monitor
        m.begin_tick()
        while self._after_first_tick:  # the first frame is here: run them before it is processed
            self.post(self._after_first_tick.pop(0))
        self._run_commands()
        t = frame.t * self.time_scale
        self.t = t
        m.stage("frame_age", self.capture.taken_age_s * 1000)  # newest frame's wait in the slot
        try:
            self._process(frame, t)
        except _FrameDropped:
            pass
        m.end_tick(dropped_total=self.capture.dropped)
        self._publish()
        if self.faults._faults:
            self._check_give_up()

    def _stage_failed(self, stage: str, err: Exception) -> None:
        if self.faults.failed(stage, err):
            log.error("the %s stage failed (%s: %s): the frame's result is dropped and cues are paused while "
                      "it fails; logged once per kind, counted on the Health page", stage, type(err).__name__, err,
                      exc_info=err)

    def _stage_ok(self, stage: str) -> None:
        ended = self.faults.succeeded(stage)
        if ended:
            log.warning("the %s stage works again after failing on %d frames in a row", stage, ended)
            if self.on_stage_recovered is not None:
                self.on_stage_recovered(stage)

    def _check_give_up(self) -> None:
        fault = self.faults.failing_too_long()
        if fault is None:
            return
        if self.on_stage_gave_up is not None and not self.on_stage_gave_up(fault):
            self.faults.keep_running(fault.stage)
            return
        raise StageGaveUp(f"the {fault.stage} stage failed on every frame for {self.faults.give_up_s:g} s "
                          f"({fault.run_failures} frames; {fault.last_error}): the control loop stops and the "
                          "appliance exits so that systemd restarts it")

    def _process(self, frame: Any, t: float) -> None:
        m = self.monitor
        try:
            pose = self.pose.process(frame)
        except Exception as e:
            self._stage_failed("pose", e)
            raise _FrameDropped from e
        self._stage_ok("pose")
        for name, ms in self.pose.stage_ms().items():
            m.stage(name, ms)
        if pose is not None and self.time_scale != 1.0:
            pose = replace(pose, t=t)
        size, image = frame.size, frame.image  # image None: a frame that is its pose (the simulated runner)
        feet = None
        if image is not None and (self.foot_stage is not None or self.looks is not None):
            real = Frame(t, frame.index, image) if self.time_scale != 1.0 else frame
            try:
                if self.foot_stage is not None:
                    with m.timed("feet"):
                        feet = self.foot_stage.update(real, pose)
                if self.looks is not None:
                    with m.timed("looks"):
                        self.looks.add_frame(real, self.pose.last_roi if pose is not None else None)
                        for look in self.looks.results():
                            self.tracker.apply_look(look)
            except Exception as e:
                self._stage_failed("feet", e)
                raise _FrameDropped from e
            self._stage_ok("feet")
        try:
            with m.timed("gait"):
                steps = self.tracker.update(pose, t, frame.index, feet)
                if self.looks is not None:
                    for step in steps:
                        if not step.final:
                            self.looks.request(self.tracker.look_request(step))
                gait_state = self.tracker.state
                moving = gait_state.moving
                if self._index_offset and steps:
                    steps = [replace(s, index=s.index + self._index_offset) for s in steps]
            presence = self.presence.update(t, pose is not None, [s for s in steps if not s.final], moving)
        except Exception as e:
            self._stage_failed("gait", e)
            raise _FrameDropped from e
        self._stage_ok("gait")
        with m.timed("session"):
            active_before, phase_before = self.session.active, self.session.phase
            try:
                events = self.session.update(t, pose, steps, presence, self.presence.held_for(t),
                                             self.selected_runner())
            except Exception as e:  # the steps measured are still recorded below
                self._stage_failed("coach", e)
                events = []
            else:
                self._stage_ok("coach")
            if events and self.faults.active():
                events = self._pause_cues(events)
            try:
                self._record(active_before, events, steps, phase_before)
            except Exception as e:
                self._stage_failed("record", e)
            else:
                self._stage_ok("record")
        if self.rear is not None:
            try:
                with m.timed("frontal"):
                    self._frontal(steps)
            except Exception as e:
                self._stage_failed("frontal", e)
            else:
                self._stage_ok("frontal")
        try:
            with m.timed("outputs"):
                self.outputs.handle(events)
                self.outputs.tick(t, in_session=self.session.active is not None or self.session.phase == "summary")
        except Exception as e:
            self._stage_failed("outputs", e)
        else:
            self._stage_ok("outputs")
        if self.video is not None:
            active = self.session.active
            self.video.offer(active.session_id if active is not None else None, image, t)
        self.last_frame = LastFrame(t, image, pose, size, gait_state)

    def _frontal(self, steps: list[Step]) -> None:
        """The rear camera (its own threads): hand it this tick's finished stances, and give the
        stances it has measured to the session's coach and record them."""
        for step in steps:
            if step.final and step.t_to is not None and math.isfinite(step.t_to):
                self.rear.add_contact(step.foot, step.t_ic, step.t_to)
        stances = self.rear.poll()
        active = self.session.active
        if active is None:
            return
        for stance in stances:
            if active.coach is not None:
                active.coach.on_frontal(stance)
            self.store.record_frontal(active.session_id, stance)

    def _pause_cues(self, events: list[SessionEvent]) -> list[SessionEvent]:
        """While a stage fails the measures are not to be trusted: no cue is given (nor recorded)."""
        kept = [e for e in events if e.kind not in PAUSED_CUE_KINDS]
        self.faults.cues_paused += len(events) - len(kept)
        return kept

    def session_command(self, what: str, *args: Any) -> None:
        """Run the session machine's ``what`` (pause, resume, stop, toggle) with ``args`` on the loop
        thread, then record and execute its events."""
        before = self.session.active
        self.dispatch(before, getattr(self.session, what)(*args))

    def dispatch(self, active_before, events: list[SessionEvent]) -> None:
        """Record and execute the events of a command (start, pause, stop...) run on the loop thread."""
        self._record(active_before, events, [], self.session.phase)
        self.outputs.handle(events)

    def _record(self, active_before, events: list[SessionEvent], steps: list[Step], phase_before: str) -> None:
        """Record this tick's steps and events in the session they belong to; keep the live figures."""
        a = self.session.active or active_before
        if a is None:
            return
        sid = a.session_id
        coach = a.coach
        block = coach.block if coach is not None else None
        feedback_on = block is not None and block.kind == "feedback_on" and a.paused_since is None
        phase = self.session.phase if self.session.active is not None else phase_before  # steps of the last tick
        if any(e.kind == "session_start" for e in events):
            # A new runner: fresh belt, identity and calibration; this tick's steps were before the start.
            self._last_valid = None
            self._last_cadence = None
            self._on_target_share = None
            self.tracker = self.make_tracker(None)
            self._index_offset = self._next_index = 0
            steps = []
        for step in steps:
            self._next_index = max(self._next_index, step.index + 1)
            self.store.record_step(sid, step, phase=phase, feedback_on=feedback_on)
            log.debug("session %d step %d recorded (t_ic %.3f, final %s)", sid, step.index, step.t_ic, step.final)
            if step.final or not step.valid:
                continue
            self._last_valid = step
            if math.isfinite(step.cadence_spm):
                self._last_cadence = step.cadence_spm
        for e in events:
            self.store.record_cue(sid, e.t, e.kind, e.payload)

    def calibrate(self, poses: list[Pose]) -> bool:
        """Calibrate the gait tracker from standing poses (the session machine's callback)."""
        from appliance.gait import CalibrationError, calibrate

        try:
            calibration = calibrate(poses, settings=self.tracker.settings)  # the session's gait settings
        except CalibrationError as e:
            log.warning("calibration refused: %s", e)
            return False
        self.tracker = self.make_tracker(calibration)
        self._index_offset = self._next_index
        log.info("calibrated: flat foot %.1f deg, leg %.0f px, facing %s", calibration.flat_foot_angle_deg,
                 calibration.leg_length_px, calibration.direction)
        return True

    # ---- snapshot ----

    def snapshot(self) -> LiveSnapshot:
        """The last published snapshot, with what is true now whether or not the loop ticks: the time
        since the last tick (a stalled loop shows 0 Hz) and whether recording fails."""
        snap = self._snapshot
        update: dict[str, Any] = {"loop": self.monitor.with_stall(snap.loop)}
        fault = getattr(self.store, "write_fault", None)
        if fault is not None:
            sentence = fault.sentence(self.store.path.parent)
            update["recording_fault"] = sentence
            if snap.message is None:
                update["message"] = sentence
        stage_fault = self.faults.sentence() if self.faults._faults else None
        if stage_fault is not None:  # before the session's message: it may not be true while a stage fails
            update["stage_fault"] = update["message"] = stage_fault
        return snap.model_copy(update=update)

    def stats(self) -> LoopStats:
        return self.monitor.summary()

    def _publish(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._snapshot_wall < SNAPSHOT_EVERY_S:
            return
        self._snapshot_wall = now
        s = self.session
        t = self.t if self.t is not None else 0.0
        a = s.active
        status = s.status(t)
        coach = a.coach if a is not None else None
        bands = coach.bands if coach is not None else {}
        cadence_band = bands.get("cadence")
        overstride = bands.get("overstride")
        strike_target = coach.targets.strike.aim if coach is not None and coach.targets.strike is not None else None
        last = self._last_valid
        if coach is not None:
            self._on_target_share = coach.on_target_share()  # kept for the summary after the session
        self._snapshot = LiveSnapshot(
            runner=RunnerRef(id=a.runner_id, name=a.runner_name) if a else None,
            session_id=a.session_id if a else (s.last_session_id if s.phase == "summary" else None),
            phase=s.phase,
            phase_before_pause=a.phase_before_pause if a else None,
            phase_time_left_s=_round(status.get("phase_time_left_s")),
            session_time_left_s=_round(status.get("session_time_left_s")),
            feedback_on=bool(status.get("feedback_on")),
            metronome_bpm=self.outputs.metronome_bpm,
            cadence_spm=_round(self._last_cadence) if a else None,
            cadence_target_spm=_round(cadence_band.target) if cadence_band else None,
            cadence_band=(cadence_band.lo, cadence_band.hi) if cadence_band else None,
            strike=last.strike if last else None,
            foot_strike_angle_deg=_round(last.foot_strike_angle_deg) if last else None,
            strike_target=strike_target,
            strike_unsteady=bool(last and last.strike_spread_deg >= (
                coach.settings.strike_max_spread_deg if coach is not None else UNSTEADY_FOOT_SPREAD_DEG)),
            shank_angle_deg=_round(last.shank_angle_deg) if last else None,
            overstride_band=(0.0, overstride.hi) if overstride else None,
            on_target_share=_round(self._on_target_share, 3),
            steps=a.steps if a else 0,
            runner_presence=self.presence.state,
            source=self.source_name,
            message=s.message,
            loop=self.monitor.summary(),
        )


def _round(x: float | None, digits: int = 2) -> float | None:
    if x is None or not isinstance(x, int | float) or not math.isfinite(x):
        return None
    return round(float(x), digits)
