"""The Store: the appliance's SQLite file, one writer thread fed by a queue, a small pool of readers
(see the package docstring for the guarantees)."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import queue
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.sources.base import capture_rate
from appliance.store.export import ExportFormat, session_export
from appliance.store.records import (
    SESSION_STATES,
    CueEvent,
    NotFound,
    Runner,
    Session,
    SessionState,
    SettingsChange,
    StepRecord,
    StoreError,
    dumps,
    finite,
)
from appliance.store.schema import FRONTAL_COLUMNS, MIGRATIONS, SCHEMA_VERSION, STEP_FIELDS, UPSERT_STEP
from appliance.types import Step

log = logging.getLogger(__name__)

DB_FILENAME = "appliance.db"

READERS = 4  # open read connections at most, whatever the number of panel threads
READER_WAIT_S = 10.0  # a reader waits this long for a free connection before the request fails
BATCH = 1000  # writes per transaction
# Writes nobody waits for (steps, cue events...) kept in memory while the disk refuses them. A
# running session queues about 350 a minute (each step at contact and again final, plus cues), so
# this holds about 2 1/2 hours of running in some 35 MB (about 670 bytes a step, measured with
# tracemalloc); beyond it new steps are dropped and counted.
MAX_WAITING_WRITES = 50_000
RETRY_FIRST_S = 0.1  # first retry after a failed commit, doubling up to
RETRY_MAX_S = 2.0
CLOSE_RETRY_S = 1.0  # at close, how long waiting writes may still be retried before they are given up
REMIND_EVERY_S = 600.0  # a lasting write fault is logged again (with its counts) this often

# SQLite result codes (primary) that mean the storage, not the write, is at fault: keep and retry.
_STORAGE_FAULTS = {
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_IOERR: "the disk reports an I/O error",
    sqlite3.SQLITE_CORRUPT: "the database file is damaged",
    sqlite3.SQLITE_NOTADB: "the database file is damaged",
    sqlite3.SQLITE_CANTOPEN: "the database file cannot be opened",
    sqlite3.SQLITE_READONLY: "the database file is read-only",
    sqlite3.SQLITE_BUSY: "the database is locked by another process",
    sqlite3.SQLITE_LOCKED: "the database is locked",
    sqlite3.SQLITE_NOMEM: "the machine is out of memory",
    sqlite3.SQLITE_PROTOCOL: "the database's lock protocol failed",
}
_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    if readonly:
        uri = f"file:{path}?mode=ro"
        if not os.access(path.parent, os.W_OK) and not any(Path(f"{path}{x}").exists() for x in ("-wal", "-shm")):
            # A read-only directory (a copied card, a read-only mount): SQLite cannot make the shared
            # memory file a WAL reader needs, and no WAL holds anything newer than the file itself.
            uri += "&immutable=1"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _primary_code(e: BaseException) -> int | None:
    code = getattr(e, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def storage_fault(e: BaseException) -> str | None:
    """What is wrong with the storage, in plain words, when ``e`` is a storage fault (disk full, I/O
    error, damaged file...) rather than a write the database refuses; else None."""
    if isinstance(e, OSError):
        return e.strerror or str(e)
    code = _primary_code(e)
    if code in _STORAGE_FAULTS:
        return _STORAGE_FAULTS[code]
    text = str(e).lower()
    if isinstance(e, sqlite3.DatabaseError) and ("malformed" in text or "not a database" in text):
        return "the database file is damaged"
    return None


def damaged_message(path: Path, detail: str) -> str:
    """The one line that names a damaged database file and the fix."""
    detail = " ".join(detail.split())
    return (f"database {path} is damaged ({detail}); stop the appliance, move the file away "
            f"(mv {path} {path}.damaged) and start it again: a new empty database is created")


def _is_damaged(e: BaseException) -> bool:
    return _primary_code(e) in _DAMAGED or storage_fault(e) == "the database file is damaged"


@dataclass(frozen=True)
class WriteFault:
    """Recording fails: the storage refuses the writer's commits (a copy for the live view and health)."""

    reason: str  # plain words, e.g. "the disk is full"
    since: float  # epoch seconds of the first failure of this episode
    attempts: int  # failed commits in this episode
    waiting: int  # writes kept in memory, written when the storage accepts them again
    dropped: int  # writes given up since the start (memory limit reached, or still failing at close)

    def sentence(self, directory: Path) -> str:
        """One line for the clinician: what fails and what to do."""
        fix = (f"free space on the disk holding {directory}" if "full" in self.reason
               else f"check the disk holding {directory}")
        lost = f", {self.dropped} lost" if self.dropped else ""
        return f"recording fails: {self.reason} ({self.waiting} writes waiting in memory{lost}); {fix}"


