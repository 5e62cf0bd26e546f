"""A stored session as one file for a patient record: JSON, or one CSV table."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Literal

from appliance.store.records import CueEvent, Runner, Session, StepRecord, StoreError, dumps, json_safe
from appliance.store.schema import FRONTAL_COLUMNS, STEP_COLUMNS

ExportFormat = Literal["json", "csv"]


def session_export(session: Session, runner: Runner, steps: list[StepRecord], events: list[CueEvent],
                   fmt: ExportFormat = "json", frontal: list[dict] | None = None) -> str:
    """The session with its runner, steps, cue events and the rear camera's stances (``frontal``:
    dicts of FRONTAL_COLUMNS), as JSON or as one CSV table.

    The CSV has one row per record in time order: ``record`` is ``step``, ``cue`` or ``frontal``
    (its measures in ``frontal_*`` columns, its foot and times in ``foot``, ``t_ic``, ``t_to``); ``t_rel_s``
    is seconds since the session start; step metric columns are empty on cue rows and ``cue_kind``
    / ``cue_payload`` are empty on step rows. Session fields are in ``session_*`` columns on every row
    so one file stands alone in a patient record.
    """
    if fmt == "json":
        doc = {
            "session": session.model_dump(mode="json"),
            "runner": runner.model_dump(mode="json"),
            "steps": [s.model_dump(mode="json", exclude={"session_id"}) for s in steps],
            "cue_events": [e.model_dump(mode="json", exclude={"session_id"}) for e in events],
            "frontal_steps": list(frontal or []),
        }
        return json.dumps(json_safe(doc), indent=2, allow_nan=False) + "\n"
    if fmt != "csv":
        raise StoreError(f"format: {fmt!r} is not supported; use json or csv")
    t0 = session.t_start
    if t0 is None:
        t0 = min([s.t_ic for s in steps] + [e.t for e in events], default=0.0)
    session_cols = {
        "session_id": session.id, "session_runner": runner.name, "session_number": session.session_number,
        "session_started": session.started.isoformat(), "session_state": session.state,
        "session_pain_before": session.pain_before, "session_pain_after": session.pain_after,
        "session_baseline_cadence_spm": session.baseline_cadence_spm,
        "session_target_cadence_spm": session.target_cadence_spm,
    }
    frontal_only = [c for c in FRONTAL_COLUMNS if c not in STEP_COLUMNS]
    header = (["record", "t", "t_rel_s"] + [c for c in STEP_COLUMNS if c != "t_ic"] + ["cue_kind", "cue_payload"]
              + [f"frontal_{c}" for c in frontal_only])
    header += list(session_cols)
    rows: list[tuple[float, int, dict[str, Any]]] = []
    for s in steps:
        d = s.model_dump(exclude={"session_id"})
        d.update(record="step", t=s.t_ic)
        rows.append((s.t_ic, 0, d))
    for e in events:
        rows.append((e.t, 1, {"record": "cue", "t": e.t, "cue_kind": e.kind, "cue_payload": dumps(e.payload)}))
    for f in frontal or []:
        row = {"record": "frontal", "t": f["t_ic"], "foot": f["foot"], "t_to": f["t_to"]}
        row.update({f"frontal_{c}": f[c] for c in frontal_only})
        rows.append((f["t_ic"], 2, row))
    rows.sort(key=lambda r: (r[0], r[1]))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for t, _, d in rows:
        d["t_rel_s"] = round(t - t0, 4)
        d.update(session_cols)
        writer.writerow({k: _cell(v) for k, v in d.items()})
    return out.getvalue()


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def _cell(v: Any) -> Any:
    """A CSV cell: None empty, and text that a spreadsheet would run as a formula (a runner named
    "=HYPERLINK(...)") quoted with a leading apostrophe, so it shows as the text it is."""
    if v is None:
        return ""
    if isinstance(v, str) and v.startswith(FORMULA_LEADS):
        return "'" + v
    return v
