"""The contract between the runtime (which runs the control loop) and the panel (which shows and steers it).

``ApplianceController`` is what ``appliance.web.app.create_app(controller, data_dir)`` receives. The
runtime's implementation is ``appliance.runtime.panel_controller.PanelController`` (a ``Runtime``
forwards the same calls to it); the panel's own tests may use a real controller on the simulated
runner or a small fake implementing this protocol.

Rules both sides keep:
- ``snapshot()`` and ``health()`` are cheap and thread-safe: they copy a value the loop publishes and
  never wait for the loop.
- State-changing calls that are refused in the current state raise ``ControllerError`` with a
  sentence the panel shows as it is (HTTP 409).
- ``apply_settings`` persists atomically at once and the loop applies the new settings at its next
  tick boundary; pydantic has already rejected invalid values.
- Changes to this file after the first commit only add optional things.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from appliance.errors import ApplianceError
from appliance.store.backup_schedule import BackupStatus

if TYPE_CHECKING:
    from appliance.config import Settings
    from appliance.store import Store

Phase = Literal["idle", "calibrating", "warmup", "feedback", "no_feedback", "retention", "summary", "paused"]
Presence = Literal["absent", "standing", "walking", "running"]
OutputKind = Literal["speaker", "voice", "lights"]

PHASES: tuple[str, ...] = ("idle", "calibrating", "warmup", "feedback", "no_feedback", "retention", "summary", "paused")
PRESENCES: tuple[str, ...] = ("absent", "standing", "walking", "running")


class ControllerError(ApplianceError):
    """A request the appliance refuses in its current state; ``str(e)`` is a sentence for the clinician."""


class RunnerRef(BaseModel):
    id: int
    name: str


class LoopStats(BaseModel):
    """How the control loop keeps up, measured continuously since the start of the process."""

    fps: float = Field(0.0, description="Ticks per second over the last few seconds")
    period_ms: float = Field(0.0, description="Median loop period over the last few seconds")
    jitter_ms: float = Field(0.0, description="Standard deviation of the loop period over the last few seconds")
    frames: int = Field(0, description="Frames processed since start")
    dropped_frames: int = Field(0, description="Frames the capture thread replaced before the loop took them")
    deadline_misses: int = Field(0, description="Ticks whose processing took longer than one frame period")
    stage_ms: dict[str, float] = Field(
        default_factory=dict, description="Median milliseconds per stage over the last few seconds (pose, gait, coach, ...)"
    )
    stalled: bool = Field(False, description="True when the loop has not ticked for several frame periods (fps is then 0)")
    since_last_tick_s: float | None = Field(None, description="Seconds since the loop last processed a frame")


class StageFault(BaseModel):
    """Failures of one stage of the control loop since the start (a failed frame's result is dropped)."""

    stage: str = Field(description="pose, feet, gait, coach, record or outputs")
    failures: int = Field(0, description="Frames on which the stage failed since the start")
    kinds: dict[str, int] = Field(default_factory=dict, description="Failures per kind of error")
    last_error: str = Field("", description="The last error, as 'Kind: message'")
    seconds_since_last: float = Field(0.0, description="Seconds since the last failure")
    failing_for_s: float | None = Field(None, description="Seconds it has failed on every frame; None when it works now")
    kept_running: bool = Field(
        False, description="True when it failed the same way after a restart: the appliance goes on without it"
    )


class LiveSnapshot(BaseModel):
    """What the live view shows; the loop publishes a new one every tick."""

    time: float = Field(default_factory=time.time, description="Wall-clock time of the snapshot (epoch seconds)")
    runner: RunnerRef | None = None
    session_id: int | None = None
    phase: Phase = "idle"
    phase_before_pause: Phase | None = Field(None, description="The phase a paused session resumes into")
    phase_time_left_s: float | None = None
    session_time_left_s: float | None = None
    feedback_on: bool = False
    metronome_bpm: float | None = None
    cadence_spm: float | None = None
    cadence_target_spm: float | None = None
    cadence_band: tuple[float, float] | None = Field(None, description="(lo, hi) steps/min inside which no cue is given")
    strike: str | None = Field(None, description="Class of the last valid step: rearfoot, midfoot, forefoot or unknown")
    foot_strike_angle_deg: float | None = None
    strike_target: str | None = Field(None, description="Target strike class, or None when strike is not retrained")
    strike_unsteady: bool = Field(
        False, description="True when the last valid step's feet were seen too unsteadily to judge the strike (no strike cues)"
    )
    shank_angle_deg: float | None = None
    overstride_band: tuple[float, float] | None = Field(None, description="(lo, hi) shank angle in degrees")
    on_target_share: float | None = Field(None, description="Share (0..1) of valid steps on target in this session")
    steps: int = Field(0, description="Steps recorded in this session")
    runner_presence: Presence = "absent"
    source: str = Field("", description="Frame source in use, e.g. sim, video:clip.mp4, picamera")
    message: str | None = Field(None, description="One line for the runner/clinician, e.g. 'stand still to calibrate'")
    loop: LoopStats = Field(default_factory=LoopStats)
    recording_fault: str | None = Field(
        None, description="Set while steps cannot be stored (e.g. the disk is full): what fails and the fix"
    )
    stage_fault: str | None = Field(
        None, description="Set while a stage of the loop fails (and a second after): which, the error, cues paused"
    )


class CameraSnapshot(BaseModel):
    """The newest camera image with the skeleton and belt line drawn on it, and framing advice."""

    jpeg_base64: str = Field(description="JPEG image, base64")
    width: int
    height: int
    t: float | None = Field(None, description="Capture time of the frame (monotonic seconds)")
    advice: list[str] = Field(
        default_factory=list, description="Plain-language framing problems: feet cut off, runner too small, camera tilted"
    )
    simulated: bool = Field(False, description="True when the image is drawn from the simulated runner")


class RearCameraSnapshot(BaseModel):
    """The rear (or front) camera's newest image with the hips, knees, ankles and the hip line drawn,
    and framing advice from its landmarks (appliance.frontal.framing); or why there is none."""

    available: bool = Field(description="A rear camera is configured and delivers frames")
    message: str | None = Field(None, description="Why there is no image: no rear camera (and how to add one), or not yet")
    jpeg_base64: str | None = Field(None, description="JPEG image, base64; None without an image")
    width: int | None = None
    height: int | None = None
    t: float | None = Field(None, description="Capture time of the frame (monotonic seconds)")
    view: str | None = Field(None, description="The view set: rear (behind the runner) or front (facing the runner)")
    seen_from: str | None = Field(None, description="The view detected in the frame (rear or front); None: nobody seen")
    advice: list[str] = Field(
        default_factory=list,
        description="Plain-language framing problems: pelvis or feet out of view, camera off centre, not at hip height, "
        "runner too small, the view not the one set",
    )
    notes: list[str] = Field(default_factory=list, description="What was found: the view, the hip width, the pelvis's place")
    simulated: bool = Field(False, description="True when the image is drawn from the simulated runner")
    source: str = Field("", description="The rear camera's frame source")


class Health(BaseModel):
    loop_hz: float
    loop_healthy: bool = Field(True, description="False when the loop has not ticked for a while")
    dropped_frames: int
    deadline_misses: int
    cpu_temperature_c: float | None = Field(None, description="On the Pi; None elsewhere")
    throttled: bool | None = Field(None, description="Under-voltage or thermal throttling now or since boot (Pi only)")
    disk_free_bytes: int
    version: str
    uptime_s: float
    source: str = ""
    model_loaded: bool = False
    backup: BackupStatus | None = Field(None, description="The last scheduled backup's result; None while no backup target is set")
    recording_fault: str | None = Field(
        None, description="Set while steps cannot be stored (e.g. the disk is full): what fails and the fix"
    )
    writes_waiting: int = Field(0, description="Writes kept in memory until the database accepts them")
    writes_lost: int = Field(0, description="Writes given up since the start (memory limit, or refused at shutdown)")
    stage_fault: str | None = Field(
        None, description="Set while a stage of the loop fails (and a second after): which, the error, cues paused"
    )
    stage_faults: list[StageFault] = Field(
        default_factory=list, description="Every stage that has failed since the start, with its counts"
    )
    cues_paused: int = Field(0, description="Cues not given (nor recorded) because a stage was failing")


@runtime_checkable
class ApplianceController(Protocol):
    """What the panel may ask of the running appliance."""

    @property
    def settings(self) -> Settings:
        """The settings in force (or about to be applied at the next tick)."""
        ...

    @property
    def store(self) -> Store: ...

    def apply_settings(self, new: Settings, who: str) -> None:
        """Persist ``new`` atomically, record the change, and apply it at the next tick boundary."""
        ...

    def snapshot(self) -> LiveSnapshot: ...

    def start_session(self, runner_id: int) -> int:
        """Start a session for the runner; returns its id. ControllerError when one is running or
        the runner does not exist or is archived."""
        ...

    def pause_session(self) -> None: ...

    def resume_session(self) -> None: ...

    def stop_session(self) -> None:
        """End the running session now (it goes through summary to idle and is stored as completed
        when it reached retention, else as aborted)."""
        ...

    def test_output(self, kind: OutputKind) -> None:
        """Play a test click (speaker), a spoken prompt (voice) or flash the lights."""
        ...

    def camera_snapshot(self) -> CameraSnapshot: ...

    def rear_camera_snapshot(self) -> RearCameraSnapshot:
        """The rear camera's newest image with its framing advice (``available`` False without one)."""
        ...

    def health(self) -> Health: ...
