"""A video file as a frame source, timed by the file's presentation timestamps."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from appliance.sources.base import SourceError, SourceKind
from appliance.types import Frame


class VideoFileSource:
    """Frames of a video file with ``t`` = presentation time in seconds from the first frame.

    ``realtime=True`` paces delivery to the file's own clock (a replay behaves like a camera);
    ``False`` decodes as fast as possible (analysis). ``decode_ms`` is the last frame's decode time.

    >>> for frame in VideoFileSource(Path("clip.mp4"), realtime=False):
    ...     print(frame.t, frame.image.shape)
    """

    def __init__(self, path: Path, realtime: bool = False, max_frames: int | None = None):
        import av  # lazy: python3-av on the Pi, the av wheel elsewhere

        self.path = Path(path)
        if self.path.is_dir():
            raise SourceError(f"video file {self.path} is a directory", "give the path of a video file in it")
        if not self.path.is_file():
            raise SourceError(f"video file {self.path} does not exist")
        try:
            self._container = av.open(str(self.path))
            self._stream = self._container.streams.video[0]
        except (av.error.FFmpegError, IndexError) as e:
            raise SourceError(f"cannot open video {self.path}: {e}") from e
        self._stream.thread_type = "AUTO"
        self.name = f"video:{self.path}"
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.nominal_fps = float(rate) if rate else 30.0
        self.frame_count = int(self._stream.frames or 0)
        self.width = self._stream.codec_context.width
        self.height = self._stream.codec_context.height
        self.realtime = realtime
        self.max_frames = max_frames
        self.decode_ms = 0.0

    def __iter__(self) -> Iterator[Frame]:
        time_base = self._stream.time_base
        t_first = None
        wall_start = None
        decoder = self._container.decode(self._stream)
        index = 0
        while self.max_frames is None or index < self.max_frames:
            t0 = time.perf_counter()
            try:
                frame = next(decoder)
            except StopIteration:
                return
            image = frame.to_ndarray(format="rgb24")
            self.decode_ms = (time.perf_counter() - t0) * 1000
            pts = frame.pts if frame.pts is not None else index / self.nominal_fps / time_base
            t = float(pts * time_base)
            if t_first is None:
                t_first, wall_start = t, time.monotonic()
            t -= t_first
            if self.realtime:
                delay = wall_start + t - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            yield Frame(t, index, image)
            index += 1

    def close(self) -> None:
        self._container.close()


def open_video(argument: str | None, camera, realtime: bool) -> VideoFileSource:
    """``video:PATH``: paced like a camera when ``realtime``, else as fast as it decodes."""
    if not argument:
        raise SourceError("source 'video' names no file", "give the clip's path: video:PATH")
    return VideoFileSource(Path(argument), realtime=realtime)


KIND = SourceKind("video", "video:PATH", open_video)
