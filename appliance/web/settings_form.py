"""The settings form: every field of appliance.config.Settings, described from its JSON schema,
and the server-side check of a change before it reaches the running appliance.

What the panel may not change (a request must never name a file on the appliance, and must not be
able to move the panel off its address): file-system paths, file-backed sources and sinks, and the
panel's own host and port are shown read-only, with a note saying where to change them.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from appliance.config import Settings
from appliance.outputs.prompts import DEFAULT_PROMPTS, PromptError, check_voice
from appliance.runtime.settings_changes import StartedWith, needs_restart
from appliance.web.models import (
    FieldError,
    SettingField,
    SettingsView,
    SettingValue,
    plain_reason,
    text_problem,
)

READ_ONLY_NOTES = {
    "version": "The config file format version; managed by the appliance.",
    "panel.host": "Set in the config file or with `appliance run --host`; a wrong value here would lock the panel out.",
    "panel.port": "Set in the config file or with `appliance run --port`; a wrong value here would lock the panel out.",
}
PATH_NOTE = "A file-system path on the appliance: set it in the config file there, not from the panel."

# Values that name a file on the appliance are refused from the panel.
FILE_VALUE_PREFIXES = {"camera.source": "video:", "rear_camera.source": "video:", "audio.sink": "wav:"}

PIN_WARNING = (
    "Changing a GPIO pin drives a different line on the Pi: check the wiring (hardware/README) first, "
    "a wrong pin can leave the lights or button dead or stress what is connected there."
)
WARNING_FIELDS = {"lights.red_pin", "lights.green_pin", "lights.blue_pin", "button.pin", "gpio.pin_factory"}
MAX_STRING_LENGTH = 200


class SettingsChangeError(ValueError):
    """A change the panel refuses; ``errors`` names each field and the reason."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{label_for(e.field)} {e.message}" for e in errors))
        self.errors = errors


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref:
        return schema["$defs"][ref.rsplit("/", 1)[-1]]
    return node


UNIT_SUFFIXES = {"_spm": "steps/min", "_deg": "°", "_pct": "%", "_minutes": "min", "_s": "s", "_ms": "ms", "_hz": "Hz"}


def _unit_from_name(name: str) -> str | None:
    """The unit a field's name ends with (cadence_spm -> steps/min), for models without a unit."""
    for suffix, unit in UNIT_SUFFIXES.items():
        if name.endswith(suffix):
            return unit
    return None

