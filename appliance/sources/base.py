"""The frame-source interface and the factory that turns a source spec into a source."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from appliance.errors import ApplianceError
from appliance.types import Frame

SOURCE_CHOICES = "auto, picamera, picamera:N, webcam:N, video:PATH or sim"


class SourceError(ApplianceError):
    """A source that cannot be opened or has stopped delivering frames: what and (``fix``) what to do."""


class FrameSource(Protocol):
    """Anything that yields frames with capture times; ``close()`` releases the device."""

    name: str
    nominal_fps: float

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...


def pi_camera_available() -> bool:
    """True when picamera2 is importable and libcamera sees a camera."""
    try:
        from picamera2 import Picamera2  # type: ignore[import-not-found]
    except ImportError:
        return False
    try:
        return len(Picamera2.global_camera_info()) > 0
    except Exception:  # libcamera errors differ between releases; no camera is the answer
        return False


def webcam_available(index: int = 0) -> bool:
    return Path(f"/dev/video{index}").exists()


def open_source(spec: str, camera=None, realtime: bool = True) -> FrameSource | None:
    """The camera or video file for ``spec`` (see the package docstring); None for ``auto`` on a
    machine without a camera. ``camera`` is ``Settings.camera`` (size, rate). ``sim`` is no camera
    but the simulated runner, which ``appliance.hardware`` chooses instead: a SourceError here."""
    width = getattr(camera, "width", 640)
    height = getattr(camera, "height", 480)
    fps = getattr(camera, "fps", 60.0)
    if spec == "sim":
        raise SourceError("source 'sim' is the simulated runner, not a camera",
                          "choose it for the whole appliance (appliance run --source sim), or name a camera")
    if spec.startswith("video:"):
        from appliance.sources.video import VideoFileSource

        return VideoFileSource(Path(spec[len("video:"):]), realtime=realtime)
    if spec == "picamera" or (spec == "auto" and pi_camera_available()):
        from appliance.sources.picamera import PiCameraSource

        return PiCameraSource(width, height, fps)
    if spec.startswith("picamera:"):
        number = spec.partition(":")[2]
        if not number.isdigit():
            raise SourceError(f"source {spec!r} is not a Pi camera",
                              "a Pi camera is picamera:N with N its connector (0 or 1 on a Pi 5)")
        from appliance.sources.picamera import PiCameraSource

        return PiCameraSource(width, height, fps, camera_num=int(number))
    if spec.startswith("webcam"):
        number = spec.partition(":")[2] or "0"
        if spec[len("webcam"):len("webcam") + 1] not in ("", ":") or not number.isdigit():
            raise SourceError(f"source {spec!r} is not a webcam",
                              "the webcam is webcam:N with N its number (webcam:0 is /dev/video0)")
        index = int(number)
        from appliance.sources.webcam import WebcamSource

        return WebcamSource(index, width, height, fps)
    if spec == "auto":
        if webcam_available(0):
            from appliance.sources.webcam import WebcamSource

            return WebcamSource(0, width, height, fps)
        return None
    raise SourceError(f"unknown source {spec!r}", f"use {SOURCE_CHOICES}")
