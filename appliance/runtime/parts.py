"""Opening the appliance's parts from the settings, one function each, for ``Runtime.start``.

- ``open_store``: the data directory and the store in it.
- ``open_frames``: the frame source (camera or clip) with its pose engine, or, without a camera on
  ``--source auto`` or with ``--source sim``, the simulated runner (its frames carry their pose).
- ``open_looks``: the heavy model's look at each contact (off, or on a background thread).
- ``open_audio`` and ``open_lights``: real or (simulated) rendered to a WAV file and mock GPIO.
- ``open_button``: the session button, which toggles and stops sessions on the loop thread.
- ``close_outputs``: the button, lights and audio at shutdown, each whatever the others do.
- ``tracker_factory``: the gait tracker for the settings, built again at calibration.

Each raises ``StartupError`` with the fix when the part cannot open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance.config import Settings
from appliance.runtime.demo import DEMO_SPEED
from appliance.runtime.errors import StartupError
from appliance.runtime.loop import ControlLoop
from appliance.runtime.notify import SystemdNotifier
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
        raise StartupError(f"cannot create the data directory {data_dir} ({e.strerror}); create it with "
                           "write access for the appliance's user, or choose another --data-dir") from e
    try:
        store = Store(data_dir)
    except StoreError as e:
        raise StartupError(str(e)) from e
    for sid in store.recovered_sessions:
        log.warning("session %d was interrupted by a crash or power loss; its recorded steps are kept", sid)
    return store


@dataclass
class Frames:
    """Where the frames come from, as ``open_frames`` found it."""

    source: Any
    pose_engine: Any  # None for the simulated runner
    lockstep: bool  # the loop takes every frame (a simulated camera, or ``--replay fast``)
    frame_period_s: float
    simulated: bool = False
    embedded: bool = False  # the embedded default: no camera found on --source auto
    demo: bool = False  # a demo session starts by itself
    sim_source: Any = None  # the SimulatedSource, whose runner follows the metronome


def open_frames(settings: Settings, spec: str, demo: bool | None, speed: float | None, replay: str,
                sim_absences: tuple[tuple[float, float], ...], notifier: SystemdNotifier) -> Frames:
    """The source ``spec`` (auto, sim, picamera, webcam:N, video:PATH) with its pose engine, or the
    simulated runner; ``demo`` None: the demo runs on the embedded default only; ``speed`` None:
    ``DEMO_SPEED`` for a simulated demo, else 1; ``replay`` (video files): realtime or fast."""
    from appliance.sources.base import SourceError, open_source

    s = settings
    source = None
    if spec != "sim":
        try:
            source = open_source(spec, s.camera, realtime=replay == "realtime")
        except SourceError as e:
            raise StartupError(str(e)) from e
    if source is None:
        embedded = spec == "auto"
        if embedded and notifier.enabled:
            log.warning("no camera found: this service runs the simulated runner; connect the camera and "
                        "restart, or set camera.source (appliance selftest checks the camera)")
        demo = demo if demo is not None else embedded
        speed = speed if speed is not None else (DEMO_SPEED if demo else 1.0)
        from appliance.sim import RunnerParams
        from appliance.sources.simulated import SimulatedSource

        params = RunnerParams(cadence_spm=164.0, stand_s=s.session.calibration_seconds + 1.5,
                              image_size=(s.camera.width, s.camera.height))
        sim = SimulatedSource(params, fps=30.0, speed=speed, absences=sim_absences)
        # A simulated camera waits for the loop (nothing real is lost), so a sped-up run is exact.
        return Frames(sim, None, True, 1.0 / 30.0, simulated=True, embedded=embedded, demo=demo, sim_source=sim)
    from appliance.pose.engine import PoseEngine
    from appliance.pose.model_files import ModelError

    try:
        engine = PoseEngine.from_settings(s.pose)
    except ModelError as e:
        source.close()
        raise StartupError(str(e)) from e
    return Frames(source, engine, replay == "fast", 1.0 / source.nominal_fps, demo=bool(demo))


def open_rear_camera(settings: Settings, sim_source: Any, replay: str) -> Any:
    """The second camera's pipeline (``appliance.frontal.rear_camera``), started; None when
    ``rear_camera.source`` is none. ``sim`` is the simulated side runner's own rear view."""
    spec = settings.rear_camera.source
    if spec == "none":
        return None
    from appliance.frontal.rear_camera import RearCamera

    rear = settings.rear_camera
    if spec == "sim":
        if sim_source is None:
            raise StartupError("rear_camera.source sim is the simulated runner's rear view: it needs the simulated side "
                               "camera too (camera.source sim), or set rear_camera.source to a real camera")
        from appliance.sources.simulated import SimulatedRearSource

        return RearCamera(SimulatedRearSource(sim_source, fps=rear.fps), None, rear.view, joined=True).start()
    from appliance.pose.engine import PoseEngine
    from appliance.pose.model_files import ModelError
    from appliance.sources.base import SourceError, open_source

    try:
        source = open_source(spec, rear, realtime=replay == "realtime")
    except SourceError as e:
        raise StartupError(f"rear camera: {e}") from e
    if source is None:
        raise StartupError(f"rear camera: no camera found for rear_camera.source {spec!r}; connect it or set it to none")
    try:
        engine = PoseEngine.from_settings(settings.pose.model_copy(update={"threads": 1}))  # a spare core
    except ModelError as e:
        source.close()
        raise StartupError(str(e)) from e
    return RearCamera(source, engine, rear.view, joined=True).start()


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