class _Write:
    """One queued write: ``fn(conn)``, the future of a caller who waits (or None), whether it is
    kept while the storage fails (no caller waits for it) or fails at once, and whether it runs
    alone outside the writer's transactions (``bare``: VACUUM, checkpoints, its own transactions)."""

    __slots__ = ("fn", "future", "keep", "bare")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any], future: Future | None, keep: bool,
                 bare: bool = False) -> None:
        self.fn = fn
        self.future = future
        self.keep = keep
        self.bare = bare


class _ReaderPool:
    """At most ``size`` read-only connections, lent one request at a time: the number of open files
    does not grow with the number of threads that read (panel worker threads come and go)."""

    def __init__(self, path: Path, size: int) -> None:
        self._path = path
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        if self._closed:
            raise StoreError(f"database {self._path} is closed")
        if not self._slots.acquire(timeout=READER_WAIT_S):
            raise StoreError(f"database {self._path} is busy: no reader free within {READER_WAIT_S:g} s; try again")
        conn = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = _connect(self._path, readonly=True)
            yield conn
        except sqlite3.DatabaseError:
            if conn is not None:  # not lent again: a fresh connection reads the file anew
                conn.close()
                conn = None
            raise
        finally:
            if conn is not None:
                if self._closed:
                    conn.close()
                else:
                    self._idle.put(conn)
            self._slots.release()

    @property
    def idle(self) -> int:
        return self._idle.qsize()

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


# ---- the store --------------------------------------------------------------------------------

_STOP = object()


