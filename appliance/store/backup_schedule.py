"""The scheduled backup's pieces: where it goes (a directory, or a USB drive found by its label),
one generation written and the oldest beyond ``backup.keep`` deleted, and its last result kept in
``DATA_DIR/backup-status.json`` for the Health page and ``appliance selftest``.

The thread that runs it is ``appliance.runtime.data_upkeep.DataUpkeep``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, Field

from appliance.store.backup import PIN_MEMBER, BackupError, create_backup
from appliance.store.database import Store

log = logging.getLogger(__name__)

STATUS_FILE = "backup-status.json"
GENERATION_PATTERN = re.compile(r"^appliance-backup-\d{8}-\d{6}\.tar\.gz$")
LABEL_SUBDIR = "appliance-backups"  # on a drive found by its label, backups go in this folder
STALE_PART_S = 3600.0  # a half-written archive (power cut during a backup) older than this is removed


class BackupStatus(BaseModel):
    """The last scheduled backup's result (Health, selftest)."""

    ok: bool = Field(description="True when the last scheduled backup was written")
    finished: str = Field(description="When it ended (ISO 8601, UTC)")
    message: str = Field(description="One line: what was backed up where, or what failed and the fix")
    target: str = Field("", description="The directory the backup went to")
    file: str | None = Field(None, description="The archive written")
    bytes: int | None = None
    seconds: float | None = Field(None, description="How long the backup took")
    counts: dict[str, int] = Field(default_factory=dict, description="Runners, sessions, steps and cue events in it")
    last_success: str | None = Field(None, description="When a scheduled backup last succeeded (ISO 8601, UTC)")
    same_disk: bool = Field(False, description="True when the target is on the disk that holds the data: it will not survive that disk")


def _unescape_mount(field: str) -> str:
    """/proc/mounts writes spaces and such as octal escapes (\\040)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def drive_mount_point(label: str, by_label: Path = Path("/dev/disk/by-label"),
                      mounts: Path = Path("/proc/self/mounts")) -> Path:
    """Where the drive labelled ``label`` is mounted; BackupError saying what to do when it is not."""
    link = by_label / label.replace(" ", "\\x20")
    device = link.resolve() if link.exists() else None
    try:
        lines = mounts.read_text().splitlines()
    except OSError as e:
        raise BackupError(f"cannot read the mount table {mounts} ({e.strerror})") from e
    for line in lines:
        parts = line.split()
        if len(parts) < 2:
            continue
        source, point = _unescape_mount(parts[0]), Path(_unescape_mount(parts[1]))
        if device is not None and source.startswith("/") and Path(source).resolve() == device:
            return point
        if device is None and point.name == label and str(point).startswith(("/media/", "/mnt/", "/run/media/")):
            return point
    if device is None:
        raise BackupError(f"no drive labelled {label!r} is plugged in; plug in the backup drive (or set backup.drive_label "
                          "to the label of the one you use)")
    raise BackupError(f"the drive labelled {label!r} is plugged in but not mounted; mount it, e.g. with the /etc/fstab line "
                      f"'LABEL={label.replace(' ', chr(92) + '040')} /media/{label.replace(' ', '_')} auto nofail,noatime 0 0' "
                      "and `sudo mount -a`")


def backup_target(settings, by_label: Path = Path("/dev/disk/by-label"),
                  mounts: Path = Path("/proc/self/mounts")) -> Path | None:
    """The directory scheduled backups go to (``settings`` is the whole Settings), None when no
    target is set; BackupError when the target is set but not usable now."""
    b = settings.backup
    if b.directory is not None:
        directory = Path(b.directory)
        if not directory.is_dir():
            raise BackupError(f"the backup directory {directory} does not exist; create it, or plug in and mount the "
                              "drive it lives on")
    elif b.drive_label:
        directory = drive_mount_point(b.drive_label, by_label, mounts) / LABEL_SUBDIR
        directory.mkdir(exist_ok=True)
    else:
        return None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise BackupError(f"the backup directory {directory} is not writable by this user; give the appliance's user "
                          f"write access (sudo chown appliance {directory})")
    return directory


def generation_name(when: datetime) -> str:
    return f"appliance-backup-{when.astimezone(UTC).strftime('%Y%m%d-%H%M%S')}.tar.gz"


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete the oldest generations beyond ``keep`` and half-written leftovers; returns what went.
    Only files named as the scheduled backup names them are touched."""
    gone = []
    generations = sorted(p for p in directory.iterdir() if GENERATION_PATTERN.match(p.name) and p.is_file())
    for path in generations[:-keep] if keep > 0 else generations:
        path.unlink(missing_ok=True)
        gone.append(path)
    now = time.time()
    for path in directory.iterdir():
        if path.name.startswith((".appliance-backup-", ".backup-")):
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > STALE_PART_S:
                    if path.is_dir():
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        path.unlink()
                    gone.append(path)
    return gone


