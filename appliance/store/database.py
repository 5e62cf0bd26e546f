"""The Store: the appliance's SQLite file, one writer thread fed by a queue, readers per thread
(see the package docstring for the guarantees)."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from appliance.store.schema import MIGRATIONS, SCHEMA_VERSION, STEP_FIELDS, UPSERT_STEP
from appliance.types import Step

log = logging.getLogger(__name__)

DB_FILENAME = "appliance.db"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


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
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._writer: threading.Thread | None = None
        self._lock_fd: int | None = None
        self._closed = False
        if readonly:
            if not path.exists():
                raise StoreError(f"no database at {path}: check --data-dir (the appliance creates it on its first run)")
            version = self._reader().execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"database {path} has schema {version}, newer than this appliance ({SCHEMA_VERSION})")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        try:
            self._wconn = _connect(path, readonly=False)
            mode = self._wconn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"database {path} cannot use WAL mode (got {mode}); put the data dir on a local disk")
            self._wconn.execute("PRAGMA synchronous = FULL")
            self._migrate()
            self.recovered_sessions = self._recover_interrupted()
        except sqlite3.DatabaseError as e:
            self._release_lock()
            raise StoreError(f"database {path} cannot be opened ({e}); move it away to start a new one") from e
        except BaseException:
            self._release_lock()
            raise
        self._writer = threading.Thread(target=self._write_loop, name="store-writer", daemon=True)
        self._writer.start()

    # ---- lifecycle ----

    def _take_lock(self) -> None:
        fd = os.open(str(self.path) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
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
        """Commit everything queued, stop the writer, close every connection."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._queue.put(_STOP)
            self._writer.join()
            self._wconn.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
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
        rows = conn.execute("SELECT id, started, t_start FROM sessions WHERE state = 'running'").fetchall()
        recovered = []
        for row in rows:
            last_t = conn.execute(
                "SELECT max(t) FROM (SELECT max(t_ic) AS t FROM steps WHERE session_id = ?1 "
                "UNION ALL SELECT max(t) FROM cue_events WHERE session_id = ?1)",
                (row["id"],),
            ).fetchone()[0]
            ended = datetime.fromisoformat(row["started"])
            if last_t is not None and row["t_start"] is not None:
                ended = datetime.fromtimestamp(ended.timestamp() + max(0.0, last_t - row["t_start"]), UTC)
            conn.execute(
                "UPDATE sessions SET state = 'interrupted', ended = ? WHERE id = ?",
                (ended.isoformat(timespec="milliseconds"), row["id"]),
            )
            recovered.append(int(row["id"]))
            log.warning("session %d was left running by a process that stopped; marked interrupted", row["id"])
        return recovered

    # ---- the writer ----

    def _write_loop(self) -> None:
        conn = self._wconn
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while len(batch) < 1000:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            ops = []
            for item in batch:
                if item is _STOP:
                    stop = True
                else:
                    ops.append(item)
            if not ops:
                continue
            results: list[tuple[Future | None, Any, BaseException | None]] = []
            try:
                conn.execute("BEGIN IMMEDIATE")
                for fn, fut in ops:
                    conn.execute("SAVEPOINT op")
                    try:
                        value = fn(conn)
                        conn.execute("RELEASE op")
                        results.append((fut, value, None))
                    except Exception as e:  # one bad write must not lose the batch
                        conn.execute("ROLLBACK TO op")
                        conn.execute("RELEASE op")
                        results.append((fut, None, e))
                conn.execute("COMMIT")
            except Exception as e:  # the commit itself failed (disk full, I/O error)
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                results = [(fut, None, e) for _, fut in ops]
            for fut, value, err in results:
                if fut is not None:
                    if err is None:
                        fut.set_result(value)
                    else:
                        fut.set_exception(err)
                elif err is not None:
                    self.write_errors += 1
                    log.error("database write failed: %s", err)

    def _submit(self, fn: Callable[[sqlite3.Connection], Any], wait: bool) -> Any:
        if self.readonly:
            raise StoreError(f"database {self.path} was opened read-only")
        if self._closed:
            raise StoreError(f"database {self.path} is closed")
        if not wait:
            self._queue.put((fn, None))
            return None
        fut: Future = Future()
        self._queue.put((fn, fut))
        return fut.result()

    def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        self._submit(lambda conn: None, wait=True)

    # ---- reads ----

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise StoreError(f"database {self.path} is closed")
            conn = _connect(self.path, readonly=True)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return self._reader().execute(sql, tuple(args)).fetchall()

    # ---- runners ----

    @staticmethod
    def _runner(row: sqlite3.Row) -> Runner:
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

    @staticmethod
    def _session(row: sqlite3.Row) -> Session:
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
                "INSERT INTO sessions (runner_id, session_number, started, state, t_start, source) "
                "VALUES (?, ?, ?, 'running', ?, ?)",
                (runner_id, number, _now(), t_start, source),
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

    def finish_session(self, session_id: int, state: SessionState, summary: dict | None = None) -> Session:
        """Close a session as completed, aborted or interrupted, with its summary; waits for the commit."""
        if state not in SESSION_STATES or state == "running":
            raise StoreError(f"session state: {state!r} is not a final state (completed, aborted, interrupted)")

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE sessions SET state = ?, ended = ?, summary = ? WHERE id = ?",
                (state, _now(), dumps(summary) if summary is not None else None, session_id),
            )

        self._submit(op, wait=True)
        return self.get_session(session_id)

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

    def session_steps(self, session_id: int) -> list[StepRecord]:
        rows = self._rows('SELECT * FROM steps WHERE session_id = ? ORDER BY "index"', (session_id,))
        return [StepRecord(**dict(r)) for r in rows]

    def session_events(self, session_id: int) -> list[CueEvent]:
        rows = self._rows("SELECT * FROM cue_events WHERE session_id = ? ORDER BY t, id", (session_id,))
        return [CueEvent(session_id=r["session_id"], t=r["t"], kind=r["kind"], payload=json.loads(r["payload"])) for r in rows]

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
        """The session with its runner, steps and cue events as one file (see ``export.session_export``)."""
        session = self.get_session(session_id)
        return session_export(session, self.get_runner(session.runner_id), self.session_steps(session_id),
                              self.session_events(session_id), fmt)


def open_store_for_reading(data_dir: Path) -> Store:
    """The store under ``data_dir`` opened read-only (works beside a running appliance)."""
    return Store(Path(data_dir) / DB_FILENAME, readonly=True)

