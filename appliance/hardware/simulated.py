"""The simulator's own hardware: every simulator special case of ``appliance run`` lives here.

``SimulatedRunnerCamera`` is the simulated treadmill runner as a camera (``sources.simulated``),
and brings the rest of a simulated appliance with it:

- its pose provider is ``PassThroughPose``: the simulated frames carry the pose the engine would
  have produced, and no image (so no foot stage and no heavy model either);
- its audio out is ``RecordedAudio``: the offline engine rendered up to every tick into WAV files
  under ``DATA_DIR/audio`` (what the session would have sounded like in real time, however fast the
  runner is simulated), rotated so the newest 10 to 20 minutes are kept;
- its lights and button are the configured ones on gpiozero's mock pins;
- its runner follows the metronome (``cue_player``), and its rear view is the same runner seen from
  behind (``rear_camera.source sim``);
- on ``--source auto`` without a camera it is the embedded default: sped up to ``DEMO_SPEED`` with a
  demo session that starts by itself.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from appliance import __version__
from appliance.checks import CheckOptions, CheckResult
from appliance.hardware import Frames, Hardware
from appliance.outputs.audio_out import open_with_prompts
from appliance.outputs.button import ButtonPart
from appliance.outputs.gpio import Pins
from appliance.outputs.lights import LightStrip
from appliance.sources.simulated import PoseFrame, SimulatedRearSource, SimulatedSource

log = logging.getLogger(__name__)

SIM_FPS = 30.0
DEMO_SPEED = 6.0  # the embedded default's 5-minute demo session in under a minute
STAND_BEFORE_RUNNING_S = 1.5  # the runner stands this much longer than the calibration needs


class PassThroughPose:
    """The pose provider for frames that carry their pose (the simulated runner's ``PoseFrame``)."""

    name = "model"
    model_loaded = False  # no model runs
    last_roi = None

    def process(self, frame: PoseFrame) -> Any:
        return frame.pose

    def stage_ms(self) -> dict[str, float]:
        return {}  # nothing computed: no pose time in the loop's figures

    def check(self, options: CheckOptions) -> CheckResult:
        return CheckResult(self.name, "SKIP", "the simulated runner's frames carry their pose (no model runs)")


class RecordedAudio:
    """The simulator's audio out: the offline engine, rendered by the cue player at every tick into
    ``DATA_DIR/audio/run-*.wav`` (``outputs.sinks.RotatingWavWriter``), or nowhere on ``audio.sink null``."""

    name = "audio"

    def __init__(self, settings, data_dir: Path) -> None:
        self.settings = settings
        self.directory = Path(data_dir) / "audio"
        self.data_dir = Path(data_dir)
        self.recording = None  # the RotatingWavWriter, once opened

    def open(self):
        """The offline engine; a recording that cannot be opened (a full disk) is said and skipped:
        the simulated session still runs, silent."""
        from appliance.outputs.engine import AudioEngine
        from appliance.outputs.sinks import AudioError, RotatingWavWriter

        s = self.settings
        if s.sink != "null":
            try:
                self.recording = RotatingWavWriter(self.directory, s.sample_rate)
            except AudioError as e:
                log.warning("%s; the simulated session's sound is not recorded", e)
        return open_with_prompts(lambda with_prompts: AudioEngine.offline(
            s, None, data_dir=self.data_dir, with_prompts=with_prompts, writer=self.recording), "the recording")

    def check(self, options: CheckOptions) -> CheckResult:
        """Whether the recordings' directory can be written."""
        if self.settings.sink == "null":
            return CheckResult(self.name, "SKIP", "audio.sink is null (the simulated runs are not recorded)")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            probe = self.directory / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:
            return CheckResult(self.name, "FAIL", f"the simulated runs' sound cannot be recorded in {self.directory}: "
                               f"{e.strerror or e}", "free space on that disk or give the appliance's user write access")
        return CheckResult(self.name, "PASS", f"the simulated runs' sound is recorded in {self.directory} (newest files kept)")


class SimulatedCameraPart:
    """The camera part of the simulator: nothing to check on this machine."""

    name = "camera"

    def check(self, options: CheckOptions) -> CheckResult:
        return CheckResult(self.name, "SKIP", "camera.source is sim (the simulated runner)")


class SimulatedRunnerCamera(Hardware):
    """The simulated runner and the simulated appliance around it (module docstring)."""

    def __init__(self, settings, data_dir: Path, embedded: bool = False, speed: float | None = None,
                 demo: bool | None = None, absences: tuple[tuple[float, float], ...] = (), pins: Pins | None = None):
        """``embedded``: chosen because ``--source auto`` found no camera; ``demo`` None: a demo session
        on the embedded default only; ``speed`` None: ``DEMO_SPEED`` for a demo, else real time."""
        self.settings = settings
        self.embedded = embedded
        self.demo = demo if demo is not None else embedded
        self.speed = speed if speed is not None else (DEMO_SPEED if self.demo else 1.0)
        self.absences = absences
        self.camera = SimulatedCameraPart()
        self.pose = PassThroughPose()
        self.audio = RecordedAudio(settings.audio, data_dir)
        self.pins = pins or Pins("mock")
        self.lights = LightStrip(settings.lights, self.pins)
        self.button = ButtonPart(settings.button, self.pins)
        self.source: SimulatedSource | None = None

    def open_frames(self, replay: str, time_scale: float) -> Frames:
        """The simulated runner at ``speed``: it stands for the calibration, then runs at 164 steps/min
        until the metronome says otherwise. A simulated camera waits for the loop (nothing real is
        lost), so a sped-up run is exact; its frames are in simulated time (``time_scale`` 1)."""
        from appliance.sim import RunnerParams

        s = self.settings
        params = RunnerParams(cadence_spm=164.0, stand_s=s.session.calibration_seconds + STAND_BEFORE_RUNNING_S,
                              image_size=(s.camera.width, s.camera.height))
        self.source = SimulatedSource(params, fps=SIM_FPS, speed=self.speed, absences=self.absences)
        return Frames(self.source, self.pose, lockstep=True, frame_period_s=1.0 / SIM_FPS, time_scale=1.0,
                      pixels=False)

    def open_rear_camera(self, replay: str) -> Any:
        """The same runner seen from behind (``rear_camera.source sim``), or a real rear camera."""
        rear = self.settings.rear_camera
        if rear.source != "sim":
            from appliance.hardware.real import open_rear_camera

            return open_rear_camera(self.settings, replay)
        from appliance.frontal.rear_camera import RearCamera

        return RearCamera(SimulatedRearSource(self.source, fps=rear.fps), PassThroughPose(), rear.view,
                          joined=True).start()

    def cue_player(self, engine: Any, lights: Any) -> Any:
        """The player renders the offline engine up to each tick, and the runner follows its metronome."""
        from appliance.outputs.cue_player import CuePlayer

        return CuePlayer(engine, lights, offline_audio=True, follow_beat=self._follow_beat)

    def _follow_beat(self, bpm: float | None) -> None:
        if self.source is not None and bpm is not None:
            self.source.target_cadence_spm = bpm

    def describe(self) -> str:
        if self.embedded:
            return (f"appliance {__version__}: no camera found, running the embedded default: simulated runner"
                    f" at {self.speed:g}x, mock GPIO")
        return f"appliance {__version__}: source {self.source.name if self.source else 'sim'}"

    def audio_said(self, engine: Any) -> str | None:
        recording = self.audio.recording
        return f"audio to {recording.directory}/run-*.wav (the newest {recording.keep} files kept)" if recording else None
