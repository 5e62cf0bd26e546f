"""The real hardware: a camera (or a video file) with the TFLite pose engine, the sound device, the
light strip and the button on the GPIO pins ``gpio.pin_factory`` names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance import __version__
from appliance.hardware import Frames, Hardware
from appliance.outputs.audio_out import AudioOut
from appliance.outputs.button import ButtonPart
from appliance.outputs.gpio import Pins
from appliance.outputs.lights import LightStrip
from appliance.pose.part import TflitePose
from appliance.sources.camera import Camera


class RealHardware(Hardware):
    """Every part on this machine's own devices (``appliance.hardware`` has the table)."""

    def __init__(self, settings, camera: Camera, data_dir: Path, demo: bool = False, pins: Pins | None = None) -> None:
        self.settings = settings
        self.camera = camera
        self.pose = TflitePose(settings.pose, settings.camera)
        self.audio = AudioOut(settings.audio, data_dir)
        self.pins = pins or Pins(settings.gpio.pin_factory)
        self.lights = LightStrip(settings.lights, self.pins)
        self.button = ButtonPart(settings.button, self.pins)
        self.demo = demo
        self.source_name = camera.spec

    def open_frames(self, replay: str, time_scale: float) -> Frames:
        """The camera or clip with the pose engine on it; a clip replayed ``fast`` is taken frame by frame."""
        source = self.camera.open(realtime=replay == "realtime")
        try:
            engine = self.pose.open()
        except BaseException:
            source.close()
            raise
        self.source_name = source.name
        return Frames(source, engine, lockstep=replay == "fast", frame_period_s=1.0 / source.nominal_fps,
                      time_scale=time_scale, pixels=True)

    def open_rear_camera(self, replay: str) -> Any:
        return open_rear_camera(self.settings, replay)

    def describe(self) -> str:
        return f"appliance {__version__}: source {self.source_name}"


def open_rear_camera(settings, replay: str) -> Any:
    """The rear camera (``rear_camera``) with its own pose engine on one spare core, started; None when
    ``rear_camera.source`` is none. ``replay`` (video files): realtime or fast."""
    rear = settings.rear_camera
    if rear.source == "none":
        return None
    from appliance.frontal.rear_camera import RearCamera
    from appliance.sources.base import SourceError

    try:
        source = Camera(rear, name="rear_camera").open(realtime=replay == "realtime")
    except SourceError as e:
        raise SourceError(f"rear camera: {e.message}", e.fix) from e
    try:
        engine = TflitePose(settings.pose).open(threads=1)  # a spare core
    except BaseException:
        source.close()
        raise
    return RearCamera(source, engine, rear.view, joined=True).start()
