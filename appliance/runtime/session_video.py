"""The side camera's video of each training session, kept on the device when the clinician turns
``camera.record_video`` on (off by default: no video is kept).

The control loop offers every frame it processes (``offer``); while a session runs and recording
was on when it started, the frame goes to a writer thread through a short queue and is written to
``DATA_DIR/video/session-<id>.mp4`` with its capture time in ``session-<id>.times.csv``
(``appliance.store.videos``). The loop never waits: a frame the writer has no room for is dropped and
counted. Recording is secondary to the session: a writer that cannot open its file, or a disk that
runs low, stops that session's video with one log line and the session goes on.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from appliance.store.videos import session_video_paths

log = logging.getLogger(__name__)

QUEUE_S = 2.0  # frames waiting for the writer, in seconds of video: enough to ride out a slow disk write
MIN_FREE_BYTES = 500 * 1024 * 1024  # below this the video stops: steps and backups need the disk more
FREE_CHECK_EVERY = 60  # frames between two looks at the free space


class SessionVideo:
    """Writes the processed frames of each recorded session to its own video file, off the loop."""

    def __init__(self, data_dir: Path, fps: float, enabled: Callable[[], bool]) -> None:
        """``enabled`` is read when a session starts (the setting applies from the next session);
        ``fps`` is the camera's nominal rate, the file's playback rate (the CSV has the real times)."""
        self.data_dir = Path(data_dir)
        self.fps = float(fps)
        self.enabled = enabled
        self.frames_written = 0
        self.frames_dropped = 0
        self._session_id: int | None = None  # the session being recorded (None: none)
        self._seen_session: int | None = None  # the session whose start was decided
        self._max_waiting = max(2, int(QUEUE_S * self.fps))  # frames; opening and closing always get in
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._write_all, name="session-video", daemon=True)
        self._thread.start()

    @property
    def recording(self) -> int | None:
        """The id of the session whose video is being written, or None."""
        return self._session_id

    def offer(self, session_id: int | None, image: np.ndarray | None, t: float) -> None:
        """The loop's frame (RGB) at capture time ``t`` while ``session_id`` runs (None: no session)."""
        if session_id != self._seen_session:
            self._seen_session = session_id
            if self._session_id is not None:
                self._send(("close", self._session_id))
                self._session_id = None
            if session_id is not None and self.enabled():
                self._session_id = session_id
                self._send(("open", session_id))
        if self._session_id is not None and image is not None:
            self._send(("frame", self._session_id, image, t))

    def _send(self, item: tuple) -> None:
        if item[0] == "frame" and self._queue.qsize() >= self._max_waiting:
            self.frames_dropped += 1  # the writer is behind (a slow disk): the loop does not wait for it
            return
        self._queue.put_nowait(item)

    def close(self, timeout: float = 5.0) -> None:
        """End the current video (its file is complete) and stop the writer thread."""
        self.offer(None, None, 0.0)
        self._queue.put(("stop",))
        self._thread.join(timeout)

    # ---- writer thread ----

    def _write_all(self) -> None:
        writer: _VideoFile | None = None
        while True:
            item = self._queue.get()
            kind = item[0]
            if kind == "stop":
                return
            if kind == "open":
                writer = _VideoFile(self.data_dir, item[1], self.fps)
            elif kind == "close":
                if writer is not None:
                    writer.finish()
                writer = None
            elif writer is not None and writer.session_id == item[1]:
                if writer.write(item[2], item[3]):
                    self.frames_written += 1


class _VideoFile:
    """One session's video and its capture times; opened at its first frame (its size is the frame's)."""

    def __init__(self, data_dir: Path, session_id: int, fps: float) -> None:
        self.session_id = session_id
        self.fps = fps
        self.video_path, self.times_path = session_video_paths(data_dir, session_id)
        self.frames = 0
        self.stopped: str | None = None  # why this video stopped early
        self._video = None
        self._times = None

    def write(self, image: np.ndarray, t: float) -> bool:
        if self.stopped is not None:
            return False
        try:
            if self._video is None:
                self._open(image.shape[1], image.shape[0])
            if self.frames % FREE_CHECK_EVERY == 0 and shutil.disk_usage(self.video_path.parent).free < MIN_FREE_BYTES:
                raise OSError(f"less than {MIN_FREE_BYTES // 2**20} MB free on the data disk")
            import cv2

            self._video.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            self._times.write(f"{self.frames},{t:.6f}\n")
        except OSError as e:
            self._stop(f"{e.strerror or e}")
            return False
        self.frames += 1
        return True

    def _open(self, width: int, height: int) -> None:
        import cv2

        self.video_path.parent.mkdir(parents=True, exist_ok=True)
        self._times = open(self.times_path, "w", encoding="ascii")  # noqa: SIM115 (closed in finish())
        self._times.write("frame,capture_time_s\n")
        self._video = cv2.VideoWriter(str(self.video_path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (width, height))
        if not self._video.isOpened():
            raise OSError(f"OpenCV cannot write an MP4 video to {self.video_path}")
        log.info("session %d: its video is kept in %s (camera.record_video is on)", self.session_id, self.video_path)

    def _stop(self, why: str) -> None:
        self.stopped = why
        log.error("session %d: its video stops after %d frames (%s); the session goes on", self.session_id,
                  self.frames, why)
        self.finish()

    def finish(self) -> None:
        if self._video is not None:
            self._video.release()
            self._video = None
        if self._times is not None:
            try:
                self._times.close()
            except OSError as e:
                log.error("session %d: the video's capture times %s could not be completed (%s)", self.session_id,
                          self.times_path, e.strerror or e)
            self._times = None
        if self.stopped is None and self.frames:
            log.info("session %d: video of %d frames kept in %s", self.session_id, self.frames, self.video_path)