# What the form calls each field: words for a clinician, not the config's field names. The unit
# is shown after the label (e.g. "Warm-up (min)"). Fields missing here get their name in words.
LABELS = {
    "version": "Settings file version",
    "camera.source": "Camera",
    "rear_camera.source": "Rear camera (none, picamera:1, webcam:N, sim)",
    "rear_camera.view": "Rear camera's place",
    "rear_camera.fps": "Rear camera frame rate",
    "rear_camera.width": "Rear camera width",
    "rear_camera.height": "Rear camera height",
    "camera.width": "Image width",
    "camera.height": "Image height",
    "camera.fps": "Frame rate",
    "camera.record_video": "Record video",
    "pose.model_dir": "Pose model folder",
    "pose.threads": "Pose model threads",
    "pose.min_detection_score": "Person detection score needed",
    "pose.min_presence": "Pose presence needed",
    "pose.filter_min_cutoff": "Landmark smoothing: cutoff",
    "pose.filter_beta": "Landmark smoothing: speed",
    "audio.sink": "Sound output",
    "audio.device": "Sound device",
    "audio.sample_rate": "Sample rate",
    "audio.block_size": "Audio buffer",
    "audio.volume": "Volume (0–1)",
    "audio.metronome_sound": "Metronome sound",
    "audio.accent_every_stride": "Accent every stride",
    "audio.voice": "Voice",
    "audio.prompts_dir": "Spoken prompts folder",
    "audio.prompt_texts": "Words of the spoken cues",
    "audio.ramp_ms": "Volume ramp",
    "lights.driver": "Light strip type",
    "lights.red_pin": "Red channel pin (GPIO)",
    "lights.green_pin": "Green channel pin (GPIO)",
    "lights.blue_pin": "Blue channel pin (GPIO)",
    "lights.brightness": "Light brightness (0–1)",
    "lights.pulse_on_beat": "Pulse the lights on the beat",
    "lights.led_count": "Number of LEDs",
    "button.enabled": "Start/pause button fitted",
    "button.pin": "Button pin (GPIO)",
    "button.hold_seconds": "Hold to end a session",
    "coach.warmup_minutes": "Warm-up",
    "coach.retention_minutes": "Retention block",
    "coach.min_block_minutes": "Shortest feedback block",
    "coach.min_cue_interval_s": "Time between spoken cues",
    "coach.block_grace_s": "Quiet start of a feedback block",
    "coach.min_baseline_steps": "Warm-up steps needed for a baseline",
    "coach.spoken_summary": "Speak a summary at the end",
    "coach.strike_median_steps": "Foot strike judged over (steps)",
    "coach.strike_max_spread_deg": "Foot-angle spread that stops strike cues",
    "session.auto_start": "Start when the selected runner runs",
    "session.runner_id": "Selected runner (number)",
    "session.calibrate": "Calibrate standing still first",
    "session.calibration_seconds": "Standing-still calibration",
    "session.calibration_timeout_seconds": "Wait for standing still at most",
    "session.pause_after_absent_seconds": "Pause when nobody is on the belt for",
    "session.end_after_paused_minutes": "End a session paused for",
    "session.auto_start_after_seconds": "Running time that starts a session",
    "session.summary_seconds": "Summary shown on Live for",
    "session.watchdog_stall_seconds": "Watchdog: loop stall allowed",
    "gait.rearfoot_above_deg": "Rearfoot strike above",
    "gait.forefoot_below_deg": "Forefoot strike below",
    "gait.contact_height_leg_lengths": "Foot on the belt within (leg lengths)",
    "gait.airborne_height_leg_lengths": "Foot in the air above (leg lengths)",
    "gait.min_visibility": "Leg visibility needed",
    "gait.min_confidence": "Step confidence needed",
    "gait.cadence_window_s": "Cadence averaged over",
    "gait.max_cadence_spm": "Fastest plausible cadence",
    "gait.min_cadence_spm": "Slowest cadence counted as running",
    "gait.foot_stage": "Time contacts from the foot pixels",
    "gait.heavy_look": "Read foot angles with the larger model",
    "gpio.pin_factory": "GPIO driver",
    "panel.host": "Panel address",
    "panel.port": "Panel port",
    "panel.public_live_view": "Live view without log-in",
    "storage.data_dir": "Data folder",
    # a runner's targets (Runners page)
    "cadence.increase_pct": "Cadence increase",
    "cadence.absolute_spm": "Fixed cadence target (instead)",
    "cadence.tolerance_spm": "Tolerance",
    "overstride.max_shank_deg": "Largest shank angle at landing",
    "overstride.baseline_margin_deg": "Or at most above the runner's baseline",
    "strike.aim": "Aim for",
    "strike.tolerance_deg": "Tolerance",
    "frontal.measure": "Measure (hip adduction, pelvic drop or knee angle)",
    "frontal.reduction_deg": "Reduce by, from the warm-up",
    "frontal.tolerance_deg": "Tolerance",
    # a programme session (Runners page)
    "number": "Session",
    "run_minutes": "Run",
    "feedback_share": "Feedback share (0–1)",
    "day": "Day",
}

# The page's headings, and what a clinician changes between patients (shown first, in this
# order); every other setting is hardware or expert tuning and sits under a fold.
GROUPS = {
    "coach": "Session and coaching", "session": "Session and coaching", "audio": "Sound and voice",
    "lights": "Lights", "panel": "Panel", "camera": "Camera", "pose": "Pose model", "button": "Button",
    "gait": "Gait analysis", "gpio": "GPIO", "storage": "Storage", "general": "Settings file",
}
EVERYDAY = (
    "coach.warmup_minutes", "coach.retention_minutes", "coach.min_cue_interval_s", "coach.spoken_summary",
    "session.calibrate", "session.auto_start",
    "audio.volume", "audio.metronome_sound", "audio.accent_every_stride", "audio.voice", "audio.prompt_texts",
    "lights.brightness", "lights.pulse_on_beat",
    "camera.record_video", "panel.public_live_view",
)


