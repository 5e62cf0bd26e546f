"""What changed between two settings, which changes wait for a restart of the appliance, and which
settings the appliance was started with from its command line instead of the saved ones.

``needs_restart`` is the one rule for "takes effect after a restart": the settings form marks fields
with it, the panel's save message names them with it, and the runtime's log line on a save too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.config import Settings, atomic_write_text

if TYPE_CHECKING:
    from appliance.runtime.app import RunOptions

RESTART_SECTIONS = ("camera", "rear_camera", "pose", "panel", "gpio", "button", "storage")
RESTART_AUDIO_FIELDS = ("sink", "device", "sample_rate", "block_size", "voice", "prompts_dir", "prompt_texts",
                        "metronome_sound", "accent_every_stride", "ramp_ms")  # the engine is built at start
LIVE_LIGHT_FIELDS = ("brightness", "pulse_on_beat")  # other lights.* (driver, pins, LED count) need a restart
# Read where they are used, on every request or check: they apply at once although their section restarts.
LIVE_IN_RESTART_SECTIONS = (
    "panel.public_live_view",  # the panel reads it on every request
    "storage.retention_months",  # the data upkeep thread reads it at its next check
    "camera.record_video",  # read as each session starts
)
# Parts opened at start whose setting sits in a section that otherwise applies live.
RESTART_FIELDS_IN_LIVE_SECTIONS = (
    "gait.foot_stage",  # the foot stage is part of the loop
    "gait.heavy_look",  # the larger model's worker is opened at start (with the foot stage)
)


def needs_restart(name: str) -> bool:
    """True when the setting ``name`` (dotted, e.g. ``audio.sink``) takes effect only after a restart.

    Everything else applies at the next tick (session.*, audio.volume, lights.brightness...), at
    once (panel.public_live_view) or at the next session (coach.*, and gait.* but the foot stage
    and the larger model: the tracker is rebuilt when a session starts)."""
    section, _, field = name.partition(".")
    field = field.split(".")[0]
    if name in LIVE_IN_RESTART_SECTIONS:
        return False
    return (section in RESTART_SECTIONS or (section == "audio" and field in RESTART_AUDIO_FIELDS)
            or name in RESTART_FIELDS_IN_LIVE_SECTIONS
            or (section == "lights" and field not in LIVE_LIGHT_FIELDS))


def _flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and all(isinstance(x, str) for x in v) and k != "prompt_texts":
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def settings_diff(old: Settings, new: Settings) -> dict[str, list[Any]]:
    """Dotted setting name -> [old, new] for every changed value."""
    a, b = _flatten(old.model_dump(mode="json")), _flatten(new.model_dump(mode="json"))
    return {k: [a.get(k), b.get(k)] for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


@dataclass(frozen=True)
class CommandLineValue:
    """A setting the running appliance took from its command line instead of the saved value."""

    path: str  # the setting, e.g. panel.port
    option: str  # the option as typed, e.g. "--port 8123"
    in_force: Any  # the value the appliance runs with (JSON-able)
    saved: Any  # the value in the settings file, in force when started without the option


def command_line_values(settings: Settings, options: RunOptions, bound_port: int | None = None) -> list[CommandLineValue]:
    """The settings that ``appliance run``'s options (``--host``, ``--port``, ``--data-dir``,
    ``--source``) overrode at start with a value other than the saved one, with both values.
    ``bound_port`` is the port the panel really listens on (``--port 0`` picks a free one)."""
    found: list[CommandLineValue] = []
    if options.host is not None and options.host != settings.panel.host:
        found.append(CommandLineValue("panel.host", f"--host {options.host}", options.host, settings.panel.host))
    if options.port is not None and options.port != settings.panel.port:
        in_force = bound_port if options.port == 0 and bound_port else options.port
        found.append(CommandLineValue("panel.port", f"--port {options.port}", in_force, settings.panel.port))
    if options.data_dir is not None and Path(options.data_dir).resolve() != Path(settings.storage.data_dir).resolve():
        found.append(CommandLineValue("storage.data_dir", f"--data-dir {options.data_dir}", str(options.data_dir),
                                      str(settings.storage.data_dir)))
    if options.source and options.source != settings.camera.source:
        found.append(CommandLineValue("camera.source", f"--source {options.source}", options.source,
                                      settings.camera.source))
    return found


@dataclass(frozen=True)
class StartedWith:
    """What the Settings page says about how the appliance was started: the settings its command
    line overrode, and the file the panel saves the settings to."""

    values: list[CommandLineValue]
    settings_file: Path
    settings_file_option: str | None  # "--config PATH" when the file was named at start


def started_with(settings: Settings, options: RunOptions, settings_file: Path,
                 bound_port: int | None = None) -> StartedWith:
    """``command_line_values`` and the settings file, for the Settings page."""
    return StartedWith(command_line_values(settings, options, bound_port), Path(settings_file),
                       f"--config {options.config_path}" if options.config_path is not None else None)


def save_settings_file(settings: Settings, path: Path) -> None:
    """Save ``settings`` (the saved values, never a command-line one) to ``path`` atomically.

    The data directory cannot be changed from the panel: the file keeps what it said about it, and a
    file that named none still names none (the default is worked out at each start, and a
    ``--data-dir`` given at start is never written)."""
    data = settings.model_dump(mode="json")
    try:
        before = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        before = {}
    before_storage = before.get("storage") if isinstance(before, dict) else None
    if isinstance(before_storage, dict) and "data_dir" in before_storage:
        data["storage"]["data_dir"] = before_storage["data_dir"]
    else:
        data["storage"].pop("data_dir", None)
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
