"""Frame sources: iterables of ``Frame(t_capture, index, rgb)``.

- ``video:PATH``: a file, timed by its presentation timestamps (``VideoFileSource``).
- ``webcam:N``: a USB camera through V4L2 (``WebcamSource``).
- ``picamera``: the Raspberry Pi camera through picamera2, timed by sensor timestamps (monotonic clock)
  (``PiCameraSource``; picamera2 is imported only when it is used).
- ``sim``: the simulated runner (``SimulatedSource``); it yields poses, not images, and is chosen
  with the rest of the simulated appliance by ``appliance.hardware``, not here.

Each kind of camera is one module here defining ``KIND`` (a ``base.SourceKind``: its spec prefix,
how it opens, whether and in which order ``auto`` tries it); ``open_source`` finds them, so a new
camera is one new file. ``camera.Camera`` is the camera part: a source from its settings section,
and its selftest check.
"""

from __future__ import annotations

from appliance.sources.base import FrameSource, SourceError, open_source

__all__ = ["FrameSource", "SourceError", "open_source"]