def read_status(data_dir: Path) -> BackupStatus | None:
    """The last scheduled backup's result, or None when none has run (or the file is unreadable)."""
    try:
        return BackupStatus.model_validate_json((Path(data_dir) / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None


def write_status(data_dir: Path, status: BackupStatus) -> None:
    from appliance.config import atomic_write_text

    try:
        atomic_write_text(Path(data_dir) / STATUS_FILE, status.model_dump_json(indent=1) + "\n")
    except OSError as e:  # a full disk: Health still shows the result held in memory
        log.error("cannot write %s: %s", Path(data_dir) / STATUS_FILE, e)


def run_scheduled_backup(store: Store, settings, data_dir: Path, settings_path: Path | None,
                         now: datetime | None = None, **where) -> BackupStatus | None:
    """One scheduled backup: a new generation in the target, the oldest beyond ``backup.keep``
    deleted, the result written to the status file. None when no target is set."""
    data_dir = Path(data_dir)
    now = now or datetime.now(UTC)
    previous = read_status(data_dir)
    last_success = previous.last_success if previous is not None else None
    finished = lambda: datetime.now(UTC).isoformat(timespec="seconds")  # noqa: E731
    target: Path | None = None
    try:
        target = backup_target(settings, **where)
        if target is None:
            return None
        info = create_backup(store, target / generation_name(now), settings_path=settings_path,
                             pin_path=data_dir / PIN_MEMBER)
        removed = prune(target, settings.backup.keep)
        same_disk = os.stat(target).st_dev == os.stat(data_dir).st_dev
        warning = "; it is on the same disk as the data, so it will not survive that disk: use a USB drive" if same_disk else ""
        status = BackupStatus(
            ok=True, finished=finished(), target=str(target), file=str(info.path), bytes=info.bytes,
            seconds=info.seconds, counts=info.counts, last_success=finished(), same_disk=same_disk,
            message=(f"backed up {info.counts_text()} to {info.path} ({info.bytes / 1e6:.1f} MB in {info.seconds:.1f} s"
                     f"{f', {len(removed)} old removed' if removed else ''}){warning}"),
        )
    except (BackupError, OSError) as e:
        reason = str(e) if isinstance(e, BackupError) else f"{e.strerror or e} ({getattr(e, 'filename', '')})"
        fix = "" if isinstance(e, BackupError) else "; check the backup drive and its free space"
        status = BackupStatus(ok=False, finished=finished(), target=str(target or ""), last_success=last_success,
                              message=f"the scheduled backup failed: {reason}{fix}")
        log.error("%s", status.message)
    write_status(data_dir, status)
    return status


def next_due(status: BackupStatus | None, every_hours: float, started: datetime,
             first_after_s: float = 120.0, retry_after_s: float = 3600.0) -> datetime:
    """When the next scheduled backup is due: ``every_hours`` after the last success, an hour after a
    failure (sooner when the interval is shorter), and a couple of minutes after start when none
    has ever succeeded."""
    every = timedelta(hours=every_hours)
    if status is not None and not status.ok:
        return datetime.fromisoformat(status.finished) + min(every, timedelta(seconds=retry_after_s))
    if status is None or status.last_success is None:
        return started + timedelta(seconds=first_after_s)
    return datetime.fromisoformat(status.last_success) + every


def backup_verdict(settings, data_dir: Path, now: datetime | None = None,
                   **where) -> tuple[str, str, str]:
    """What ``appliance selftest`` says of the scheduled backup: (PASS, FAIL or SKIP, what was
    found, the fix)."""
    now = now or datetime.now(UTC)
    try:
        target = backup_target(settings, **where)
    except BackupError as e:
        return "FAIL", str(e), "plug in and mount the backup drive, or correct backup.drive_label / backup.directory"
    if target is None:
        return ("SKIP", "no backup target set: the data lives on this card only",
                "set backup.drive_label (a USB drive) in the panel's Settings, or backup.directory in the settings file")
    status = read_status(data_dir)
    if status is None or status.last_success is None:
        detail = f"{target} is writable; no scheduled backup yet (the first is made 2 minutes after the appliance starts)"
        if status is not None:
            return "FAIL", f"{detail}; the last attempt: {status.message}", "see the message above"
        return "PASS", detail, ""
    if not status.ok:
        return "FAIL", status.message, "see the message above; the appliance retries every hour"
    age = now - datetime.fromisoformat(status.last_success)
    limit = timedelta(hours=2 * settings.backup.every_hours)
    if age > limit:
        return ("FAIL", f"the last backup is {age.total_seconds() / 86400:.1f} days old ({status.file})",
                "keep the appliance running with the drive plugged in, or run `appliance backup` by hand")
    if status.same_disk:
        return "FAIL", status.message, "back up to a USB drive (backup.drive_label): a copy on the same card dies with it"
    return "PASS", f"last backup {status.last_success}: {status.message.removeprefix('backed up ')}", ""
