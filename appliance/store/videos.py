"""Where a session's video is kept on the device, and its removal with the session.

Video is kept only when the clinician turns ``camera.record_video`` on (``runtime/session_video.py``
writes it). Each training session then has ``DATA_DIR/video/session-<id>.mp4`` and beside it
``session-<id>.times.csv``: the capture time of each frame in the file (the clock of every event
recorded for that session, so a replay or a second look lines up with the steps). Nothing here is
served over the network; erasing a runner or the retention limit removes the files with the rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

VIDEO_DIR = "video"
SUFFIXES = (".mp4", ".times.csv")


def video_dir(data_dir: Path) -> Path:
    return Path(data_dir) / VIDEO_DIR


def session_video_paths(data_dir: Path, session_id: int) -> tuple[Path, Path]:
    """(the video, its capture times) of a session."""
    stem = video_dir(data_dir) / f"session-{int(session_id)}"
    return stem.with_suffix(SUFFIXES[0]), stem.with_name(stem.name + SUFFIXES[1])


def delete_session_videos(data_dir: Path, session_ids: Iterable[int]) -> int:
    """Remove the kept video of each session (when there is one); returns how many videos went.
    A file that cannot be removed is logged with its path and counted as left, never ignored."""
    removed = 0
    for sid in session_ids:
        video, times = session_video_paths(data_dir, sid)
        had_video = video.exists()
        for path in (video, times):
            try:
                path.unlink(missing_ok=True)
            except OSError as e:
                log.error("the video file %s of an erased session could not be removed (%s): remove it by hand",
                          path, e.strerror or e)
                had_video = False
        removed += had_video
    return removed
