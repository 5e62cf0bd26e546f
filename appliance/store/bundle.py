"""A runner's bundle: one runner with every session, step and cue event as one zip file, to move
their history to the appliance on another treadmill.

Inside the zip:

- ``bundle.json``: everything, and what an import reads (format, appliance version, schema, the
  runner's name, targets and programme, and each session with its steps and cue events);
- ``sessions.csv``: one row per session (date, number, state, pain, notes, steps...);
- ``sessions/<n>-<date>.csv``: each session as ``appliance export --format csv`` writes it.

CSV cells a spreadsheet would run as a formula are neutralised as in ``export.py``.

Importing merges: the runner is found by name (case-insensitive, archived ones count) or created,
and a session already in the database (same ``uid``, its identity across appliances) is skipped,
so importing the same bundle twice adds its sessions once. The import is one transaction.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance import __version__
from appliance.store.database import Store
from appliance.store.export import _cell
from appliance.store.records import NotFound, StoreError, dumps
from appliance.store.schema import FRONTAL_COLUMNS, SCHEMA_VERSION

BUNDLE_FORMAT = "appliance-runner-bundle"
BUNDLE_FORMAT_VERSION = 1
BUNDLE_JSON = "bundle.json"
MAX_BUNDLE_JSON_BYTES = 2 << 30
SESSION_CSV_COLUMNS = ("uid", "session_number", "started", "ended", "state", "pain_before", "pain_after", "notes",
                       "baseline_cadence_spm", "target_cadence_spm", "steps", "cue_events", "source")


class BundleError(StoreError):
    """A bundle that cannot be written or imported; one line naming the problem and the fix."""


@dataclass(frozen=True)
class Imported:
    """What an import did."""

    runner: str
    runner_created: bool
    sessions_added: int
    sessions_skipped: int
    steps_added: int

    def sentence(self) -> str:
        who = f"new runner {self.runner!r}" if self.runner_created else f"existing runner {self.runner!r}"
        skipped = f", {self.sessions_skipped} already here skipped" if self.sessions_skipped else ""
        return f"imported {self.sessions_added} sessions ({self.steps_added} steps) into {who}{skipped}"


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})").fetchall()]


def _json_or_none(text: str | None) -> Any:
    return json.loads(text) if text else None


def find_runner_id(store: Store, which: str) -> int:
    """A runner's id from its id or its name (case-insensitive) as typed on the command line."""
    runners = store.list_runners(include_archived=True)
    if which.isdigit():
        return store.get_runner(int(which)).id
    same = [r for r in runners if r.name.casefold() == which.strip().casefold()]
    if not same:
        names = ", ".join(r.name for r in runners[:10]) or "none yet"
        raise NotFound(f"no runner named {which!r}; runners here: {names}")
    return same[0].id


def runner_document(store: Store, runner_id: int) -> dict:
    """The runner with all sessions, steps and cue events, as the bundle's JSON document."""
    runner = store.get_runner(runner_id)
    with store.read_connection() as conn:
        conn.execute("BEGIN")  # one snapshot: a session finished meanwhile is in it whole or not at all
        try:
            sessions = []
            for row in conn.execute("SELECT * FROM sessions WHERE runner_id = ? ORDER BY id", (runner_id,)).fetchall():
                s = {k: row[k] for k in row.keys() if k not in ("id", "runner_id")}
                s["summary"] = _json_or_none(s.get("summary"))
                s["steps"] = [{k: st[k] for k in st.keys() if k != "session_id"} for st in conn.execute(
                    'SELECT * FROM steps WHERE session_id = ? ORDER BY "index"', (row["id"],)).fetchall()]
                s["cue_events"] = [{"t": c["t"], "kind": c["kind"], "payload": _json_or_none(c["payload"]) or {}}
                                   for c in conn.execute("SELECT * FROM cue_events WHERE session_id = ? ORDER BY t, id",
                                                         (row["id"],)).fetchall()]
                s["frontal_steps"] = [{k: f[k] for k in FRONTAL_COLUMNS} for f in conn.execute(
                    "SELECT * FROM frontal_steps WHERE session_id = ? ORDER BY t_ic, foot", (row["id"],)).fetchall()]
                sessions.append(s)
        finally:
            conn.execute("COMMIT")
    return {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "appliance_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "runner": {"name": runner.name, "archived": runner.archived, "targets": runner.targets,
                   "programme": runner.programme, "created": runner.created.isoformat()},
        "sessions": sessions,
    }


def _csv(rows: list[dict], header: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in header})
    return out.getvalue()


def _session_file_name(s: dict) -> str:
    day = re.sub(r"[^0-9-]", "", str(s.get("started", ""))[:10]) or "undated"
    return f"sessions/{int(s.get('session_number') or 0):03d}-{day}-{str(s.get('uid') or '')[:8]}.csv"


