"""The Raspberry Pi camera through picamera2, timed by the sensor's own timestamps.

picamera2 comes from Debian (python3-picamera2) and is imported only here, only when the Pi camera
is opened, so nothing else in the appliance depends on it.
"""

from __future__ import annotations

from collections.abc import Iterator

from appliance.sources import base
from appliance.sources.base import SourceError, SourceKind, device_number
from appliance.types import Frame


class PiCameraSource:
    """Frames from the Pi camera at a fixed frame duration.

    ``t`` is the sensor timestamp of the start of exposure (``SensorTimestamp``, nanoseconds on the
    kernel's monotonic clock), so event times do not depend on when the loop got to the frame.

    >>> for frame in PiCameraSource(640, 480, 60):
    ...     print(frame.t)
    """

    def __init__(self, width: int, height: int, fps: float, camera_num: int = 0):
        try:
            from picamera2 import Picamera2  # type: ignore[import-not-found]
        except ImportError as e:
            raise SourceError("picamera2 is not installed", "sudo apt install python3-picamera2") from e
        try:
            self._cam = Picamera2(camera_num)
        except (RuntimeError, IndexError) as e:
            raise SourceError(f"no Pi camera {camera_num} found ({e})", "check the ribbon cable (a Pi 5 has two "
                              "camera connectors, 0 and 1) and camera_auto_detect=1") from e
        frame_us = int(1_000_000 / fps)
        config = self._cam.create_video_configuration(
            main={"size": (width, height), "format": "RGB888"},
            controls={"FrameDurationLimits": (frame_us, frame_us)},
            buffer_count=4,
        )
        self._cam.configure(config)
        self._cam.start()
        self.name = "picamera" if camera_num == 0 else f"picamera:{camera_num}"
        self.nominal_fps = float(fps)

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while True:
            request = self._cam.capture_request()
            try:
                # picamera2's "RGB888" is stored B, G, R in memory: reverse to RGB.
                image = request.make_array("main")[:, :, ::-1].copy()
                t_ns = request.get_metadata()["SensorTimestamp"]
            finally:
                request.release()
            t = t_ns / 1e9
            yield Frame(t, index, image)
            index += 1

    def close(self) -> None:
        self._cam.stop()
        self._cam.close()


def open_pi_camera(argument: str | None, camera, realtime: bool) -> PiCameraSource:
    """``picamera`` (connector 0) or ``picamera:N`` at the camera settings' size and rate."""
    number = device_number("picamera", argument, "a Pi camera is picamera:N with N its connector (0 or 1 on a Pi 5)")
    return PiCameraSource(getattr(camera, "width", 640), getattr(camera, "height", 480), getattr(camera, "fps", 60.0),
                          camera_num=number)


KIND = SourceKind("picamera", "picamera, picamera:N", open_pi_camera, auto_rank=0,
                  found=lambda: base.pi_camera_available())
