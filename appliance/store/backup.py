"""Backups of the appliance's data, and their restore onto another card.

A backup is one ``.tar.gz`` archive holding:

- ``manifest.json`` (first): what made it (appliance version, database schema), when, the counts of
  runners, sessions, steps and cue events, and the SHA-256 and size of every other member;
- ``appliance.db``: a consistent snapshot of the database taken with SQLite's online backup API
  while the appliance runs (one read transaction: every step committed before it started is in it,
  nothing half-written is), converted to a single file (no WAL) and checked with
  ``PRAGMA integrity_check`` before it is packed;
- ``settings.json`` and ``panel-pin.json`` (the PIN's scrypt hash) when they exist.

The archive is written to a temporary name beside its destination and renamed when complete, with
mode 0600 (it holds patients' records and the PIN hash).

A restore (``restore_backup``) refuses while an appliance process holds the data directory, checks
every member's checksum, the database's integrity and a schema this appliance can migrate, opens
the restored database with the Store (migrating it) in a staging directory, and only then moves the
current data aside (``DATA_DIR/before-restore-<time>/``) and the restored files in. A damaged or
foreign archive is refused with one line naming the problem, and the current data is not touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import shutil
import socket
import sqlite3
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from appliance import __version__
from appliance.config import atomic_file
from appliance.store.database import DB_FILENAME, Store
from appliance.store.records import StoreError
from appliance.store.schema import SCHEMA_VERSION

log = logging.getLogger(__name__)

BACKUP_FORMAT = "appliance-backup"
BACKUP_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SETTINGS_MEMBER = "settings.json"
PIN_MEMBER = "panel-pin.json"  # appliance.web.pin.PIN_FILE_NAME (not imported: the store stays below the web)
MEMBERS = (DB_FILENAME, SETTINGS_MEMBER, PIN_MEMBER)
MAX_MANIFEST_BYTES = 1 << 20
COUNTED_TABLES = ("runners", "sessions", "steps", "cue_events")
LOCK_SUFFIX = ".lock"  # the Store's advisory lock: <db>.lock


class BackupError(StoreError):
    """A backup or restore that cannot be done; the message is one line naming the problem and the fix."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup archive holds (its manifest), and where it is."""

    path: Path
    bytes: int
    seconds: float
    created: str
    appliance_version: str
    schema_version: int
    counts: dict[str, int] = field(default_factory=dict)
    members: tuple[str, ...] = ()

    def counts_text(self) -> str:
        return counts_text(self.counts)


def counts_text(counts: dict[str, int]) -> str:
    """'3 runners, 12 sessions, 45678 steps' (1 runner, 1 session...)."""
    def n(key: str, word: str) -> str:
        value = counts.get(key, 0)
        return f"{value} {word}{'' if value == 1 else 's'}"

    return f"{n('runners', 'runner')}, {n('sessions', 'session')}, {n('steps', 'step')}"


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows in each of the tables a backup's manifest counts."""
    return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in COUNTED_TABLES}


def _integrity_problem(conn: sqlite3.Connection) -> str | None:
    """None when ``PRAGMA integrity_check`` says ok, else its first problem."""
    rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(3)").fetchall()]
    if rows == ["ok"]:
        return None
    problems = [line for r in rows for line in r.splitlines() if line and not line.startswith("***")]
    return problems[0] if problems else rows[0]


def snapshot_database(store: Store, dest: Path) -> dict[str, int]:
    """A consistent copy of the store's database in ``dest`` (one file, no WAL), taken with the
    online backup API in one step on a reader connection, so the writer goes on meanwhile. Checked
    with ``PRAGMA integrity_check``; returns its counts."""
    target = sqlite3.connect(dest, isolation_level=None)
    try:
        try:
            with store.read_connection() as source:
                source.backup(target)  # pages=-1: every page in one read transaction
        except sqlite3.Error as e:
            raise BackupError(f"the database {store.path} cannot be read for the backup ({e}); "
                              "run `appliance selftest` and check the disk holding it") from e
        target.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
        problem = _integrity_problem(target)
        if problem is not None:
            raise BackupError(f"the database {store.path} fails its integrity check ({problem}); the backup was not "
                              "made: stop the appliance and restore the last good backup")
        return table_counts(target)
    finally:
        target.close()


def _atomic_archive(out: Path, members: list[tuple[str, Path]], manifest: dict) -> int:
    """Write the tar.gz (manifest first) whole beside ``out``, then rename it there; its size."""
    with atomic_file(out) as raw:
        with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:
            data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(data))
            for name, path in members:
                info = tar.gettarinfo(str(path), arcname=name)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mode = 0o600
                with open(path, "rb") as f:
                    tar.addfile(info, f)
    return out.stat().st_size