class Store:
    """The appliance's SQLite database (see the module docstring).

    ``path`` is the database file or a data directory (then ``<dir>/appliance.db``).
    """

    def __init__(self, path: Path, readonly: bool = False) -> None:
        path = Path(path)
        if path.is_dir() or path.suffix == "":
            path = path / DB_FILENAME
        self.path = path
        self.readonly = readonly
        self.write_errors = 0
        self.recovered_sessions: list[int] = []
        self._pool = _ReaderPool(path, READERS)
        self._queue: queue.Queue = queue.Queue()
        self._writer: threading.Thread | None = None
        self._lock_fd: int | None = None
        self._closed = False
        self._fault: WriteFault | None = None
        self._waiting: list[_Write] = []  # the writer's: writes taken from the queue, not yet committed
        self._dropped = 0
        if readonly:
            if not path.exists():
                raise StoreError(f"no database at {path}: check --data-dir (the appliance creates it on its first run)")
            self._check_readable()
            version = self._rows("PRAGMA user_version")[0][0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"database {path} has schema {version}, newer than this appliance ({SCHEMA_VERSION})")
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the data directory {path.parent} ({e.strerror}); "
                             "create it with write access for the appliance's user, or choose another --data-dir") from e
        self._take_lock()
        try:
            self._wconn = _connect(path, readonly=False)
            self._quick_check(self._wconn)
            mode = self._wconn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"database {path} cannot use WAL mode (got {mode}); put the data dir on a local disk")
            self._wconn.execute("PRAGMA synchronous = FULL")
            self._migrate()
            self.recovered_sessions = self._recover_interrupted()
        except sqlite3.DatabaseError as e:
            self._release_lock()
            if _is_damaged(e):
                raise StoreError(damaged_message(path, str(e))) from e
            raise StoreError(f"database {path} cannot be opened ({e}); move it away to start a new one") from e
        except BaseException:
            self._release_lock()
            raise
        self._writer = threading.Thread(target=self._write_loop, name="store-writer", daemon=True)
        self._writer.start()

    def _quick_check(self, conn: sqlite3.Connection) -> None:
        """Refuse a database damaged inside (``PRAGMA quick_check``): better a clear refusal at start
        than failing reads in the panel later."""
        rows = [r[0] for r in conn.execute("PRAGMA quick_check(3)").fetchall()]
        if rows != ["ok"]:
            problems = [line for r in rows for line in str(r).splitlines() if line and not line.startswith("***")]
            more = " and more" if len(problems) > 1 else ""
            raise StoreError(damaged_message(self.path, f"quick_check: {problems[0] if problems else rows[0]}{more}"))

    def _check_readable(self) -> None:
        """A reader's start: the file is a database and is not damaged (export, beside a running appliance)."""
        try:
            with self._pool.connection() as conn:
                self._quick_check(conn)
        except sqlite3.DatabaseError as e:
            raise self._read_error(e) from e

    # ---- lifecycle ----

    def _take_lock(self) -> None:
        lock_path = str(self.path) + ".lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise StoreError(f"cannot write in the data directory {self.path.parent} ({e.strerror}); give the "
                             "appliance's user write access to it, or choose another --data-dir") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreError(
                f"database {self.path} is in use by another appliance process; stop it first "
                "(readers such as `appliance export` open it read-only)"
            ) from None
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def close(self) -> None:
        """Commit everything queued, stop the writer, close every connection. Writes the storage still
        refuses are retried for ``CLOSE_RETRY_S`` and then given up (logged with their count): closing
        never raises and never hangs on a full disk."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._queue.put(_STOP)
            self._writer.join()
        self._pool.close()
        if self._writer is not None:  # the last connection to close checkpoints the WAL into the file
            self._wconn.close()
        self._release_lock()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _migrate(self) -> None:
        conn = self._wconn
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database {self.path} has schema {version}, newer than this appliance ({SCHEMA_VERSION}); update the appliance"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[target - 1].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            log.info("database %s migrated to schema %d", self.path, target)

    def _recover_interrupted(self) -> list[int]:
        """Mark sessions left 'running' by a dead process as interrupted; their end is estimated
        from the last recorded step or cue."""
        conn = self._wconn
        rows = conn.execute("SELECT id, started, t_start, source FROM sessions WHERE state = 'running'").fetchall()
        recovered = []
        now = datetime.now(UTC)
        for row in rows:
            last_t = conn.execute(
                "SELECT max(t) FROM (SELECT max(t_ic) AS t FROM steps WHERE session_id = ?1 "
                "UNION ALL SELECT max(t) FROM cue_events WHERE session_id = ?1)",
                (row["id"],),
            ).fetchone()[0]
            ended = datetime.fromisoformat(row["started"])
            if last_t is not None and row["t_start"] is not None:
                # Capture seconds are wall seconds unless the source named a faster clock; and an end
                # is never later than now (a replay as fast as it decodes has no rate to divide by).
                wall_s = max(0.0, last_t - row["t_start"]) / capture_rate(row["source"])
                ended = min(datetime.fromtimestamp(ended.timestamp() + wall_s, UTC), max(now, ended))
            conn.execute(
                "UPDATE sessions SET state = 'interrupted', ended = ? WHERE id = ?",
                (ended.isoformat(timespec="milliseconds"), row["id"]),
            )
            recovered.append(int(row["id"]))
            log.warning("session %d was left running by a process that stopped; marked interrupted", row["id"])
        return recovered

    # ---- the writer ----

    @property
    def write_fault(self) -> WriteFault | None:
        """None while commits succeed; else what fails, since when, and how many writes wait in memory."""
        fault = self._fault
        if fault is None:
            return None
        return replace(fault, waiting=len(self._waiting), dropped=self._dropped)

    @property
    def writes_dropped(self) -> int:
        """Writes given up since the start (the memory limit reached, or still refused at close)."""
        return self._dropped

    def _write_loop(self) -> None:
        """The writer thread: commit queued writes in order, in batches; while the storage refuses
        them (disk full, I/O error) keep them in memory and retry with a growing pause."""
        waiting = self._waiting
        retry_at = 0.0
        pause = RETRY_FIRST_S
        close_by: float | None = None
        while True:
            if close_by is None:
                wait = None if not waiting else max(0.0, retry_at - time.monotonic())
                if self._take(waiting, wait):
                    close_by = time.monotonic() + CLOSE_RETRY_S
                    retry_at = 0.0  # one more try at once
            else:
                self._take(waiting, 0.0)
            if waiting and time.monotonic() >= retry_at:
                if self._commit_waiting(waiting):
                    pause = RETRY_FIRST_S
                else:
                    retry_at = time.monotonic() + pause
                    pause = min(RETRY_MAX_S, pause * 2)
            if close_by is not None:
                if not waiting:
                    return
                if time.monotonic() >= close_by:
                    self._give_up(waiting, "the store closed while the storage still refused them")
                    return
                time.sleep(max(0.0, min(retry_at, close_by) - time.monotonic()))

    def _take(self, waiting: list[_Write], wait: float | None) -> bool:
        """Move queued writes to ``waiting`` (waiting up to ``wait`` s for the first one, None: until
        one comes); True when ``close()`` asked the writer to stop."""
        stop = False
        try:
            item = self._queue.get(timeout=wait) if wait != 0.0 else self._queue.get_nowait()
        except queue.Empty:
            return False
        while True:
            if item is _STOP:
                stop = True
            else:
                self._admit(item, waiting)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return stop

    def _admit(self, write: _Write, waiting: list[_Write]) -> bool:
        """Whether ``write`` joins the waiting writes: while the storage fails, a caller who waits is
        answered at once, and writes beyond ``MAX_WAITING_WRITES`` are dropped and counted (a
        working storage drops nothing)."""
        fault = self._fault
        if fault is not None and not write.keep:
            write.future.set_exception(StoreError(fault.sentence(self.path.parent)))
            return False
        # Only while the storage fails: a burst queued faster than a commit (an import, a test) is
        # all written once the writer commits.
        if fault is not None and write.future is None and len(waiting) >= MAX_WAITING_WRITES:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 10_000 == 0:
                log.error("%d database writes dropped: %d are already waiting in memory for the storage",
                          self._dropped, len(waiting))
            return False
        waiting.append(write)
        return True

    def _commit_waiting(self, waiting: list[_Write]) -> bool:
        """Commit the waiting writes in order, ``BATCH`` per transaction; True when all are written.
        On a storage fault the rest stays in ``waiting`` (callers who wait are answered at once)."""
        while waiting:
            if waiting[0].bare:
                try:
                    results = self._run_bare(waiting[0])
                except Exception as e:
                    self._on_fault(e, waiting)
                    return False
                del waiting[:1]
                self._deliver(results)
                continue
            end = next((i for i, w in enumerate(waiting[:BATCH]) if w.bare), min(BATCH, len(waiting)))
            batch = waiting[:end]
            try:
                results = self._commit(batch)
            except Exception as e:  # the storage refuses the transaction: keep the batch
                self._on_fault(e, waiting)
                return False
            del waiting[:len(batch)]
            self._deliver(results)
        if self._fault is not None:
            fault = self._fault
            self._fault = None
            log.warning("database writes work again after %d failed attempts over %.0f s (%s); every write "
                        "kept in memory is committed", fault.attempts, time.time() - fault.since, fault.reason)
        return True

    def _commit(self, batch: list[_Write]) -> list[tuple[_Write, Any, BaseException | None]]:
        """One transaction; a write the database refuses is rolled back alone, a storage fault raises."""
        conn = self._wconn
        results: list[tuple[_Write, Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for write in batch:
                conn.execute("SAVEPOINT op")
                try:
                    value = write.fn(conn)
                except Exception as e:
                    if storage_fault(e) is not None:
                        raise
                    conn.execute("ROLLBACK TO op")  # one bad write must not lose the batch
                    conn.execute("RELEASE op")
                    results.append((write, None, e))
                else:
                    conn.execute("RELEASE op")
                    results.append((write, value, None))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:  # SQLite may have rolled back by itself already
                    pass
            raise
        return results

    def _run_bare(self, write: _Write) -> list[tuple[_Write, Any, BaseException | None]]:
        """A write that runs alone, outside any transaction of the writer's; a storage fault raises."""
        conn = self._wconn
        try:
            value = write.fn(conn)
        except Exception as e:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            if storage_fault(e) is not None:
                raise
            return [(write, None, e)]
        return [(write, value, None)]

    def _deliver(self, results: list[tuple[_Write, Any, BaseException | None]]) -> None:
        for write, value, err in results:
            if write.future is not None:
                if err is None:
                    write.future.set_result(value)
                else:
                    write.future.set_exception(err)
            elif err is not None:
                self.write_errors += 1
                if self.write_errors == 1 or self.write_errors % 100 == 0:
                    log.error("database write refused (%d so far): %s", self.write_errors, err)

    def _on_fault(self, e: BaseException, waiting: list[_Write]) -> None:
        """The storage refused a commit: answer the callers who wait, keep the rest, log once per episode."""
        reason = storage_fault(e) or f"the commit failed ({e})"
        answered = [w for w in waiting if not w.keep]
        waiting[:] = [w for w in waiting if w.keep]
        previous = self._fault
        now = time.time()
        self._fault = WriteFault(reason=reason, since=previous.since if previous else now,
                                 attempts=(previous.attempts if previous else 0) + 1, waiting=len(waiting),
                                 dropped=self._dropped)
        for w in answered:
            w.future.set_exception(StoreError(self._fault.sentence(self.path.parent)))
        if previous is None:
            log.error("database writes fail: %s (%s); %d writes kept in memory, retried every %g s at most "
                      "(logged again when it recovers)", reason, e, len(waiting), RETRY_MAX_S)
            self._reminded = now
        elif now - getattr(self, "_reminded", now) >= REMIND_EVERY_S:
            self._reminded = now
            log.error("database writes still fail after %.0f s: %s; %d writes waiting in memory, %d dropped",
                      now - previous.since, reason, len(waiting), self._dropped)

    def _give_up(self, waiting: list[_Write], why: str) -> None:
        self._dropped += len(waiting)
        log.error("%d database writes lost: %s (%s)", len(waiting), why,
                  self._fault.reason if self._fault else "unknown fault")
        for w in waiting:
            if w.future is not None and not w.future.done():
                w.future.set_exception(StoreError(f"database {self.path}: the write was given up ({why})"))
        waiting.clear()

    def _submit(self, fn: Callable[[sqlite3.Connection], Any], wait: bool, keep: bool | None = None) -> Any:
        """Queue ``fn(conn)`` for the writer. ``wait``: return its result (or raise its error); else
        return None at once. ``keep`` (default: not ``wait``): kept and retried while the storage
        fails, else a caller who waits is told of the fault at once."""
        future = self._queue_write(fn, wait, keep)
        return future.result() if future is not None else None

    def _queue_write(self, fn: Callable[[sqlite3.Connection], Any], future: bool, keep: bool | None = None,
                     bare: bool = False) -> Future | None:
        if self.readonly:
            raise StoreError(f"database {self.path} was opened read-only")
        if self._closed:
            raise StoreError(f"database {self.path} is closed")
        fut: Future | None = Future() if future else None
        self._queue.put(_Write(fn, fut, (not future) if keep is None else keep, bare))
        return fut

    def run_alone(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``fn(conn)`` on the writer thread, after every write queued before it and outside the
        writer's transactions (``fn`` opens its own, and may VACUUM or checkpoint); returns its
        result or raises its error. For erasure and upkeep: writes queued meanwhile wait behind it."""
        future = self._queue_write(fn, future=True, keep=False, bare=True)
        return future.result()

    def _wait_unless_failing(self, fut: Future, timeout: float | None) -> bool:
        """Wait for a kept write; True when committed, False when the storage fails (it stays queued)
        or ``timeout`` passed. Errors of the write itself are raised."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fut.result(timeout=0.05)
                return True
            except FutureTimeout:
                if self._fault is not None or (deadline is not None and time.monotonic() >= deadline):
                    return False

    def flush(self, timeout: float | None = None) -> None:
        """Wait until everything queued so far is committed; StoreError while the storage refuses it
        (or when ``timeout`` s pass first)."""
        fut = self._queue_write(lambda conn: None, future=True, keep=True)
        if not self._wait_unless_failing(fut, timeout):
            fault = self._fault
            raise StoreError(fault.sentence(self.path.parent) if fault else f"database {self.path}: flush timed out")

    # ---- reads ----

    def _read_error(self, e: sqlite3.Error) -> StoreError:
        """A failed read as one line naming the fix."""
        if _is_damaged(e):
            return StoreError(damaged_message(self.path, str(e)))
        return StoreError(f"database {self.path} cannot be read ({e}); check the disk holding it")

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        try:
            with self._pool.connection() as conn:
                return conn.execute(sql, tuple(args)).fetchall()
        except sqlite3.Error as e:
            raise self._read_error(e) from e

    @contextmanager
    def _decoding(self) -> Iterator[None]:
        """Rows that do not make a record (garbage in a column) mean a damaged file: say so, not a traceback."""
        try:
            yield
        except (ValueError, TypeError, KeyError) as e:  # pydantic's ValidationError is a ValueError
            raise StoreError(damaged_message(self.path, f"a stored record cannot be read: {str(e).splitlines()[0]}")) from e

    @contextmanager
    def read_connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow one of the pool's read-only connections for several statements (a backup reads the
        whole file through one); give it back promptly."""
        with self._pool.connection() as conn:
            yield conn

    @property
    def idle_readers(self) -> int:
        """Read connections open and idle (at most ``READERS``)."""
        return self._pool.idle


    # ---- runners ----

    def _runner(self, row: sqlite3.Row) -> Runner:
        with self._decoding():
            return Runner(
                id=row["id"], name=row["name"], archived=bool(row["archived"]), targets=json.loads(row["targets"]),
                programme=json.loads(row["programme"]), created=row["created"], sessions_completed=row["completed"],
            )

    _RUNNER_SQL = (
        "SELECT r.*, (SELECT count(*) FROM sessions s WHERE s.runner_id = r.id AND s.state = 'completed') AS completed "
        "FROM runners r"
    )

    def create_runner(self, name: str, targets: dict | None = None, programme: dict | None = None) -> Runner:
        name = name.strip()
        if not name:
            raise StoreError("runner name: must not be empty")

        def op(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO runners (name, targets, programme, created) VALUES (?, ?, ?, ?)",
                (name, dumps(targets or {}), dumps(programme or {}), _now()),
            )
            return int(cur.lastrowid)

        return self.get_runner(self._submit(op, wait=True))

    def update_runner(
        self, runner_id: int, name: str | None = None, targets: dict | None = None, programme: dict | None = None
    ) -> Runner:
        """Change the given fields of a runner (others stay)."""
        self.get_runner(runner_id)
        if name is not None and not name.strip():
            raise StoreError("runner name: must not be empty")

        def op(conn: sqlite3.Connection) -> None:
            if name is not None:
                conn.execute("UPDATE runners SET name = ? WHERE id = ?", (name.strip(), runner_id))
            if targets is not None:
                conn.execute("UPDATE runners SET targets = ? WHERE id = ?", (dumps(targets), runner_id))
            if programme is not None:
                conn.execute("UPDATE runners SET programme = ? WHERE id = ?", (dumps(programme), runner_id))

        self._submit(op, wait=True)
        return self.get_runner(runner_id)

    def archive_runner(self, runner_id: int, archived: bool = True) -> Runner:
        self.get_runner(runner_id)
        self._submit(lambda c: c.execute("UPDATE runners SET archived = ? WHERE id = ?", (int(archived), runner_id)), True)
        return self.get_runner(runner_id)

    def get_runner(self, runner_id: int) -> Runner:
        rows = self._rows(self._RUNNER_SQL + " WHERE r.id = ?", (runner_id,))
        if not rows:
            raise NotFound(f"no runner with id {runner_id}")
        return self._runner(rows[0])

    def list_runners(self, include_archived: bool = False) -> list[Runner]:
        where = "" if include_archived else " WHERE r.archived = 0"
        return [self._runner(r) for r in self._rows(self._RUNNER_SQL + where + " ORDER BY r.name COLLATE NOCASE, r.id")]

    def find_runner(self, name: str) -> Runner | None:
        """The non-archived runner with this name, if any (first created)."""
        rows = self._rows(self._RUNNER_SQL + " WHERE r.name = ? AND r.archived = 0 ORDER BY r.id LIMIT 1", (name,))
        return self._runner(rows[0]) if rows else None

    # ---- sessions ----

    _SESSION_SQL = (
        "SELECT s.*, r.name AS runner_name, "
        "(SELECT count(*) FROM steps st WHERE st.session_id = s.id) AS step_count, "
        "(SELECT count(*) FROM cue_events c WHERE c.session_id = s.id AND c.kind = 'cue_given') AS cue_count "
        "FROM sessions s JOIN runners r ON r.id = s.runner_id"
    )

    def _session(self, row: sqlite3.Row) -> Session:
        with self._decoding():
            d = dict(row)
            d["summary"] = json.loads(d["summary"]) if d["summary"] else None
            return Session(**d)

    def create_session(
        self, runner_id: int, t_start: float | None = None, source: str = "", session_number: int | None = None
    ) -> Session:
        """A new 'running' session; its number is one more than the runner's completed sessions
        unless given."""
        runner = self.get_runner(runner_id)
        if runner.archived:
            raise StoreError(f"runner {runner.name!r} is archived; restore them before starting a session")
        number = session_number if session_number is not None else runner.sessions_completed + 1

        def op(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO sessions (runner_id, session_number, started, state, t_start, source, uid) "
                "VALUES (?, ?, ?, 'running', ?, ?, ?)",
                (runner_id, number, _now(), t_start, source, uuid.uuid4().hex),
            )
            return int(cur.lastrowid)

        return self.get_session(self._submit(op, wait=True))

    def set_session_cadence(self, session_id: int, baseline_spm: float | None, target_spm: float | None) -> None:
        """Store the warm-up baseline and the target (queued, no wait)."""
        self._submit(
            lambda c: c.execute(
                "UPDATE sessions SET baseline_cadence_spm = ?, target_cadence_spm = ? WHERE id = ?",
                (finite(baseline_spm), finite(target_spm), session_id),
            ),
            wait=False,
        )

    def finish_session(self, session_id: int, state: SessionState, summary: dict | None = None,
                       timeout: float | None = None) -> Session:
        """Close a session as completed, aborted or interrupted, with its summary. Waits for the
        commit, except while the storage refuses writes: then the end stays queued (written when the
        storage accepts it again) and the session is returned as stored so far. Never raises for a
        storage fault, so that shutting down always finishes."""
        if state not in SESSION_STATES or state == "running":
            raise StoreError(f"session state: {state!r} is not a final state (completed, aborted, interrupted)")

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE sessions SET state = ?, ended = ?, summary = ? WHERE id = ?",
                (state, _now(), dumps(summary) if summary is not None else None, session_id),
            )

        fut = self._queue_write(op, future=True, keep=True)
        if not self._wait_unless_failing(fut, timeout):
            log.error("session %d's end (%s) waits in memory: %s", session_id, state,
                      self._fault.reason if self._fault else "the commit is late")
        return self.get_session(session_id)

    def discard_session_if_empty(self, session_id: int) -> bool:
        """Delete a session that recorded no step (with its cue events): what a stop during calibration
        leaves is not worth a row in History. True when it was deleted; False when it has steps or the
        storage refuses the write."""

        def op(conn: sqlite3.Connection) -> bool:
            if conn.execute("SELECT 1 FROM steps WHERE session_id = ? LIMIT 1", (session_id,)).fetchone():
                return False
            conn.execute("DELETE FROM cue_events WHERE session_id = ?", (session_id,))
            return conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount == 1

        try:
            return bool(self._submit(op, wait=True))
        except StoreError as e:
            log.warning("empty session %d kept: %s", session_id, e)
            return False

    def set_pain_and_notes(
        self, session_id: int, pain_before: int | None = None, pain_after: int | None = None, notes: str | None = None
    ) -> Session:
        """Set the given ones of pain before/after (0-10) and notes; None leaves a field as it is."""
        for name, value in (("pain_before", pain_before), ("pain_after", pain_after)):
            if value is not None and not (isinstance(value, int) and 0 <= value <= 10):
                raise StoreError(f"{name}: must be a whole number from 0 to 10, got {value!r}")
        self.get_session(session_id)

        def op(conn: sqlite3.Connection) -> None:
            if pain_before is not None:
                conn.execute("UPDATE sessions SET pain_before = ? WHERE id = ?", (pain_before, session_id))
            if pain_after is not None:
                conn.execute("UPDATE sessions SET pain_after = ? WHERE id = ?", (pain_after, session_id))
            if notes is not None:
                conn.execute("UPDATE sessions SET notes = ? WHERE id = ?", (notes, session_id))

        self._submit(op, wait=True)
        return self.get_session(session_id)

    def get_session(self, session_id: int) -> Session:
        rows = self._rows(self._SESSION_SQL + " WHERE s.id = ?", (session_id,))
        if not rows:
            raise NotFound(f"no session with id {session_id}")
        return self._session(rows[0])

    def list_sessions(self, runner_id: int | None = None, limit: int | None = None) -> list[Session]:
        """Sessions, newest first; of one runner when ``runner_id`` is given."""
        sql, args = self._SESSION_SQL, []
        if runner_id is not None:
            sql += " WHERE s.runner_id = ?"
            args.append(runner_id)
        sql += " ORDER BY s.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [self._session(r) for r in self._rows(sql, args)]

    def last_session_id(self) -> int | None:
        rows = self._rows("SELECT max(id) FROM sessions")
        return rows[0][0]

    # ---- steps and cues ----

    def record_step(self, session_id: int, step: Step, phase: str = "", feedback_on: bool = False) -> None:
        """Queue one step for the session (never blocks on the disk). A step recorded again with the
        same index (the tracker's final emission after toe-off) replaces the first one."""
        values = [session_id] + [finite(getattr(step, name)) for name in STEP_FIELDS] + [phase, int(feedback_on)]
        sql = UPSERT_STEP
        self._submit(lambda c: c.execute(sql, values), wait=False)

    def record_cue(self, session_id: int, t: float, kind: str, payload: dict | None = None) -> None:
        """Queue one cue decision (``t`` is a capture time)."""
        text = dumps(payload or {})
        self._submit(
            lambda c: c.execute(
                "INSERT INTO cue_events (session_id, t, kind, payload) VALUES (?, ?, ?, ?)", (session_id, t, kind, text)
            ),
            wait=False,
        )

    def record_frontal(self, session_id: int, step) -> None:
        """Queue one stance measured by the rear camera (``appliance.frontal.FrontalStep``)."""
        values = [session_id] + [finite(getattr(step, name)) for name in FRONTAL_COLUMNS]
        sql = (f"INSERT OR REPLACE INTO frontal_steps (session_id, {', '.join(FRONTAL_COLUMNS)}) "
               f"VALUES ({', '.join('?' for _ in values)})")
        self._submit(lambda c: c.execute(sql, values), wait=False)

    def session_frontal(self, session_id: int) -> list[dict]:
        """The session's rear-camera stances in time order, as dicts of FRONTAL_COLUMNS."""
        rows = self._rows("SELECT * FROM frontal_steps WHERE session_id = ? ORDER BY t_ic, foot", (session_id,))
        return [{k: r[k] for k in FRONTAL_COLUMNS} for r in rows]

    def session_steps(self, session_id: int) -> list[StepRecord]:
        rows = self._rows('SELECT * FROM steps WHERE session_id = ? ORDER BY "index"', (session_id,))
        with self._decoding():
            return [StepRecord(**dict(r)) for r in rows]

    def session_events(self, session_id: int) -> list[CueEvent]:
        rows = self._rows("SELECT * FROM cue_events WHERE session_id = ? ORDER BY t, id", (session_id,))
        with self._decoding():
            return [CueEvent(session_id=r["session_id"], t=r["t"], kind=r["kind"], payload=json.loads(r["payload"]))
                    for r in rows]

    # ---- settings changes ----

    def record_settings_change(self, who: str, diff: dict[str, Any], wait: bool = True) -> None:
        """Record who changed which settings (``diff``: dotted name -> [old, new])."""
        text = dumps(diff)
        self._submit(
            lambda c: c.execute("INSERT INTO settings_changes (t, who, diff) VALUES (?, ?, ?)", (_now(), who, text)),
            wait=wait,
        )

    def settings_changes(self, limit: int = 100) -> list[SettingsChange]:
        rows = self._rows("SELECT * FROM settings_changes ORDER BY id DESC LIMIT ?", (limit,))
        with self._decoding():
            return [SettingsChange(id=r["id"], t=r["t"], who=r["who"], diff=json.loads(r["diff"])) for r in rows]

    # ---- export ----

    def resolve_session(self, which: str | int) -> int:
        """A session id from 'last' or a number (as typed on the command line)."""
        if isinstance(which, int):
            return self.get_session(which).id
        if which == "last":
            sid = self.last_session_id()
            if sid is None:
                raise NotFound(f"no sessions in {self.path} yet")
            return sid
        try:
            return self.get_session(int(which)).id
        except ValueError:
            raise StoreError(f"session: {which!r} is not a session id or 'last'") from None

    def export_session(self, session_id: int, fmt: ExportFormat = "json") -> str:
        """The session with its runner, steps, cue events and rear-camera stances as one file (see
        ``export.session_export``)."""
        session = self.get_session(session_id)
        return session_export(session, self.get_runner(session.runner_id), self.session_steps(session_id),
                              self.session_events(session_id), fmt, self.session_frontal(session_id))


def open_store_for_reading(data_dir: Path) -> Store:
    """The store under ``data_dir`` opened read-only (works beside a running appliance)."""
    return Store(Path(data_dir) / DB_FILENAME, readonly=True)

