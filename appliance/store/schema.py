"""The database schema: its migrations, keyed on ``PRAGMA user_version``, and the step row."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields

from appliance.types import Step

STEP_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclass_fields(Step))
STEP_COLUMNS: tuple[str, ...] = STEP_FIELDS + ("phase", "feedback_on")

# A step is written at contact and again, final, after its toe-off: the second write updates the row.
_STEP_UPDATE = ", ".join(f'"{c}" = excluded."{c}"' for c in STEP_FIELDS if c != "index")
UPSERT_STEP = (
    f"INSERT INTO steps ({', '.join(chr(34) + c + chr(34) for c in ('session_id',) + STEP_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in range(len(STEP_COLUMNS) + 1))}) "
    f'ON CONFLICT (session_id, "index") DO UPDATE SET {_STEP_UPDATE}'
)

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE runners (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        archived INTEGER NOT NULL DEFAULT 0,
        targets TEXT NOT NULL DEFAULT '{}',
        programme TEXT NOT NULL DEFAULT '{}',
        created TEXT NOT NULL
    );
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        runner_id INTEGER NOT NULL REFERENCES runners(id),
        session_number INTEGER NOT NULL,
        started TEXT NOT NULL,
        ended TEXT,
        state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'interrupted', 'aborted')),
        pain_before INTEGER CHECK (pain_before BETWEEN 0 AND 10),
        pain_after INTEGER CHECK (pain_after BETWEEN 0 AND 10),
        notes TEXT NOT NULL DEFAULT '',
        summary TEXT,
        baseline_cadence_spm REAL,
        target_cadence_spm REAL,
        t_start REAL,
        source TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX sessions_runner ON sessions(runner_id, id);
    CREATE TABLE steps (
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        "index" INTEGER NOT NULL,
        foot TEXT NOT NULL,
        frame_ic INTEGER NOT NULL,
        t_ic REAL NOT NULL,
        strike TEXT NOT NULL,
        foot_strike_angle_deg REAL,
        shank_angle_deg REAL,
        knee_flexion_deg REAL,
        heel_to_hip_leg_lengths REAL,
        cadence_spm REAL,
        instant_cadence_spm REAL,
        confidence REAL,
        valid INTEGER NOT NULL,
        frame_to INTEGER,
        t_to REAL,
        contact_time_s REAL,
        flight_time_s REAL,
        duty_factor REAL,
        vertical_oscillation_leg_lengths REAL,
        trunk_lean_deg REAL,
        calibrated INTEGER NOT NULL DEFAULT 0,
        phase TEXT NOT NULL DEFAULT '',
        feedback_on INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (session_id, "index")
    );
    CREATE TABLE cue_events (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        t REAL NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX cue_events_session ON cue_events(session_id, t);
    CREATE TABLE settings_changes (
        id INTEGER PRIMARY KEY,
        t TEXT NOT NULL,
        who TEXT NOT NULL,
        diff TEXT NOT NULL
    );
    """,
    # 2: the gait tracker emits each step twice (at contact, then final after toe-off)
    """
    ALTER TABLE steps ADD COLUMN final INTEGER NOT NULL DEFAULT 0;
    """,
    # 3: how far each step's strike angle can be trusted (the mid-stance foot angle's spread)
    """
    ALTER TABLE steps ADD COLUMN strike_spread_deg REAL;
    """,
    # 4: what timed each contact (the foot stage's touch and belt lock) and what read its angles
    """
    ALTER TABLE steps ADD COLUMN timed_by TEXT NOT NULL DEFAULT 'landmarks';
    ALTER TABLE steps ADD COLUMN t_touch REAL;
    ALTER TABLE steps ADD COLUMN t_lock REAL;
    ALTER TABLE steps ADD COLUMN strike_read_by TEXT NOT NULL DEFAULT 'landmarks';
    """,
    # 5: a session's identity across appliances (a runner's bundle imported twice adds it once)
    """
    ALTER TABLE sessions ADD COLUMN uid TEXT;
    UPDATE sessions SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL;
    CREATE UNIQUE INDEX sessions_uid ON sessions(uid);
    """,
    # 6: the rear camera's stances (appliance.frontal: pelvic drop, hip adduction, knee angle, foot)
    """
    CREATE TABLE frontal_steps (
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        foot TEXT NOT NULL,
        t_ic REAL NOT NULL,
        t_to REAL NOT NULL,
        t_mid REAL NOT NULL,
        samples INTEGER NOT NULL,
        pelvic_drop_deg REAL,
        hip_adduction_deg REAL,
        knee_fppa_deg REAL,
        foot_lateral_hw REAL,
        stance_from TEXT NOT NULL,
        PRIMARY KEY (session_id, foot, t_ic)
    );
    """,
)
FRONTAL_COLUMNS: tuple[str, ...] = ("foot", "t_ic", "t_to", "t_mid", "samples", "pelvic_drop_deg", "hip_adduction_deg",
                                    "knee_fppa_deg", "foot_lateral_hw", "stance_from")
SCHEMA_VERSION = len(MIGRATIONS)
