"""What changed between two settings, and which changes wait for a restart of the appliance."""

from __future__ import annotations

from typing import Any

from appliance.config import Settings

RESTART_SECTIONS = ("camera", "rear_camera", "pose", "panel", "gpio", "button", "storage")
RESTART_AUDIO_FIELDS = ("sink", "device", "sample_rate", "block_size", "voice", "prompts_dir", "prompt_texts",
                        "metronome_sound", "accent_every_stride")
LIVE_LIGHT_FIELDS = ("brightness", "pulse_on_beat")  # other lights.* (driver, pins, LED count) need a restart


def needs_restart(name: str) -> bool:
    """True when the setting ``name`` (dotted, e.g. ``audio.sink``) takes effect only after a restart.

    Everything else applies at the next tick (session.*, audio.volume, lights.brightness...) or at
    the next session (coach.*, and gait.* but the foot stage: the tracker is rebuilt when a
    session starts; the foot stage is part of the loop)."""
    section, _, field = name.partition(".")
    field = field.split(".")[0]
    if name == "storage.retention_months":  # the data upkeep thread reads it at its next check
        return False
    return (section in RESTART_SECTIONS or (section == "audio" and field in RESTART_AUDIO_FIELDS)
            or name == "gait.foot_stage"
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
