"""The capture thread: reads a frame source and keeps only the newest frame for the control loop.

A camera does not wait for inference. When the loop is slower than the camera, the frame the loop
has not taken yet is replaced by the newer one and counted as dropped: never a growing queue, so the
loop always works on the freshest image and latency stays bounded. ``lockstep=True`` is for replaying
a file as fast as possible: the reader then waits until the loop has taken each frame (no drop, no
queue), so every frame is processed exactly once.

>>> capture = LatestFrameCapture(source)
>>> capture.start()
>>> frame = capture.take(timeout=0.5)   # the newest frame, or None
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)


class LatestFrameCapture:
    """A one-slot mailbox between a frame source (its own thread) and the control loop.

    Items are whatever the source yields (``Frame`` or the simulated runner's pose frames); each
    must have ``t`` (capture time) and ``index``.
    """

    def __init__(self, source: Iterable[Any], lockstep: bool = False, name: str = "capture"):
        self.source = source
        self.lockstep = lockstep
        self.frames_in = 0
        self.dropped = 0
        self.finished = False
        self.error: BaseException | None = None
        self.last_capture_wall: float | None = None
        self.taken_age_s: float = 0.0  # how long the last taken frame waited in the slot
        self._slot: Any = None
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> LatestFrameCapture:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            for item in self.source:
                with self._cond:
                    if self.lockstep:
                        while self._slot is not None and not self._stop:
                            self._cond.wait(0.1)
                    if self._stop:
                        break
                    if self._slot is not None:
                        self.dropped += 1
                    self._slot = item
                    self.frames_in += 1
                    self.last_capture_wall = time.monotonic()
                    self._cond.notify_all()
        except BaseException as e:  # handed to the loop, which reports it and stops
            log.error("frame source %s failed: %s", getattr(self.source, "name", self.source), e)
            self.error = e
        finally:
            with self._cond:
                self.finished = True
                self._cond.notify_all()

    def take(self, timeout: float | None = None) -> Any:
        """The newest frame not yet taken, waiting up to ``timeout`` s; None when there is none
        (check ``finished`` and ``error``)."""
        with self._cond:
            if self._slot is None and not self.finished:
                self._cond.wait_for(lambda: self._slot is not None or self.finished, timeout)
            item, self._slot = self._slot, None
            if item is not None:
                self.taken_age_s = time.monotonic() - (self.last_capture_wall or time.monotonic())
                self._cond.notify_all()
            return item

    @property
    def exhausted(self) -> bool:
        """True when the source has ended and its last frame was taken."""
        with self._cond:
            return self.finished and self._slot is None

    def stop(self, timeout: float = 1.0) -> None:
        """Stop reading, wait for the reader thread, then close the source (closing a decoder while
        another thread is inside it is not safe)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("frame source %s did not stop within %.1f s", getattr(self.source, "name", "?"), timeout)
            return
        close = getattr(self.source, "close", None)
        if close is not None:
            try:
                close()
            except Exception as e:  # closing a dead camera can fail; the process is stopping anyway
                log.warning("closing frame source failed: %s", e)
