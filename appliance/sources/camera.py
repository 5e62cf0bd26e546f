"""The camera part: a real camera (Pi camera, webcam) or a video file, from its settings section.

It owns ``camera`` (or ``rear_camera``): the source spec, the size and the rate. ``open`` gives the
frame source; ``found`` says whether ``auto`` finds a camera on this machine; ``check`` reads frames
and measures their rate from the capture times (``appliance selftest``).

>>> camera = Camera(settings.camera)
>>> source = camera.open(realtime=True)       # SourceError with its fix when it cannot
>>> camera.check(CheckOptions(frames=60)).line()
'PASS  camera      picamera 640x480, 60.0 frames/s measured over 60 frames, mean level 112/255'
"""

from __future__ import annotations

from appliance.checks import SERVICE_BUSY_FIX, CheckOptions, CheckResult
from appliance.sources import base
from appliance.sources.base import FrameSource, SourceError, open_source

MISSING_CAMERA_FIX = (
    "reseat the camera ribbon at both ends (latches closed), check camera_auto_detect=1 in "
    "/boot/firmware/config.txt, then `rpicam-hello --list-cameras`; " + SERVICE_BUSY_FIX
)
MIN_BRIGHTNESS = 20  # mean level (0..255) below which the image is taken as black: a lens cap, no light


class Camera:
    """A real camera or a video file, as ``settings.source`` names it (``appliance.sources``)."""

    name = "camera"

    def __init__(self, settings, spec: str | None = None, name: str = "camera") -> None:
        """``settings``: ``Settings.camera`` or ``Settings.rear_camera``; ``spec`` overrides its
        source (``appliance run --source``)."""
        self.settings = settings
        self.spec = spec or settings.source
        self.name = name

    def found(self) -> bool:
        """Whether a camera is there to open: always for a named source, on ``auto`` only when this
        machine has a Pi camera or a webcam."""
        return self.spec != "auto" or base.pi_camera_available() or base.webcam_available(0)

    def open(self, realtime: bool = True) -> FrameSource:
        """The frame source; SourceError (with its fix) when it cannot open or none is found.
        ``realtime`` (video files): at the clip's own rate, else as fast as it decodes."""
        source = open_source(self.spec, self.settings, realtime=realtime)
        if source is None:
            raise SourceError(self._not_found(), MISSING_CAMERA_FIX)
        return source

    def _not_found(self) -> str:
        return f"no camera found ({self.name}.source={self.spec})"

    def check(self, options: CheckOptions) -> CheckResult:
        """Open the source, read ``options.frames`` frames, measure their rate from capture times,
        and look at the last image's brightness."""
        import numpy as np

        try:
            source = open_source(self.spec, self.settings, realtime=False)
        except SourceError as e:
            return CheckResult.failed(self.name, e, context=f"cannot open {self.spec}", fix=MISSING_CAMERA_FIX)
        if source is None:
            return CheckResult(self.name, "FAIL", self._not_found(), MISSING_CAMERA_FIX)
        times, last = [], None
        try:
            for frame in source:
                times.append(frame.t)
                last = frame
                if len(times) >= options.frames:
                    break
        except SourceError as e:
            return CheckResult.failed(self.name, e, context=f"{source.name} stopped delivering frames",
                                      fix=MISSING_CAMERA_FIX)
        finally:
            source.close()
        if last is None or len(times) < 2:
            return CheckResult(self.name, "FAIL", f"{source.name} delivered {len(times)} frame(s)", MISSING_CAMERA_FIX)
        fps = 1.0 / float(np.median(np.diff(times)))
        width, height = last.size
        brightness = float(last.image.mean())
        detail = (f"{source.name} {width}x{height}, {fps:.1f} frames/s measured over {len(times)} frames, "
                  f"mean level {brightness:.0f}/255")
        wanted = self.settings.fps
        if fps < 0.9 * wanted:
            return CheckResult(self.name, "FAIL", f"{detail}; {wanted:g} frames/s configured",
                               "more light (a long exposure caps the frame rate), or lower camera.fps / "
                               "camera.width in the panel")
        if brightness < MIN_BRIGHTNESS:
            return CheckResult(self.name, "FAIL", f"{detail}; the image is almost black",
                               "remove the lens cap, light the treadmill")
        return CheckResult(self.name, "PASS", detail)
