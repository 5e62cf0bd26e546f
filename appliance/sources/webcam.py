"""A USB webcam (V4L2) as a frame source."""

from __future__ import annotations

import time
from collections.abc import Iterator

from appliance.sources import base
from appliance.sources.base import SourceError, SourceKind, device_number
from appliance.types import Frame


class WebcamSource:
    """Frames from ``/dev/videoN`` through OpenCV's V4L2 backend.

    The capture time is the driver's buffer timestamp (``CAP_PROP_POS_MSEC``, taken by the kernel
    when the frame was captured) when the driver provides one, else the monotonic time at grab.

    >>> for frame in WebcamSource(0, 640, 480, 60):
    ...     print(frame.t)
    """

    def __init__(self, index: int, width: int, height: int, fps: float):
        import cv2  # lazy: not needed on machines that never open a webcam

        self._cv2 = cv2
        self._cap = cv2.VideoCapture(index, cv2.CAP_V4L2)
        if not self._cap.isOpened():
            raise SourceError(f"webcam /dev/video{index} cannot be opened",
                              "check that it is plugged in and that no other program uses it")
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._cap.set(cv2.CAP_PROP_FPS, fps)
        self._cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a backlog
        self.name = f"webcam:{index}"
        self.nominal_fps = float(self._cap.get(cv2.CAP_PROP_FPS) or fps)

    def __iter__(self) -> Iterator[Frame]:
        cv2 = self._cv2
        index = 0
        while True:
            if not self._cap.grab():
                raise SourceError(f"{self.name} stopped delivering frames")
            t_grab = time.monotonic()
            ok, bgr = self._cap.retrieve()
            if not ok:
                raise SourceError(f"{self.name} returned an unreadable frame")
            ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
            t = ms / 1000.0 if ms and ms > 0 else t_grab
            yield Frame(t, index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            index += 1

    def close(self) -> None:
        self._cap.release()


def open_webcam(argument: str | None, camera, realtime: bool) -> WebcamSource:
    """``webcam`` (/dev/video0) or ``webcam:N`` at the camera settings' size and rate."""
    number = device_number("webcam", argument or None, "the webcam is webcam:N with N its number (webcam:0 is /dev/video0)")
    return WebcamSource(number, getattr(camera, "width", 640), getattr(camera, "height", 480),
                        getattr(camera, "fps", 60.0))


KIND = SourceKind("webcam", "webcam:N", open_webcam, auto_rank=1, found=lambda: base.webcam_available(0))
