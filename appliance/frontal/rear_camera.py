"""The second camera's pipeline, off the control loop's thread.

A capture thread keeps the newest rear frame (``LatestFrameCapture``); a worker thread runs its own
pose engine on it (none for the simulated rear view, whose frames carry their pose) and the
frontal tracker, joined with the side camera's contacts when the control loop hands them over
(``add_contact``, same capture clock). The control loop only calls ``add_contact``, ``poll`` and
``latest``, none of which waits: the rear camera can fall behind or stop without slowing the side
camera's loop.

>>> rear = RearCamera(SimulatedRearSource(side_source), pose_engine=None, view="rear").start()
>>> rear.add_contact("left", t_ic, t_to)       # the side tracker's final step
>>> for step in rear.poll(): coach.on_frontal(step); store.record_frontal(session_id, step)
>>> rear.stop()
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from appliance.frontal.measures import FrontalFrame
from appliance.frontal.tracker import FrontalStep, FrontalTracker
from appliance.runtime.capture import LatestFrameCapture

log = logging.getLogger(__name__)

TAKE_TIMEOUT_S = 0.5
RECENT_S = 1.0  # the frames the set-up page's framing advice is judged on: about one stride


@dataclass(frozen=True, slots=True)
class RearView:
    """The rear camera's newest frame as processed: its capture time, image (None for the simulated
    view), landmarks (None: nobody seen), frontal angles, image size, and the last stance measured
    per foot."""

    t: float
    image: Any
    landmarks: np.ndarray | None
    angles: FrontalFrame | None
    image_size: tuple[int, int]
    last_steps: dict[str, FrontalStep]


class RearCamera:
    """The rear camera's frames, pose and frontal steps on their own threads (module docstring)."""

    def __init__(self, source, pose_engine=None, view: str = "rear", joined: bool = False) -> None:
        self.source_name = getattr(source, "name", "rear")
        self.view = view
        self.capture = LatestFrameCapture(source, name="rear-capture")
        self._engine = pose_engine
        self.tracker = FrontalTracker(view, joined=joined)  # joined: stances from the side camera only
        self._contacts: queue.SimpleQueue[tuple[str, float, float]] = queue.SimpleQueue()
        self._steps: queue.SimpleQueue[FrontalStep] = queue.SimpleQueue()
        self._latest: RearView | None = None
        self._last_steps: dict[str, FrontalStep] = {}
        self._recent: deque[tuple[float, np.ndarray]] = deque(maxlen=256)  # (t, landmarks) with somebody seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rear-camera", daemon=True)
        self.frames = 0
        self.error: BaseException | None = None

    def start(self) -> RearCamera:
        self.capture.start()
        self._thread.start()
        return self

    def add_contact(self, foot: str, t_ic: float, t_to: float) -> None:
        """A stance the side camera saw (never blocks)."""
        self._contacts.put((foot, t_ic, t_to))

    def poll(self) -> list[FrontalStep]:
        """The stances measured since the last call (never blocks)."""
        out = []
        while True:
            try:
                out.append(self._steps.get_nowait())
            except queue.Empty:
                return out

    def latest(self) -> RearView | None:
        """The newest rear frame as processed (None before the first)."""
        return self._latest

    def recent_landmarks(self) -> list[np.ndarray]:
        """The landmarks of the last ``RECENT_S`` seconds of frames with somebody seen (never blocks)."""
        recent = list(self._recent)
        if not recent:
            return []
        newest = recent[-1][0]
        return [lm for t, lm in recent if t >= newest - RECENT_S]

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.capture.stop()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self.capture.take(timeout=TAKE_TIMEOUT_S)
                if frame is None:
                    if self.capture.exhausted:
                        return
                    continue
                self._process(frame)
        except Exception as e:  # the side camera goes on without it; said once, shown on Health
            self.error = e
            log.exception("the rear camera stopped: %s", e)

    def _process(self, frame) -> None:
        while True:
            try:
                self.tracker.add_contact(*self._contacts.get_nowait())
            except queue.Empty:
                break
        pose = frame.pose if self._engine is None else self._engine.process(frame)
        landmarks = pose.landmarks if pose is not None else None
        for step in self.tracker.update(landmarks, frame.t):
            self._last_steps[step.foot] = step
            self._steps.put(step)
        self.frames += 1
        if landmarks is not None:
            self._recent.append((frame.t, landmarks))
        self._latest = RearView(frame.t, frame.image, landmarks, self.tracker.last_frame,  # image None: a pose frame
                                tuple(frame.size), dict(self._last_steps))
