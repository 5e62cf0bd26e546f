"""Whether restarting helps a stage of the control loop that keeps failing.

A stage that failed on every frame until the loop gave up leaves ``STAGE_FAULT_FILE`` in the data
dir; when a process started within ``REPEAT_WITHIN_S`` of it gives up on the same stage with the
same kind of error, the restart did not help (a saved setting, a file on disk): the appliance then
goes on without that stage instead of restarting forever. The file goes when the stage works again.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

log = logging.getLogger("appliance.runtime.app")  # the lines these calls log kept their logger

STAGE_FAULT_FILE = "stage-fault.json"
REPEAT_WITHIN_S = 3600.0


class StageFaultMemory:
    """The loop's ``on_stage_gave_up`` and ``on_stage_recovered`` (loop thread), remembering a
    given-up stage across one restart in ``data_dir / STAGE_FAULT_FILE``."""

    def __init__(self, data_dir: Path, started_epoch: float):
        self.path = data_dir / STAGE_FAULT_FILE
        self.started_epoch = started_epoch  # when this process started (epoch seconds)

    def _marker(self) -> dict | None:
        try:
            marker = json.loads(self.path.read_text())
            return marker if isinstance(marker, dict) else None
        except (OSError, ValueError):
            return None

    def gave_up(self, fault) -> bool:
        """A stage failed on every frame for STAGE_GIVE_UP_S: True ends the loop (the process exits 1
        and systemd restarts it), unless it failed the same way just before this start: then a
        restart does not help, and the appliance goes on without the stage (False), said once."""
        kind = fault.last_error.split(":", 1)[0]
        before = self._marker()
        if (before is not None and before.get("stage") == fault.stage and before.get("kind") == kind
                and 0 <= self.started_epoch - float(before.get("time", 0)) < REPEAT_WITHIN_S):
            log.critical("the %s stage fails again as it did before the restart (%s): a restart does not help, "
                         "so the appliance goes on without it (no cues) and the panel stays up: change the "
                         "setting that causes it (Settings) or run appliance selftest", fault.stage, fault.last_error)
            return False
        marker = {"stage": fault.stage, "kind": kind, "error": fault.last_error, "time": time.time()}
        try:
            self.path.write_text(json.dumps(marker) + "\n")
        except OSError as e:  # a full disk: the restart then gives up once more, that is all
            log.error("cannot write %s: %s", self.path, e)
        return True

    def recovered(self, stage: str) -> None:
        """The stage works again: forget it."""
        before = self._marker()
        if before is not None and before.get("stage") == stage:
            self.path.unlink(missing_ok=True)
