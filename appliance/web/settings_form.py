"""The settings form: every field of appliance.config.Settings, described from its JSON schema,
and the server-side check of a change before it reaches the running appliance.

What the panel may not change (a request must never name a file on the appliance, and must not be
able to move the panel off its address): file-system paths, file-backed sources and sinks, and the
panel's own host and port are shown read-only, with a note saying where to change them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from appliance.config import Settings
from appliance.web.models import FieldError, SettingField, SettingsView, SettingValue

READ_ONLY_NOTES = {
    "version": "The config file format version; managed by the appliance.",
    "panel.host": "Set in the config file or with `appliance run --host`; a wrong value here would lock the panel out.",
    "panel.port": "Set in the config file or with `appliance run --port`; a wrong value here would lock the panel out.",
}
PATH_NOTE = "A file-system path on the appliance: set it in the config file there, not from the panel."

# Values that name a file on the appliance are refused from the panel.
FILE_VALUE_PREFIXES = {"camera.source": "video:", "audio.sink": "wav:"}

PIN_WARNING = (
    "Changing a GPIO pin drives a different line on the Pi: check the wiring (hardware/README) first, "
    "a wrong pin can leave the lights or button dead or stress what is connected there."
)
WARNING_FIELDS = {"lights.red_pin", "lights.green_pin", "lights.blue_pin", "button.pin", "gpio.pin_factory"}
MAX_STRING_LENGTH = 200


class SettingsChangeError(ValueError):
    """A change the panel refuses; ``errors`` names each field and the reason."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
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


def applies_after_restart(path: str) -> bool:
    """True for settings the running appliance takes up only when it restarts (camera, pins, ...);
    every other change is applied by the control loop at its next tick. The rule is the runtime's."""
    from appliance.runtime.settings_changes import needs_restart

    if path == "panel.public_live_view":  # read by the panel on every request
        return False
    return needs_restart(path)


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
        title=prop.get("title", name),
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
        restart=applies_after_restart(path),
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


def settings_view(settings: Settings) -> SettingsView:
    """Every setting, in model order, with kind, range, unit, help text and current value."""
    return SettingsView(fields=model_fields(settings))


def apply_changes(current: Settings, changes: dict[str, SettingValue]) -> Settings:
    """The settings with ``changes`` applied, validated by the config model.

    Raises SettingsChangeError naming every refused field: unknown names, read-only fields,
    file-backed values, and whatever the config model rejects (range, type, choice).
    """
    editable = {f.path: f for f in settings_view(current).fields}
    data = current.model_dump(mode="json")
    errors: list[FieldError] = []
    for path, value in changes.items():
        field = editable.get(path)
        if field is None:
            errors.append(FieldError(field=path, message="no such setting"))
            continue
        if not field.editable:
            errors.append(FieldError(field=path, message=f"read-only in the panel: {field.note}"))
            continue
        if isinstance(value, str):
            if len(value) > MAX_STRING_LENGTH:
                errors.append(FieldError(field=path, message=f"at most {MAX_STRING_LENGTH} characters"))
                continue
            prefix = FILE_VALUE_PREFIXES.get(path)
            if prefix and value.strip().lower().startswith(prefix):
                errors.append(
                    FieldError(field=path, message=f"{prefix}... names a file on the appliance; set it in the config file")
                )
                continue
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
            [
                FieldError(field=".".join(str(p) for p in err["loc"]), message=err["msg"])
                for err in e.errors(include_url=False)
            ]
        ) from e