def create_backup(store: Store, out: Path, settings_path: Path | None = None, pin_path: Path | None = None,
                  work_dir: Path | None = None) -> BackupInfo:
    """Back up the running (or stopped) store, the settings file and the PIN hash into the archive
    ``out``. ``work_dir`` holds the snapshot while it is packed (default: beside ``out``)."""
    t0 = time.monotonic()
    out = Path(out)
    staging = Path(tempfile.mkdtemp(prefix=".backup-", dir=work_dir or out.parent))
    try:
        db_copy = staging / DB_FILENAME
        counts = snapshot_database(store, db_copy)
        members: list[tuple[str, Path]] = [(DB_FILENAME, db_copy)]
        for name, path in ((SETTINGS_MEMBER, settings_path), (PIN_MEMBER, pin_path)):
            if path is not None and Path(path).is_file():
                copy = staging / name
                shutil.copyfile(path, copy)
                members.append((name, copy))
        created = datetime.now(UTC).isoformat(timespec="seconds")
        manifest = {
            "format": BACKUP_FORMAT,
            "format_version": BACKUP_FORMAT_VERSION,
            "appliance_version": __version__,
            "schema_version": SCHEMA_VERSION,
            "created": created,
            "host": socket.gethostname(),
            "counts": counts,
            "members": {name: {"sha256": sha256_of(p), "bytes": p.stat().st_size} for name, p in members},
        }
        size = _atomic_archive(out, members, manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    info = BackupInfo(path=out, bytes=size, seconds=round(time.monotonic() - t0, 3), created=created,
                      appliance_version=__version__, schema_version=SCHEMA_VERSION, counts=counts,
                      members=tuple(name for name, _ in members))
    log.debug("backup %s: %s, %d bytes in %.2f s", out, info.counts_text(), size, info.seconds)
    return info


# ---- reading an archive -----------------------------------------------------------------------


def _refuse(archive: Path, problem: str) -> BackupError:
    return BackupError(f"{archive} cannot be restored: {problem}; nothing was changed")


def _read_manifest(archive: Path, data: bytes) -> dict:
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _refuse(archive, f"its manifest is not valid JSON ({e.msg if hasattr(e, 'msg') else e})") from e
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise _refuse(archive, "it is not an appliance backup (its manifest.json is another program's)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > BACKUP_FORMAT_VERSION:
        raise _refuse(archive, f"it was made by a newer appliance (backup format {version}); update this appliance first")
    members = manifest.get("members")
    if not isinstance(members, dict) or DB_FILENAME not in members:
        raise _refuse(archive, "its manifest lists no database")
    for name, entry in members.items():
        if name not in MEMBERS or not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            raise _refuse(archive, f"its manifest names an unexpected member {name!r}")
    return manifest


def unpack_backup(archive: Path, dest: Path) -> dict:
    """Check ``archive`` and extract its members into the empty directory ``dest``; returns the
    manifest. BackupError (one line) for anything but a complete appliance backup whose members
    match their checksums."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist or is not a file; give the path of a backup archive (.tar.gz)")
    manifest: dict | None = None
    seen: dict[str, str] = {}
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                if not member.isfile() or member.name not in (MANIFEST, *MEMBERS) or member.name in seen:
                    raise _refuse(archive, f"it holds {member.name!r}, which an appliance backup never holds "
                                           "(not an appliance backup, or altered)")
                f = tar.extractfile(member)
                if member.name == MANIFEST:
                    if manifest is not None or seen:
                        raise _refuse(archive, "its manifest is not its first member")
                    if member.size > MAX_MANIFEST_BYTES:
                        raise _refuse(archive, "its manifest is too large to be an appliance backup's")
                    manifest = _read_manifest(archive, f.read())
                    continue
                if manifest is None:
                    raise _refuse(archive, "it has no manifest.json first (not an appliance backup)")
                digest = hashlib.sha256()
                with open(dest / member.name, "wb") as out:
                    while chunk := f.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                seen[member.name] = digest.hexdigest()
            while tar.fileobj.read(1 << 20):  # to the end: the gzip trailer's CRC checks the padding too
                pass
    except (tarfile.TarError, EOFError, zlib.error) as e:
        raise _refuse(archive, f"it is not a complete tar.gz archive ({e}): damaged, cut short, or another kind of file") from e
    except OSError as e:
        if isinstance(e, BackupError):
            raise
        if getattr(e, "errno", None) is None:  # gzip.BadGzipFile and friends: the file, not the disk
            raise _refuse(archive, f"it is damaged or not a tar.gz archive ({e})") from e
        raise
    if manifest is None:
        raise _refuse(archive, "it has no manifest.json (not an appliance backup)")
    for name, entry in manifest["members"].items():
        if name not in seen:
            raise _refuse(archive, f"{name} is listed in its manifest but missing (the archive is incomplete)")
        if seen[name] != entry["sha256"]:
            raise _refuse(archive, f"{name} does not match its checksum (the archive is damaged)")
    extra = set(seen) - set(manifest["members"])
    if extra:
        raise _refuse(archive, f"{', '.join(sorted(extra))} is not listed in its manifest (altered)")
    return manifest


def check_restored_database(archive: Path, db: Path) -> int:
    """The unpacked database is whole (``PRAGMA integrity_check``) and of a schema this appliance
    can migrate; returns its schema version."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            problem = _integrity_problem(conn)
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise _refuse(archive, f"its database cannot be read ({e})") from e
    if problem is not None:
        raise _refuse(archive, f"its database fails the integrity check ({problem})")
    if version > SCHEMA_VERSION:
        raise _refuse(archive, f"its database has schema {version}, newer than this appliance's ({SCHEMA_VERSION}); "
                               "update the appliance first")
    if version < 1:
        raise _refuse(archive, "its database has no schema (not an appliance database)")
    return version


# ---- restore ----------------------------------------------------------------------------------


@contextlib.contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[None]:
    """Hold the lock an appliance process holds on its data directory (the Store's ``<db>.lock``);
    BackupError when an appliance runs on it."""
    lock_path = Path(data_dir) / (DB_FILENAME + LOCK_SUFFIX)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"the appliance is running on {data_dir}; stop it first "
                              "(sudo systemctl stop appliance), restore, then start it again") from None
        yield
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Restored:
    """What a restore put in place, and where the data it replaced went."""

    data_dir: Path
    counts: dict[str, int]
    created: str
    appliance_version: str
    schema_from: int
    members: tuple[str, ...]
    previous: Path | None  # the data set aside, or None when the directory held none

    def sentence(self) -> str:
        what = counts_text(self.counts)
        extras = [label for n, label in ((SETTINGS_MEMBER, "settings"), (PIN_MEMBER, "panel PIN")) if n in self.members]
        extra = f" with the {' and '.join(extras)}" if extras else ""
        aside = f"; the previous data is in {self.previous}" if self.previous else ""
        return (f"restored {what}{extra} from the backup of {self.created} (appliance {self.appliance_version}, "
                f"schema {self.schema_from}) into {self.data_dir}{aside}")


def _current_files(data_dir: Path) -> list[Path]:
    names = [DB_FILENAME, DB_FILENAME + "-wal", DB_FILENAME + "-shm", SETTINGS_MEMBER, PIN_MEMBER]
    return [data_dir / n for n in names if (data_dir / n).exists()]


def restore_backup(archive: Path, data_dir: Path) -> Restored:
    """Restore ``archive`` into ``data_dir`` (see the module docstring); BackupError when refused."""
    from appliance.config import ConfigError, load_settings

    archive, data_dir = Path(archive).resolve(), Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    with data_dir_lock(data_dir):
        staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=data_dir))
        try:
            manifest = unpack_backup(archive, staging)
            schema_from = check_restored_database(archive, staging / DB_FILENAME)
            if (staging / SETTINGS_MEMBER).exists():
                try:
                    load_settings(staging / SETTINGS_MEMBER)
                except ConfigError as e:
                    raise _refuse(archive, f"its settings cannot be used by this appliance ({e})") from e
            try:  # the Store opens it: quick_check, migrations, interrupted sessions
                Store(staging).close()
            except StoreError as e:
                raise _refuse(archive, f"its database does not open ({e})") from e
            conn = sqlite3.connect(staging / DB_FILENAME)
            try:
                counts = table_counts(conn)
            finally:
                conn.close()
            (staging / (DB_FILENAME + LOCK_SUFFIX)).unlink(missing_ok=True)
            members = tuple(n for n in MEMBERS if (staging / n).exists())
            current = _current_files(data_dir)
            previous = None
            if current:
                previous = data_dir / f"before-restore-{stamp}"
                previous.mkdir()
                for path in current:
                    os.replace(path, previous / path.name)
            try:
                for name in members:
                    os.replace(staging / name, data_dir / name)
                if (data_dir / PIN_MEMBER).exists():
                    os.chmod(data_dir / PIN_MEMBER, 0o600)
            except BaseException:
                _put_back(data_dir, previous, members)
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    try:  # the restored database opens where the appliance will open it
        Store(data_dir).close()
    except StoreError as e:
        with data_dir_lock(data_dir):
            _put_back(data_dir, previous, members)
        raise BackupError(f"the restored database does not open in {data_dir} ({e}); the previous data is back") from e
    return Restored(data_dir=data_dir, counts=counts, created=str(manifest.get("created", "?")),
                    appliance_version=str(manifest.get("appliance_version", "?")), schema_from=schema_from,
                    members=members, previous=previous)


def _put_back(data_dir: Path, previous: Path | None, members: tuple[str, ...]) -> None:
    """Undo a restore's swap: the restored files removed, the previous ones moved back."""
    for name in (*members, DB_FILENAME + "-wal", DB_FILENAME + "-shm"):
        (data_dir / name).unlink(missing_ok=True)
    if previous is not None:
        for path in previous.iterdir():
            os.replace(path, data_dir / path.name)
        previous.rmdir()


def read_manifest(archive: Path) -> dict:
    """The manifest of a backup archive (its first member), without unpacking the rest."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise _refuse(archive, "it has no manifest.json first (not an appliance backup)")
            return _read_manifest(archive, tar.extractfile(first).read(MAX_MANIFEST_BYTES))
    except (tarfile.TarError, EOFError, zlib.error) as e:
        raise _refuse(archive, f"it is not a complete tar.gz archive ({e})") from e