def open_audio(settings: Settings, simulated: bool, data_dir: Path) -> tuple[Any, Path | None]:
    """The audio engine with spoken prompts (metronome only when the prompts cannot be made), and
    the WAV file a simulated run renders to (None when it plays or renders nothing)."""
    from appliance.outputs import AudioEngine, AudioError, PromptError

    s = settings
    out = None
    if simulated:
        if s.audio.sink != "null":
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            out = data_dir / "audio" / f"run-{stamp}.wav"
            out.parent.mkdir(parents=True, exist_ok=True)
        open_engine = lambda prompts: AudioEngine.offline(s.audio, out, data_dir=data_dir,  # noqa: E731
                                                          with_prompts=prompts)
    else:
        open_engine = lambda prompts: AudioEngine.open(s.audio, data_dir=data_dir, with_prompts=prompts)  # noqa: E731
    try:
        try:
            return open_engine(True), out
        except PromptError as e:
            log.warning("spoken prompts unavailable (%s); metronome only", e)
            return open_engine(False), out
    except AudioError as e:
        if not (simulated and out is not None):
            raise StartupError(str(e)) from e
        log.warning("%s; the simulated session's sound is not recorded", e)  # e.g. a full disk
        out = None
        return open_engine(False), None


def open_lights(settings: Settings, simulated: bool) -> tuple[Any, Any]:
    """The GPIO pin factory (mock for the simulated runner) and the lights on it."""
    from appliance.outputs import Lights, make_pin_factory

    factory_name = "mock" if simulated else settings.gpio.pin_factory
    try:
        pin_factory = make_pin_factory(factory_name)
        return pin_factory, Lights.from_settings(settings.lights, pin_factory)
    except Exception as e:  # gpiozero raises many kinds for a busy or missing pin
        raise StartupError(f"lights: {e} (check lights.* pins and gpio.pin_factory)") from e


def open_button(settings: Settings, loop: ControlLoop, pin_factory: Any,
                selected_runner: Callable[[], int | None]) -> Any:
    """The session button (None when off): a press starts the selected runner's session when idle,
    else pauses or resumes it; a hold stops it. Both run on the loop thread."""
    from appliance.outputs import SessionButton

    s = settings
    if not s.button.enabled:
        return None

    def press() -> None:
        loop.post(lambda t: loop.session_command("toggle", selected_runner(), t))

    def hold() -> None:
        loop.post(lambda t: loop.session_command("stop", t) if loop.session.active else None)

    try:
        return SessionButton.from_settings(s.button, on_press=press, on_hold=hold, pin_factory=pin_factory)
    except Exception as e:  # a pin already used by the lights, or no GPIO
        raise StartupError(f"button on GPIO {s.button.pin}: {e} (check button.pin)") from e


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
