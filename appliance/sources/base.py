"""The frame-source interface, the kinds of source (one module each), and the factory that turns a
source spec into a source."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from appliance.errors import ApplianceError
from appliance.types import Frame


class SourceError(ApplianceError):
    """A source that cannot be opened or has stopped delivering frames: what and (``fix``) what to do."""


class FrameSource(Protocol):
    """Anything that yields frames with capture times; ``close()`` releases the device."""

    name: str
    nominal_fps: float

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...


RATE_SUFFIX = re.compile(r" \(x([0-9.]+)\)$")


def with_capture_rate(name: str, rate: float) -> str:
    """A source's name as stored with its sessions; a source whose capture clock runs faster than the
    wall clock (the sped-up simulated runner) names its rate: ``"sim (x6)"``."""
    return name if rate == 1 else f"{name} (x{rate:g})"


def capture_rate(name: str | None) -> float:
    """Capture seconds per wall second of a source, read from its stored name (1 unless it names a
    rate: ``with_capture_rate``); how a crashed session's end is put back in wall time."""
    found = RATE_SUFFIX.search(name or "")
    try:
        rate = float(found.group(1)) if found else 1.0
    except ValueError:
        return 1.0
    return rate if rate > 0 else 1.0


def pi_camera_available() -> bool:
    """True when picamera2 is importable and libcamera sees a camera."""
    try:
        from picamera2 import Picamera2  # type: ignore[import-not-found]
    except ImportError:
        return False
    try:
        return len(Picamera2.global_camera_info()) > 0
    except Exception:  # libcamera errors differ between releases; no camera is the answer
        return False


def webcam_available(index: int = 0) -> bool:
    return Path(f"/dev/video{index}").exists()


@dataclass(frozen=True)
class SourceKind:
    """One kind of frame source. Each lives in its own module under ``appliance/sources/`` as
    ``KIND``, where ``source_kinds`` finds it: a new camera is one new module.

    ``open(argument, camera, realtime)`` opens a source from the spec's part after ``prefix:``
    (None when the spec has no colon), ``camera`` being ``Settings.camera`` (size, rate) or None.
    """

    prefix: str  # the spec's name: picamera, webcam, video
    usage: str  # how specs of this kind are written, for errors: "webcam:N"
    open: Callable[[str | None, Any, bool], FrameSource]
    auto_rank: int | None = None  # ``auto`` tries the kinds that have one, lowest first
    found: Callable[[], bool] = field(default=lambda: False)  # for ``auto``: is one on this machine


@cache
def source_kinds() -> tuple[SourceKind, ...]:
    """Every module's ``KIND`` in this package, in the order ``auto`` tries them, then the rest."""
    import appliance.sources as package

    kinds = []
    for info in pkgutil.iter_modules(package.__path__):
        kind = getattr(importlib.import_module(f"{package.__name__}.{info.name}"), "KIND", None)
        if isinstance(kind, SourceKind):
            kinds.append(kind)
    return tuple(sorted(kinds, key=lambda k: (k.auto_rank is None, k.auto_rank or 0, k.prefix)))


def source_choices() -> str:
    """The specs ``open_source`` understands, in words."""
    return "auto, " + ", ".join(kind.usage for kind in source_kinds()) + " or sim"


def open_source(spec: str, camera=None, realtime: bool = True) -> FrameSource | None:
    """The camera or video file for ``spec`` (see the package docstring); None for ``auto`` on a
    machine without a camera. ``camera`` is ``Settings.camera`` (size, rate). ``sim`` is no camera
    but the simulated runner, which ``appliance.hardware`` chooses instead: a SourceError here."""
    if spec == "sim":
        raise SourceError("source 'sim' is the simulated runner, not a camera",
                          "choose it for the whole appliance (appliance run --source sim), or name a camera")
    if spec == "auto":
        for kind in source_kinds():
            if kind.auto_rank is not None and kind.found():
                return kind.open(None, camera, realtime)
        return None
    prefix, colon, argument = spec.partition(":")
    for kind in source_kinds():
        if kind.prefix == prefix:
            return kind.open(argument if colon else None, camera, realtime)
    raise SourceError(f"unknown source {spec!r}", f"use {source_choices()}")


def device_number(spec_kind: str, argument: str | None, fix: str) -> int:
    """The device number of ``picamera:N`` or ``webcam:N`` (0 without one); SourceError with ``fix``."""
    if argument is None:
        return 0
    if not argument.isdigit():
        raise SourceError(f"source '{spec_kind}:{argument}' is not a {spec_kind} number", fix)
    return int(argument)
