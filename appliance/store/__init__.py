"""The appliance's records in one SQLite file: runners, sessions, every step, every cue decision and
every settings change.

- WAL mode, ``synchronous=FULL``: a commit is on disk when it returns, and readers (the panel,
  ``appliance export``) never block the writer.
- Schema migrations keyed on ``PRAGMA user_version``; each migration runs in one transaction.
- One writer thread owns the writing connection and is fed by a queue. Steps and cue events are
  queued without waiting (the control loop never blocks on the disk) and committed in batches as soon
  as they arrive, so a crash or power cut loses at most the last fraction of a second. Calls that need
  an answer (``create_runner``, ``create_session``...) wait for the writer; queue order means every
  write queued before them is committed too. ``flush()`` waits for everything queued so far.
- Reads borrow one of at most ``READERS`` (4) read-only connections for one query: open files stay
  bounded however many threads the panel's server starts and ends.
- Storage faults (disk full, I/O error, a damaged file) never lose a queued write and never reach
  the control loop: the writer keeps the writes in memory (up to ``MAX_WAITING_WRITES``, about
  2 1/2 hours of running), retries with a growing pause (at most every 2 s), logs the fault once
  when it starts and once when it ends, and ``write_fault`` tells the live view and health page.
  A caller who waits for an answer (``create_runner``...) is told of the fault at once;
  ``finish_session`` and ``close`` never raise or hang for it (what is still refused at close is
  logged with its count).
- A database damaged inside is refused when opened (``PRAGMA quick_check``), and a failed read
  says so, each with the file and the fix (move it away).
- Crash recovery: a session still ``running`` when the store is opened for writing belonged to a
  process that died; it is marked ``interrupted`` and keeps every committed step.
- Only one process may open the store for writing (an advisory lock on ``<db>.lock``);
  ``Store(path, readonly=True)`` is for readers such as ``appliance export`` beside a running appliance.

Modules: ``database`` (the Store), ``records`` (what it returns, its errors), ``schema`` (the
migrations), ``export`` (a session as one JSON or CSV file).
"""

from appliance.store.database import DB_FILENAME, Store, open_store_for_reading
from appliance.store.records import (
    CueEvent,
    NotFound,
    Runner,
    Session,
    SessionState,
    SettingsChange,
    StepRecord,
    StoreError,
)
from appliance.store.schema import MIGRATIONS, SCHEMA_VERSION

__all__ = [
    "DB_FILENAME", "MIGRATIONS", "SCHEMA_VERSION", "CueEvent", "NotFound", "Runner", "Session", "SessionState",
    "SettingsChange", "StepRecord", "Store", "StoreError", "open_store_for_reading",
]
