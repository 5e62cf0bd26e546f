"""The appliance's parts, chosen once: real hardware or the simulator, the way gpiozero picks a pin factory.

One interface per part, each implementation owning its settings section and a ``check(options) ->
CheckResult`` (``appliance.checks``; ``appliance selftest`` is a loop over them):

=============  ==========================================  ===============================================
part           real                                        simulated (``hardware/simulated.py``)
=============  ==========================================  ===============================================
camera         ``sources.camera.Camera`` (``camera``)      the simulated runner (``SimulatedRunnerCamera``)
pose provider  ``pose.part.TflitePose`` (``pose``)         ``PassThroughPose``: the frames carry their pose
audio out      ``outputs.audio_out.AudioOut`` (``audio``)  ``RecordedAudio``: WAV files, newest kept
lights         ``outputs.lights.LightStrip`` (``lights``)  the same strip on mock pins
button         ``outputs.button.ButtonPart`` (``button``)  the same button on mock pins
=============  ==========================================  ===============================================

``open_hardware(settings, spec)`` picks the set once: ``sim`` is the simulator; a named camera or
file is real; ``auto`` is real when this machine has a camera, else the simulator (the embedded
default, with its demo session). Everything that differs between the two lives in the chosen
``Hardware`` (``hardware/real.py``, ``hardware/simulated.py``): the runtime asks it for frames, a
pose provider, the outputs and the rear camera, and never asks which one it is. A new camera or
light strip is a new part class.

>>> hardware = open_hardware(settings, "auto", data_dir)
>>> frames = hardware.open_frames(replay="realtime", time_scale=1.0)   # source + pose provider
>>> [part.check(CheckOptions()).line() for part in hardware.parts()]
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from appliance.checks import CheckOptions, CheckResult
from appliance.sources.base import FrameSource
from appliance.types import Pose

log = logging.getLogger("appliance.runtime.app")  # said at start-up, with the runtime's lines


class Part(Protocol):
    """A part of the appliance that can check itself (``appliance selftest``)."""

    name: str  # the check's name: camera, model, audio, leds, button

    def check(self, options: CheckOptions) -> CheckResult: ...


class PoseProvider(Protocol):
    """What turns a frame into a pose for the control loop: the TFLite engine on camera images
    (``appliance.pose.engine.PoseEngine``), or a pass-through for frames that carry their pose."""

    model_loaded: bool  # a pose model runs (the Health page)
    last_roi: Any  # the region the landmark model looked at in the last frame (None: none)

    def process(self, frame: Any) -> Pose | None: ...

    def stage_ms(self) -> dict[str, float]:
        """The last frame's stage times in ms for the loop's figures (empty: nothing was computed)."""
        ...


@dataclass
class Frames:
    """The frames of one run: their source, the pose provider for them, and how the loop takes them."""

    source: FrameSource
    pose: PoseProvider
    lockstep: bool  # the loop takes every frame (a simulated camera, or ``--replay fast``)
    frame_period_s: float
    time_scale: float  # real seconds per source second (a slow-motion clip); 1 for live sources
    pixels: bool  # the frames carry images: the foot stage and the heavy model can look at them


class Hardware(ABC):
    """The parts of one appliance run, chosen once by ``open_hardware``; each kind opens them its way."""

    camera: Part
    pose: Part
    audio: Any  # a Part with ``open() -> AudioEngine``
    lights: Any  # ``LightStrip``
    button: Any  # ``ButtonPart``
    pins: Any  # ``outputs.gpio.Pins``: the one pin factory of the lights and the button
    demo: bool  # a demo session starts by itself (``runtime/demo.py``)

    def parts(self) -> list[Part]:
        """Every part, in the order ``appliance selftest`` checks them."""
        return [self.camera, self.pose, self.audio, self.lights, self.button]

    @abstractmethod
    def open_frames(self, replay: str, time_scale: float) -> Frames:
        """The frame source and its pose provider. ``replay`` (video files): realtime or fast."""

    @abstractmethod
    def open_rear_camera(self, replay: str) -> Any:
        """The second camera's pipeline (``appliance.frontal.rear_camera.RearCamera``), started; None
        when ``rear_camera.source`` is none."""

    def cue_player(self, engine: Any, lights: Any) -> Any:
        """The ``CuePlayer`` that plays the coach's events on these outputs."""
        from appliance.outputs.cue_player import CuePlayer

        return CuePlayer(engine, lights)

    @abstractmethod
    def describe(self) -> str:
        """What runs here, for the start line (the audio, the panel and the demo are added to it)."""

    def audio_said(self, engine: Any) -> str | None:
        """Where the sound goes, for the start line (None: nowhere worth saying)."""
        return f"audio {engine.sink}" if engine is not None else None


def open_hardware(settings, spec: str | None, data_dir: Path, *, speed: float | None = None,
                  demo: bool | None = None, sim_absences: Iterable[tuple[float, float]] = (),
                  fall_back_to_sim: bool = True, pins: Any = None, warn_no_camera: bool = False) -> Hardware:
    """The hardware for ``spec`` (default ``camera.source``): ``sim`` the simulator, a named camera
    or file real, ``auto`` real when a camera is found, else (``fall_back_to_sim``) the simulator's
    embedded default (with a warning when ``warn_no_camera``: a service expected a camera). ``speed`` and ``sim_absences`` are the
    simulator's; ``demo`` None: a demo session on the embedded default only; ``pins``: a ready
    ``Pins`` (selftest: real pins only, or the tests' mock)."""
    from appliance.sources.camera import Camera

    spec = spec or settings.camera.source
    if spec != "sim":
        camera = Camera(settings.camera, spec)
        if not fall_back_to_sim or spec != "auto" or camera.found():
            from appliance.hardware.real import RealHardware

            return RealHardware(settings, camera, data_dir, demo=bool(demo), pins=pins)
        if warn_no_camera:
            log.warning("no camera found: this service runs the simulated runner; connect the camera and "
                        "restart, or set camera.source (appliance selftest checks the camera)")
    from appliance.hardware.simulated import SimulatedRunnerCamera

    return SimulatedRunnerCamera(settings, data_dir, embedded=spec == "auto", speed=speed, demo=demo,
                                 absences=tuple(sim_absences), pins=pins)