def label_for(path: str) -> str:
    """The form's label of a field: LABELS, else its name in words without the unit suffix."""
    if path in LABELS:
        return LABELS[path]
    name = path.rsplit(".", 1)[-1]
    for suffix in UNIT_SUFFIXES:
        name = name.removesuffix(suffix)
    return name.replace("_", " ").capitalize()


def _describe(path: str, section: str, name: str, prop: dict[str, Any], value: Any) -> SettingField:
    options = prop.get("anyOf", [prop])
    nullable = any(o.get("type") == "null" for o in options)
    main = next((o for o in options if o.get("type") != "null"), {})
    is_path = main.get("format") == "path"
    if "enum" in main:
        kind = "choice"
    else:
        kind = {"boolean": "boolean", "integer": "integer", "number": "number", "object": "object", "array": "object"}.get(
            main.get("type"), "string"
        )
    note = READ_ONLY_NOTES.get(path) or (PATH_NOTE if is_path else None)
    if path in WARNING_FIELDS:
        note = PIN_WARNING
    elif path in FILE_VALUE_PREFIXES:
        note = f"Values starting with {FILE_VALUE_PREFIXES[path]!r} name a file: set those in the config file."
    return SettingField(
        path=path,
        section=section,
        name=name,
        title=label_for(path),
        kind=kind,
        nullable=nullable,
        choices=[str(c) for c in main["enum"]] if "enum" in main else None,
        minimum=main.get("minimum"),
        maximum=main.get("maximum"),
        exclusive_minimum=main.get("exclusiveMinimum"),
        exclusive_maximum=main.get("exclusiveMaximum"),
        unit=prop.get("unit", main.get("unit")) or _unit_from_name(name),
        description=prop.get("description"),
        value=value,
        default=prop.get("default"),
        editable=path not in READ_ONLY_NOTES and not is_path,
        note=note,
        warning=path in WARNING_FIELDS,
        restart=needs_restart(path),
        group=GROUPS.get(section, section.capitalize()),
        everyday=path in EVERYDAY,
    )


def model_fields(model: BaseModel) -> list[SettingField]:
    """Every leaf field of ``model`` (nested models flattened to dotted paths), from its JSON schema."""
    schema = type(model).model_json_schema()
    values = model.model_dump(mode="json")
    fields: list[SettingField] = []

    def walk(node: dict[str, Any], vals: dict[str, Any], prefix: str, section: str) -> None:
        for name, prop in node.get("properties", {}).items():
            # A nested model, possibly optional (anyOf [model, null]): descend when it has a value.
            options = [_resolve(schema, o) for o in prop.get("anyOf", [prop])]
            sub = next((o for o in options if o.get("type") == "object" and "properties" in o), options[0])
            path = f"{prefix}{name}"
            if "properties" in sub and isinstance(vals.get(name), dict):
                walk(sub, vals.get(name) or {}, path + ".", section if prefix else name)
            else:
                fields.append(_describe(path, section if prefix else "general", name, prop, vals.get(name)))

    walk(schema, values, "", "general")
    return fields


def settings_view(settings: Settings, started: StartedWith | None = None) -> SettingsView:
    """Every setting with kind, range, unit, help text and saved value: the everyday ones first (in
    EVERYDAY's order), then the rest in model order. With ``started`` (how the running appliance was
    started), each field says the value in force and the command-line option that set it, if any."""
    fields = model_fields(settings)
    overrides = {v.path: v for v in started.values} if started is not None else {}
    for f in fields:
        override = overrides.get(f.path)
        f.in_force = override.in_force if override is not None else f.value
        f.overridden_by = override.option if override is not None else None
    first = sorted((f for f in fields if f.everyday), key=lambda f: EVERYDAY.index(f.path))
    return SettingsView(
        fields=first + [f for f in fields if not f.everyday],
        settings_file=str(started.settings_file) if started is not None else None,
        settings_file_option=started.settings_file_option if started is not None else None,
    )


MAX_ID = 2**63 - 1  # SQLite's largest integer: no runner id beyond it can exist
VOICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+\-/.]*")


