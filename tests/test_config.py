import json

import pytest

from appliance.config import ConfigError, Settings, load_settings, save_settings


def test_missing_file_gives_defaults(tmp_path):
    s = load_settings(tmp_path / "nope.json")
    assert s == Settings()


def test_round_trip_is_atomic_and_exact(tmp_path):
    p = tmp_path / "cfg" / "settings.json"
    s = Settings()
    s.audio.volume = 0.3
    s.lights.red_pin = 5
    save_settings(s, p)
    assert load_settings(p) == s
    assert [f.name for f in p.parent.iterdir()] == ["settings.json"]  # no temp file left behind


def test_invalid_value_names_field_and_reason(tmp_path):
    p = tmp_path / "settings.json"
    p.write_text(json.dumps({"audio": {"volume": 3}}))
    with pytest.raises(ConfigError) as e:
        load_settings(p)
    assert "audio.volume" in str(e.value) and "less than or equal to 1" in str(e.value)


def test_unknown_field_rejected(tmp_path):
    p = tmp_path / "settings.json"
    p.write_text(json.dumps({"camera": {"fsp": 30}}))
    with pytest.raises(ConfigError, match="camera.fsp"):
        load_settings(p)


def test_corrupt_file_names_the_fix(tmp_path):
    p = tmp_path / "settings.json"
    p.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot be read.*move it away"):
        load_settings(p)


def test_a_cadence_range_with_no_step_in_it_is_refused_at_load(tmp_path):
    """The slowest cadence above the fastest would fail the control loop on every running step (and,
    saved, at every start): the file is refused with the field and the reason."""
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"gait": {"min_cadence_spm": 140, "max_cadence_spm": 130}}))
    with pytest.raises(ConfigError, match=r"gait\.min_cadence_spm: .*below the fastest"):
        load_settings(path)