def export_runner_bundle(store: Store, runner_id: int, out: Path) -> dict:
    """Write the runner's bundle to ``out`` (a zip, written whole then renamed); returns its document."""
    from appliance.config import atomic_write_bytes

    doc = runner_document(store, runner_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(BUNDLE_JSON, json.dumps(doc, indent=1, allow_nan=False))
        rows = [{**s, "steps": len(s["steps"]), "cue_events": len(s["cue_events"])} for s in doc["sessions"]]
        z.writestr("sessions.csv", _csv([{"runner": doc["runner"]["name"], **r} for r in rows],
                                        ["runner", *SESSION_CSV_COLUMNS]))
        for s in doc["sessions"]:
            step_header = [k for k in (s["steps"][0] if s["steps"] else {})]
            table = [{"record": "step", **st} for st in s["steps"]]
            table += [{"record": "cue", "t_ic": c["t"], "cue_kind": c["kind"], "cue_payload": dumps(c["payload"])}
                      for c in s["cue_events"]]
            table.sort(key=lambda r: (r.get("t_ic") or 0.0, r["record"] == "cue"))
            z.writestr(_session_file_name(s), _csv(table, ["record", *step_header, "cue_kind", "cue_payload"]))
    atomic_write_bytes(Path(out), buffer.getvalue())
    return doc


def read_bundle(path: Path) -> dict:
    """The bundle's JSON document; BundleError (one line) for a damaged or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise BundleError(f"{path} does not exist or is not a file; give the path of a runner's bundle (.zip)")
    try:
        with zipfile.ZipFile(path) as z:
            try:
                info = z.getinfo(BUNDLE_JSON)
            except KeyError:
                raise BundleError(f"{path} is not a runner's bundle (it has no {BUNDLE_JSON}); nothing was imported") from None
            if info.file_size > MAX_BUNDLE_JSON_BYTES:
                raise BundleError(f"{path}: {BUNDLE_JSON} is too large to be a runner's bundle; nothing was imported")
            doc = json.loads(z.read(info))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as e:
        raise BundleError(f"{path} is not a complete runner's bundle ({e}): damaged, cut short or another kind "
                          "of file; nothing was imported") from e
    if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{path} is not a runner's bundle (its {BUNDLE_JSON} is another program's); nothing was imported")
    version = doc.get("format_version")
    if not isinstance(version, int) or version > BUNDLE_FORMAT_VERSION:
        raise BundleError(f"{path} was made by a newer appliance (bundle format {version}); update this appliance first")
    runner = doc.get("runner")
    if not isinstance(runner, dict) or not isinstance(runner.get("name"), str) or not runner["name"].strip():
        raise BundleError(f"{path}: the bundle names no runner; nothing was imported")
    if not isinstance(doc.get("sessions"), list):
        raise BundleError(f"{path}: the bundle holds no session list; nothing was imported")
    return doc


def _session_uid(runner_name: str, s: dict) -> str:
    """The session's identity: its uid, or (for a bundle without one) a stable one from the runner's
    name and the session's start."""
    uid = s.get("uid")
    if isinstance(uid, str) and uid:
        return uid
    return uuid.uuid5(uuid.NAMESPACE_URL, f"appliance-session:{runner_name}:{s.get('started')}").hex


def import_runner_bundle(store: Store, path: Path) -> Imported:
    """Merge the bundle at ``path`` into the store (one transaction on the writer thread)."""
    doc = read_bundle(path)
    r = doc["runner"]
    name = r["name"].strip()

    def op(conn: sqlite3.Connection) -> Imported:
        session_cols = set(_columns(conn, "sessions")) - {"id", "runner_id"}
        step_cols = set(_columns(conn, "steps")) - {"session_id"}
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT id FROM runners WHERE lower(name) = lower(?) ORDER BY id LIMIT 1",
                               (name,)).fetchone()
            created = row is None
            if created:
                runner_id = conn.execute(
                    "INSERT INTO runners (name, archived, targets, programme, created) VALUES (?, ?, ?, ?, ?)",
                    (name, int(bool(r.get("archived"))), dumps(r.get("targets") or {}), dumps(r.get("programme") or {}),
                     str(r.get("created") or datetime.now(UTC).isoformat(timespec="milliseconds")))).lastrowid
            else:
                runner_id = row[0]
            added = skipped = steps_added = 0
            for n, s in enumerate(doc["sessions"], 1):
                if not isinstance(s, dict):
                    raise BundleError(f"{path}: session {n} in the bundle is not a record; nothing was imported")
                uid = _session_uid(name, s)
                if conn.execute("SELECT 1 FROM sessions WHERE uid = ?", (uid,)).fetchone():
                    skipped += 1
                    continue
                values = {k: v for k, v in s.items() if k in session_cols}
                values.update(uid=uid, summary=dumps(s["summary"]) if s.get("summary") is not None else None)
                if values.get("state") == "running":
                    values["state"] = "interrupted"
                cols = ["runner_id", *values]
                try:
                    sid = conn.execute(
                        f"INSERT INTO sessions ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                        [runner_id, *values.values()]).lastrowid
                    for st in s.get("steps") or []:
                        sv = {k: v for k, v in st.items() if k in step_cols}
                        keys = ["session_id", *sv]
                        conn.execute(f"INSERT INTO steps ({', '.join(chr(34) + k + chr(34) for k in keys)}) "
                                     f"VALUES ({', '.join('?' for _ in keys)})", [sid, *sv.values()])
                        steps_added += 1
                    for c in s.get("cue_events") or []:
                        conn.execute("INSERT INTO cue_events (session_id, t, kind, payload) VALUES (?, ?, ?, ?)",
                                     (sid, c["t"], c["kind"], dumps(c.get("payload") or {})))
                    for f in s.get("frontal_steps") or []:  # absent in bundles from before the rear camera
                        conn.execute(f"INSERT INTO frontal_steps (session_id, {', '.join(FRONTAL_COLUMNS)}) "
                                     f"VALUES (?, {', '.join('?' for _ in FRONTAL_COLUMNS)})",
                                     [sid, *(f[k] for k in FRONTAL_COLUMNS)])
                except (sqlite3.IntegrityError, sqlite3.InterfaceError, KeyError, TypeError) as e:
                    raise BundleError(f"{path}: session {n} ({s.get('started', '?')}) cannot be stored ({e}); the bundle "
                                      "is damaged or altered; nothing was imported") from e
                added += 1
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return Imported(name, created, added, skipped, steps_added)

    return store.run_alone(op)
