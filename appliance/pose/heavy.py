"""BlazePose GHUM heavy, run on the region the full model used, once per foot contact.

The pose engine tracks the runner with the *full* landmark model at the camera rate. To read the
foot angle at a contact, the gait stage runs the larger *heavy* model on a few frames buffered
around it, on the same rotated region of interest the engine used for each (``PoseEngine.last_roi``):
no detector, no tracking, the same crop, heatmap refinement and projection as the engine
(``LandmarkModel``), only the weights differ. Its cost grows with steps per second, not frames.

``HeavyPose`` runs it in the caller's thread; ``HeavyWorker`` runs it on one background thread
behind a small bounded queue, so the control loop never waits for it:

>>> worker = HeavyWorker(HeavyPose(model_dir, threads=1))
>>> worker.submit(("contact", 12), frame.image, engine.last_roi)   # never blocks
>>> for result in worker.poll():                                   # never blocks
...     key, landmarks, ms, error = result
>>> worker.close()
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Hashable
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from appliance.pose.engine import LandmarkModel
from appliance.pose.geometry import Roi
from appliance.pose.model_files import verify_heavy


class HeavyPose:
    """The heavy landmark model on a given frame and region.

    ``model_dir`` must hold the verified heavy file (``appliance fetch-model``), else ModelError
    says so with that command. ``threads`` are the interpreter's CPU threads (1 by default: the
    spare core the control loop leaves on the Pi).
    """

    def __init__(self, model_dir: Path, threads: int = 1):
        self.threads = threads
        self._model = LandmarkModel(verify_heavy(Path(model_dir)), threads)
        self.last_presence = float("nan")

    def landmarks(self, image: np.ndarray, roi: Roi) -> np.ndarray:
        """The 33 landmarks of the body in ``roi`` of ``image`` (RGB uint8 [H, W, 3], the full frame
        the region was placed in), float32 [33, 5] like ``Pose.landmarks``: x and y in image pixels,
        z on the scale of x, visibility and presence (0..1).

        The model's pose flag for this crop (is there a body in it) is left in ``last_presence``.
        """
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"heavy pose needs an RGB uint8 [H, W, 3] image, got {image.dtype} {image.shape}")
        if not roi.size > 0:
            raise ValueError(f"heavy pose needs a region of positive size, got {roi}")
        self._model.set_input(image, roi)
        self._model.invoke()
        self.last_presence = self._model.presence()
        landmarks, _ = self._model.landmarks(roi)
        return landmarks


class LandmarkRunner(Protocol):
    """What ``HeavyWorker`` runs: ``HeavyPose``, or a stand-in in tests."""

    def landmarks(self, image: np.ndarray, roi: Roi) -> np.ndarray: ...


class HeavyResult(NamedTuple):
    """One finished request: its key, the [33, 5] landmarks (None when it failed), the wall time of
    the inference in milliseconds, and the exception it raised (None when it succeeded)."""

    key: Hashable
    landmarks: np.ndarray | None
    ms: float
    error: Exception | None = None


class HeavyWorker:
    """Runs heavy on one background thread; the caller submits and polls, and never waits.

    At most ``max_pending`` requests wait their turn: a submit to a full queue drops the oldest
    waiting one (counted in ``dropped``), since a late look at an old contact is worth less than a
    look at the newest. An exception raised by the model is not lost: it comes back in its
    request's ``HeavyResult.error``. Images are read on the worker thread after ``submit`` returns:
    do not modify them afterwards (copy first if the source reuses its buffers).
    """

    def __init__(self, model: LandmarkRunner, max_pending: int = 4):
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {max_pending}")
        self.max_pending = max_pending
        self._model = model
        self._cond = threading.Condition()
        self._waiting: deque[tuple[Hashable, np.ndarray, Roi]] = deque()
        self._results: deque[HeavyResult] = deque()
        self._running = 0
        self._closed = False
        self.dropped = 0
        self._thread = threading.Thread(target=self._serve, name="heavy-pose", daemon=True)
        self._thread.start()

    @classmethod
    def from_model_dir(cls, model_dir: Path, threads: int = 1, max_pending: int = 4) -> HeavyWorker:
        """A worker running ``HeavyPose(model_dir, threads)`` (ModelError here when heavy is missing)."""
        return cls(HeavyPose(model_dir, threads), max_pending)

    def submit(self, key: Hashable, image: np.ndarray, roi: Roi) -> None:
        """Queue heavy on ``roi`` of ``image``; its result comes back from ``poll`` under ``key``."""
        with self._cond:
            if self._closed:
                raise RuntimeError("HeavyWorker.submit after close()")
            if len(self._waiting) >= self.max_pending:
                self._waiting.popleft()
                self.dropped += 1
            self._waiting.append((key, image, roi))
            self._cond.notify_all()

    def poll(self) -> list[HeavyResult]:
        """The requests finished since the last poll, oldest first (an empty list when none)."""
        with self._cond:
            done = list(self._results)
            self._results.clear()
        return done

    @property
    def pending(self) -> int:
        """Requests submitted and not finished yet (waiting or running)."""
        with self._cond:
            return len(self._waiting) + self._running

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted request has finished (for shutdown, tests and benchmarks,
        never the control loop); False if ``timeout`` seconds passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._waiting and not self._running, timeout)

    def close(self, drop_waiting: bool = False) -> None:
        """Finish the requests already queued (``drop_waiting``: only the one running, for a quick
        shutdown; the others are counted in ``dropped``), then stop and join the thread. Results
        stay available to ``poll``; ``submit`` raises from now on."""
        with self._cond:
            if drop_waiting:
                self.dropped += len(self._waiting)
                self._waiting.clear()
            self._closed = True
            self._cond.notify_all()
        self._thread.join()

    def __enter__(self) -> HeavyWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _serve(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._waiting or self._closed)
                if not self._waiting:
                    return  # closed and drained
                key, image, roi = self._waiting.popleft()
                self._running = 1
            t0 = time.perf_counter()
            try:
                result = HeavyResult(key, self._model.landmarks(image, roi), 0.0)
            except Exception as e:  # noqa: BLE001 - handed to the caller with its request, not swallowed
                result = HeavyResult(key, None, 0.0, e)
            result = result._replace(ms=(time.perf_counter() - t0) * 1000)
            with self._cond:
                self._results.append(result)
                self._running = 0
                self._cond.notify_all()
