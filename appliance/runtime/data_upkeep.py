"""The data's upkeep on a thread of its own, off the control loop: the scheduled backup (to the
directory or USB drive of the ``backup`` settings, every ``backup.every_hours``, the last
``backup.keep`` kept) and the retention limit (``storage.retention_months``, checked daily).

The backup reads the database through one of the store's readers (SQLite's online backup API) and
any erasure goes through the store's writer, so the control loop never waits for either. Settings
changed in the panel apply at the next check (every minute).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appliance.store import Store, StoreError
from appliance.store.backup_schedule import BackupStatus, next_due, read_status, run_scheduled_backup
from appliance.store.erase import delete_sessions_older_than

log = logging.getLogger(__name__)

CHECK_EVERY_S = 60.0
FIRST_BACKUP_AFTER_S = 120.0  # when none has succeeded yet: soon after start, once the appliance has settled
RETENTION_EVERY = timedelta(hours=24)


class DataUpkeep:
    """Runs the scheduled backup and the retention limit on its own thread."""

    def __init__(self, store: Store, settings: Callable[[], object], data_dir: Path, settings_path: Path | None,
                 check_every_s: float = CHECK_EVERY_S, first_after_s: float = FIRST_BACKUP_AFTER_S) -> None:
        self._store = store
        self._settings = settings
        self._data_dir = Path(data_dir)
        self._settings_path = settings_path
        self._check_every_s = check_every_s
        self._first_after_s = first_after_s
        self._started = datetime.now(UTC)
        self._status = read_status(self._data_dir)
        self._retention_due: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def status(self) -> BackupStatus | None:
        """The last scheduled backup's result; None while no backup target is set."""
        b = self._settings().backup
        return self._status if (b.directory is not None or b.drive_label) else None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="data-upkeep", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Ask the thread to stop; a backup being written is left to finish (its archive appears only
        when whole) or dies with the process."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self._check_every_s):
            try:
                self.tick()
            except Exception:  # never let upkeep die silently: log and try again at the next check
                log.exception("data upkeep failed")

    def tick(self, now: datetime | None = None) -> None:
        """One check: the retention limit when due, the backup when due."""
        now = now or datetime.now(UTC)
        settings = self._settings()
        months = settings.storage.retention_months
        if months and (self._retention_due is None or now >= self._retention_due):
            self._retention_due = now + RETENTION_EVERY
            try:
                erased = delete_sessions_older_than(self._store, months, now=now)
                if erased.sessions:
                    log.info("retention: %s", erased.sentence(f"sessions older than {months} months"))
            except StoreError as e:
                log.error("retention: sessions older than %d months could not be erased: %s", months, e)
        b = settings.backup
        if b.directory is None and not b.drive_label:
            return
        if now >= next_due(self._status, b.every_hours, self._started, self._first_after_s):
            status = run_scheduled_backup(self._store, settings, self._data_dir, self._settings_path, now=now)
            if status is not None:
                self._status = status
