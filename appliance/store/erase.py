"""Erasure: a runner and everything recorded about them removed from the database, leaving no byte
of it in the database file or its WAL; and the optional retention limit (sessions older than N
months deleted the same way).

Every erasure runs on the store's writer thread (``Store.run_alone``), so the steps the control loop
queues meanwhile wait behind it and are committed afterwards. In one transaction with
``PRAGMA secure_delete = ON`` (freed pages are overwritten with zeros) the rows go; then the WAL is
checkpointed into the file and truncated to zero bytes, the file is rebuilt by ``VACUUM`` (no free
page, no stale cell is left), and the WAL that VACUUM wrote is checkpointed and truncated again.

A session's video, kept only when the clinician turned ``camera.record_video`` on, is removed with it.

Backups made before an erasure still hold what was erased until they rotate out: a backup made
afterwards does not.
"""

from __future__ import annotations

import calendar
import logging
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from appliance.store.database import Store
from appliance.store.records import NotFound, StoreError
from appliance.store.videos import delete_session_videos

log = logging.getLogger(__name__)

CHECKPOINT_TRIES_S = 10.0  # a reader holding an old snapshot (a backup running) delays the WAL's truncation


@dataclass(frozen=True)
class Erased:
    """What an erasure removed."""

    runners: int
    sessions: int
    steps: int
    cue_events: int
    wal_truncated: bool  # False: a reader kept the WAL busy; its old pages go at the next checkpoint
    videos: int = 0  # session videos removed (kept only when camera.record_video was on)

    def sentence(self, what: str) -> str:
        """One line for the clinician."""
        text = (f"{what}: {self.sessions} session{'s' if self.sessions != 1 else ''}, {self.steps} steps and "
                f"{self.cue_events} cue events erased")
        if self.videos:
            text += f", with {self.videos} session video{'s' if self.videos != 1 else ''}"
        if not self.wal_truncated:
            text += "; the database log could not be emptied yet (a backup was reading): it is at the next erasure or restart"
        return text


def _delete_sessions(conn: sqlite3.Connection, where: str, args: tuple) -> tuple[int, int, int]:
    """Delete the sessions matching ``where`` (on table sessions) with their steps and cue events;
    returns (sessions, steps, cue events) deleted."""
    ids = f"(SELECT id FROM sessions WHERE {where})"
    steps = conn.execute(f"DELETE FROM steps WHERE session_id IN {ids}", args).rowcount
    conn.execute(f"DELETE FROM frontal_steps WHERE session_id IN {ids}", args)  # the rear camera's stances
    cues = conn.execute(f"DELETE FROM cue_events WHERE session_id IN {ids}", args).rowcount
    sessions = conn.execute(f"DELETE FROM sessions WHERE {where}", args).rowcount
    return sessions, steps, cues


def _checkpoint_truncate(conn: sqlite3.Connection) -> bool:
    """Copy the WAL into the database file and truncate it to zero bytes; True when done (retried
    while a reader holds an older snapshot)."""
    deadline = time.monotonic() + CHECKPOINT_TRIES_S
    while True:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if not busy:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def scrub(conn: sqlite3.Connection) -> bool:
    """After a secure delete: no copy of the deleted rows left in the WAL or in free pages of the
    file (checkpoint, VACUUM, checkpoint). Runs outside a transaction; True when the WAL is empty."""
    _checkpoint_truncate(conn)
    conn.execute("VACUUM")
    return _checkpoint_truncate(conn)


def _erase(store: Store, where: str, args: tuple, runner_id: int | None) -> Erased:
    """Delete the matching sessions (and the runner ``runner_id`` when given) securely, on the writer,
    and their videos when any were kept."""

    def op(conn: sqlite3.Connection) -> Erased:
        conn.execute("PRAGMA secure_delete = ON")  # stays on for this connection: later deletes are zeroed too
        conn.execute("BEGIN IMMEDIATE")
        try:
            session_ids = [row[0] for row in conn.execute(f"SELECT id FROM sessions WHERE {where}", args)]
            sessions, steps, cues = _delete_sessions(conn, where, args)
            runners = 0
            if runner_id is not None:
                runners = conn.execute("DELETE FROM runners WHERE id = ?", (runner_id,)).rowcount
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        truncated = scrub(conn)
        videos = delete_session_videos(store.path.parent, session_ids)
        return Erased(runners, sessions, steps, cues, truncated, videos)

    return store.run_alone(op)


def erase_runner(store: Store, runner_id: int, confirm_name: str) -> Erased:
    """Erase a runner with all their sessions, steps, cue events, pain scores and notes.
    ``confirm_name`` must be the runner's name as typed by whoever asked (the confirmation)."""
    runner = store.get_runner(runner_id)
    if confirm_name.strip() != runner.name:
        raise StoreError(f"the name typed does not match the runner's name; type {runner.name!r} exactly to erase them")
    erased = _erase(store, "runner_id = ?", (runner_id,), runner_id)
    if erased.runners != 1:
        raise NotFound(f"no runner with id {runner_id}")
    log.info("runner %d erased with %d sessions and %d steps", runner_id, erased.sessions, erased.steps)
    return erased


def months_before(when: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the last day of a shorter month)."""
    month_index = when.year * 12 + (when.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    return when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))


def delete_sessions_older_than(store: Store, months: int, now: datetime | None = None) -> Erased:
    """The retention limit: erase every finished session that started more than ``months`` months
    ago (the runners stay). Nothing is scrubbed when nothing is that old."""
    if months < 1:
        raise StoreError(f"retention: {months} months is not a positive number of months")
    cutoff = months_before(now or datetime.now(UTC), months).isoformat(timespec="milliseconds")
    with store.read_connection() as conn:
        old = conn.execute("SELECT count(*) FROM sessions WHERE state != 'running' AND started < ?", (cutoff,)).fetchone()[0]
    if not old:
        return Erased(0, 0, 0, 0, True)
    erased = _erase(store, "state != 'running' AND started < ?", (cutoff,), None)
    log.info("retention (%d months): %d sessions older than %s erased", months, erased.sessions, cutoff[:10])
    return erased
