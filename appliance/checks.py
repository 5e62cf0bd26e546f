"""The result of checking one part of the appliance, in one shape for every part.

Each part (camera, pose model, audio out, lights, button; ``appliance.hardware``) has a
``check(options) -> CheckResult``, and so do the checks that are not parts (disk, backup,
temperature; ``appliance.commands.selftest``). ``appliance selftest`` is a loop over them.

>>> CheckResult("disk", "WARN", "0.30 GB free", "make room").line()
'WARN  disk        0.30 GB free; fix: make room'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from appliance.errors import ApplianceError, with_fix

Status = Literal["PASS", "WARN", "FAIL", "SKIP"]

SERVICE_BUSY_FIX = "if appliance.service is running, stop it first: sudo systemctl stop appliance"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: what was found (``detail``), and how to fix it unless it passed."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    @classmethod
    def failed(cls, name: str, error: ApplianceError, context: str = "", fix: str = "") -> CheckResult:
        """A FAIL from an appliance error: its message (after ``context``), its own fix or ``fix``."""
        detail = f"{context}: {error.message}" if context else error.message
        return cls(name, "FAIL", detail, error.fix or fix)

    def line(self) -> str:
        """``STATUS  name  detail`` and, unless it passed, ``; fix: ...`` (``appliance.errors.with_fix``)."""
        return f"{self.status}  {self.name:<11} {with_fix(self.detail, self.fix if self.status != 'PASS' else '')}"


@dataclass
class CheckOptions:
    """What the checks of the parts need from the person running them."""

    frames: int = 60  # camera frames to measure the rate over
    button_timeout: float = 10.0  # seconds to wait for a press
    word: str = "ready"  # the word the audio check speaks
    prompt: Callable[[str], None] = field(default=print)  # tells the person what to do (press the button)