def _voice_problem(voice: str) -> str | None:
    """Why espeak-ng could not speak with ``voice`` (it would fall back silently), or None."""
    if not VOICE_NAME.fullmatch(voice.strip()):
        return "must be an espeak-ng voice name such as en, en-us or en+f3"
    if shutil.which("espeak-ng") is None:
        return None  # nothing to ask here; the appliance checks again when it renders the prompts
    try:
        check_voice(voice.strip())
    except PromptError:
        return f"espeak-ng has no voice called {voice.strip()!r}; try en, en-us or en+f3"
    return None


def _prompt_texts_problem(texts: Any) -> str | None:
    if not isinstance(texts, dict):
        return 'must be cue names with their words, e.g. {"quick_feet": "faster feet"}'
    for name, text in texts.items():
        if name not in DEFAULT_PROMPTS:
            return f"{name[:40]!r} is not a spoken cue; the cues are: {', '.join(DEFAULT_PROMPTS)}"
        if not isinstance(text, str) or not text.strip():
            return f"the words for {name} must not be empty"
        if len(text) > MAX_STRING_LENGTH:
            return f"the words for {name} must have at most {MAX_STRING_LENGTH} characters"
        if problem := text_problem(text):
            return f"the words for {name} {problem}"
    return None


def _runner_problem(value: Any, runner_exists: Callable[[int], bool] | None) -> str | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        return None  # no runner, or a type the config model refuses in its own words
    if not 1 <= value <= MAX_ID or (runner_exists is not None and not runner_exists(value)):
        return "no such runner (or archived): choose the runner on the Runners page"
    return None


def _value_problem(path: str, value: Any, runner_exists: Callable[[int], bool] | None) -> str | None:
    """Why the panel refuses ``value`` for ``path`` before the config model sees it, or None."""
    if isinstance(value, str):
        if len(value) > MAX_STRING_LENGTH:
            return f"must have at most {MAX_STRING_LENGTH} characters"
        if problem := text_problem(value):
            return problem
        prefix = FILE_VALUE_PREFIXES.get(path)
        if prefix and value.strip().lower().startswith(prefix):
            return f"{prefix}... names a file on the appliance; set it in the config file"
    if path == "audio.voice" and isinstance(value, str):
        return _voice_problem(value)
    if path == "audio.prompt_texts":
        return _prompt_texts_problem(value)
    if path == "session.runner_id":
        return _runner_problem(value, runner_exists)
    return None


def _setting_of(loc: tuple[Any, ...], known: set[str]) -> str:
    """The setting a validation error's location falls in (audio.prompt_texts.x -> audio.prompt_texts)."""
    parts = [str(p) for p in loc]
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in known:
            return ".".join(parts[:n])
    return ".".join(parts)


def apply_changes(
    current: Settings, changes: dict[str, SettingValue], runner_exists: Callable[[int], bool] | None = None
) -> Settings:
    """The settings with ``changes`` applied, validated by the config model.

    Raises SettingsChangeError naming every refused field in plain words: unknown names, read-only
    fields, file-backed values, voices espeak-ng lacks, unknown cue names, runners that do not
    exist (``runner_exists``), and whatever the config model rejects (range, type, choice, the
    rules across fields).
    """
    editable = {f.path: f for f in settings_view(current).fields}
    data = current.model_dump(mode="json")
    errors: list[FieldError] = []
    for path, value in changes.items():
        field = editable.get(path)
        if field is None:
            errors.append(FieldError(field=path, message="is not a setting of this appliance"))
            continue
        if not field.editable:
            errors.append(FieldError(field=path, message=f"cannot be changed from the panel: {field.note}"))
            continue
        if problem := _value_problem(path, value, runner_exists):
            errors.append(FieldError(field=path, message=problem))
            continue
        if path == "audio.voice" and isinstance(value, str):
            value = value.strip()
        target = data
        *parents, leaf = path.split(".")
        for p in parents:
            target = target[p]
        target[leaf] = value
    if errors:
        raise SettingsChangeError(errors)
    try:
        return Settings.model_validate(data)
    except ValidationError as e:
        raise SettingsChangeError(
            [FieldError(field=_setting_of(err["loc"], set(editable)), message=plain_reason(err))
             for err in e.errors(include_url=False)]
        ) from e
