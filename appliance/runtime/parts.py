"""What ``Runtime.start`` opens beside the hardware, one function each.

The hardware itself (camera and pose provider, audio, lights, button: real or simulated) is chosen
once by ``appliance.hardware.open_hardware`` and opens its own parts.

- ``open_store``: the data directory and the store in it (``StartupError`` with the fix).
- ``session_video``: the sessions' video, kept only when the clinician turns it on.
- ``open_looks``: the heavy model's look at each contact (off, or on a background thread).
- ``button_actions``: what the session button's press and hold do, on the loop thread.
- ``close_outputs``: the button, lights and audio at shutdown, each whatever the others do.
- ``tracker_factory``: the gait tracker for the settings, built again at calibration.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.config import Settings
from appliance.runtime.errors import StartupError
from appliance.runtime.loop import ControlLoop
from appliance.store import Store, StoreError

log = logging.getLogger("appliance.runtime.app")  # the lines these calls log kept their logger

# Heavy looks waiting for the spare core: ~9 frames a contact, so a few contacts' worth; when the
# core falls behind, the oldest wait is dropped (a late look at an old contact is worth less).
HEAVY_QUEUE = 40


def open_store(data_dir: Path) -> Store:
    """The store in ``data_dir`` (made when missing); says which sessions a crash interrupted."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StartupError(f"cannot create the data directory {data_dir} ({e.strerror})", "create it with "
                           "write access for the appliance's user, or choose another --data-dir") from e
    try:
        store = Store(data_dir)
    except StoreError as e:
        raise StartupError(e.message, e.fix) from e
    for sid in store.recovered_sessions:
        log.warning("session %d was interrupted by a crash or power loss; its recorded steps are kept", sid)
    return store


def session_video(settings_now: Callable[[], Settings], data_dir: Path, frames: Any) -> Any:
    """The sessions' video writer for a camera with images (None for frames without: the simulated
    runner); it keeps a session's video only when ``camera.record_video`` is on (in the settings in
    force, ``settings_now()``) as the session starts."""
    if not frames.pixels:
        return None
    from appliance.runtime.session_video import SessionVideo

    return SessionVideo(data_dir, 1.0 / frames.frame_period_s, lambda: settings_now().camera.record_video)


def open_looks(settings: Settings, lockstep: bool) -> tuple[Any, Any]:
    """The heavy model's look at each contact (None when it is off or not installed): on a
    background thread, or on the loop's own for a lock-step replay (frame for frame the same
    as ``appliance analyze``). Returns (ContactLooks or None, the HeavyWorker thread or None)."""
    from appliance.feet.looks import ContactLooks
    from appliance.pose.heavy import HeavyPose, HeavyWorker
    from appliance.pose.model_files import ModelError

    gait = settings.gait
    if not (gait.foot_stage and gait.heavy_look):
        return None, None
    try:
        heavy = HeavyPose(settings.pose.model_dir, threads=1)
    except ModelError as e:
        log.warning("%s; the contacts' angles come from the per-frame model", e)
        return None, None
    if lockstep:
        return ContactLooks(runner=heavy), None
    worker = HeavyWorker(heavy, max_pending=HEAVY_QUEUE)
    return ContactLooks(worker=worker), worker


def button_actions(loop: ControlLoop, selected_runner: Callable[[], int | None]) -> tuple[Callable, Callable]:
    """The session button's (press, hold): a press starts the selected runner's session when idle,
    else pauses or resumes it; a hold stops it. Both run on the loop thread."""

    def press() -> None:
        loop.post(lambda t: loop.session_command("toggle", selected_runner(), t))

    def hold() -> None:
        loop.post(lambda t: loop.session_command("stop", t) if loop.session.active else None)

    return press, hold


def close_outputs(**outputs: Any) -> None:
    """Close each output given (None: not opened); a failure is logged and the rest still close."""
    for name, part in outputs.items():
        if part is not None:
            try:
                part.close()
            except Exception as e:  # report and carry on: the rest must still close
                log.error("closing %s failed: %s", name, e)


def tracker_factory(settings: Settings) -> Callable[[Any], Any]:
    """``make_tracker(calibration)``: a gait tracker with these settings' gait section."""
    from appliance.gait import GaitTracker

    gait = settings.gait
    return lambda calibration: GaitTracker(gait, calibration)
