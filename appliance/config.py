"""Every setting of the appliance in one validated pydantic model, loaded and saved atomically.

The config file is JSON. A missing file means defaults; a corrupt or invalid file is an error that
names the file, the field and the reason. Saving writes a temporary file, fsyncs it and renames it
over the old one, so a power cut leaves either the old or the new settings, never half of each.
"""

from __future__ import annotations

import contextlib
import json
import operator
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from appliance.errors import ApplianceError
from appliance.types import UNSTEADY_FOOT_SPREAD_DEG

CONFIG_VERSION = 1


class ConfigError(ApplianceError):
    """A config file that cannot be used; the message says which file, which field and why."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def default_data_dir() -> Path:
    """Where runtime state lives: /var/lib/appliance under systemd, a per-user dir elsewhere."""
    state = os.environ.get("STATE_DIRECTORY")  # set by systemd's StateDirectory=
    if state:
        return Path(state.split(":")[0])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "appliance"


def default_model_dir() -> Path:
    """Where the pose model files live: under the state dir on the appliance, a per-user cache elsewhere."""
    if os.environ.get("APPLIANCE_MODEL_DIR"):
        return Path(os.environ["APPLIANCE_MODEL_DIR"])
    if os.environ.get("STATE_DIRECTORY"):
        return default_data_dir() / "models"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "appliance" / "models"


class CameraSettings(Section):
    source: str = Field(
        "auto",
        description="Frame source: auto (Pi camera, else a webcam, else the simulated runner), "
        "picamera, webcam:N, video:PATH or sim",
    )
    width: int = Field(640, ge=160, le=1920, description="Capture width", json_schema_extra={"unit": "px"})
    height: int = Field(480, ge=120, le=1080, description="Capture height", json_schema_extra={"unit": "px"})
    fps: float = Field(60.0, ge=15, le=240, description="Capture rate", json_schema_extra={"unit": "frames/s"})
    record_video: bool = Field(False, description="Keep the side camera's video of each session on the device, in the data directory's video folder, removed with the session (off: no video is kept; never sent over the network); applies from the next session")


class RearCameraSettings(Section):
    """The optional second camera behind (or in front of) the treadmill, for the frontal plane."""

    source: str = Field(
        "none",
        description="none (no rear camera), picamera:1 (the Pi 5's second camera connector), webcam:N, video:PATH, "
        "or sim (the simulated runner's rear view, with the simulated side camera)",
    )
    view: Literal["rear", "front"] = Field("rear", description="rear: behind the runner; front: facing the runner")
    width: int = Field(1280, ge=160, le=1920, description="Capture width", json_schema_extra={"unit": "px"})
    height: int = Field(720, ge=120, le=1080, description="Capture height", json_schema_extra={"unit": "px"})
    fps: float = Field(30.0, ge=15, le=120, description="Capture rate (30 is enough: peaks over a stance)",
                       json_schema_extra={"unit": "frames/s"})


class PoseSettings(Section):
    model_dir: Path = Field(default_factory=default_model_dir, description="Directory of the pose model files")
    threads: int = Field(4, ge=1, le=8, description="Inference threads")
    min_detection_score: float = Field(0.5, ge=0.05, le=0.99, description="Detector score to accept a person")
    min_presence: float = Field(0.5, ge=0.05, le=0.99, description="Pose flag below which tracking is lost and the detector runs")
    # Defaults measured by bench/filter_tuning.py on real model noise at ~60 fps: light smoothing
    # (median foot error 1.45 % of leg length against 1.62 % unfiltered); heavier settings lag the feet.
    filter_min_cutoff: float = Field(
        40.0, gt=0, le=200, description="Landmark filter cutoff for still landmarks (One-Euro)",
        json_schema_extra={"unit": "Hz"},
    )
    filter_beta: float = Field(
        300.0, ge=0, le=2000, description="Landmark filter speed coefficient: higher lets fast feet through sooner"
    )


class AudioSettings(Section):
    sink: str = Field("auto", description="auto (sound device, else null), device, wav:PATH or null")
    device: str | None = Field(None, description="PortAudio output device name or index (None: the default)")
    sample_rate: int = Field(48000, ge=8000, le=96000, description="Output sample rate", json_schema_extra={"unit": "Hz"})
    block_size: int = Field(512, ge=64, le=4096, description="Audio buffer", json_schema_extra={"unit": "samples"})
    volume: float = Field(0.8, ge=0.0, le=1.0, description="Master volume")
    metronome_sound: Literal["click", "woodblock"] = Field("woodblock", description="Beat sound")
    accent_every_stride: bool = Field(False, description="Accent every second beat (one per stride)")
    voice: str = Field("en", description="espeak-ng voice for the spoken prompts")
    prompts_dir: Path | None = Field(None, description="Directory of cached spoken prompts (None: under the data dir)")
    prompt_texts: dict[str, str] = Field(
        default_factory=dict, description="Words of the spoken prompts by name (e.g. quick_feet), overriding the defaults"
    )
    ramp_ms: float = Field(30.0, ge=1.0, le=500.0, description="Volume change ramp (no clicks)", json_schema_extra={"unit": "ms"})


class LightSettings(Section):
    driver: Literal["rgb", "addressable", "none"] = Field("rgb", description="LED strip driver")
    red_pin: int = Field(12, ge=0, le=27, description="GPIO (BCM) of the red channel (PWM)")
    green_pin: int = Field(13, ge=0, le=27, description="GPIO (BCM) of the green channel (PWM)")
    # Not 19: GPIO 18/19/21 carry I2S to the MAX98357A amplifier (see hardware/wiring.md).
    blue_pin: int = Field(6, ge=0, le=27, description="GPIO (BCM) of the blue channel (PWM)")
    brightness: float = Field(0.8, ge=0.0, le=1.0, description="Strip brightness")
    pulse_on_beat: bool = Field(True, description="Pulse the strip on every metronome beat")
    led_count: int = Field(30, ge=1, le=1000, description="LEDs on an addressable strip (driven over SPI MOSI, GPIO 10)")


class ButtonSettings(Section):
    enabled: bool = True
    pin: int = Field(26, ge=0, le=27, description="GPIO (BCM) of the start/pause button (to ground)")
    hold_seconds: float = Field(2.0, ge=0.5, le=10, description="Hold time that ends a session", json_schema_extra={"unit": "s"})


class CoachSettings(Section):
    """How the coach runs a session; the runner's targets and programme live in the database."""

    warmup_minutes: float = Field(3.0, ge=0.5, le=15, description="Cue-free warm-up that measures the baseline", json_schema_extra={"unit": "min"})
    retention_minutes: float = Field(2.0, ge=0.5, le=15, description="Cue-free retention block at the end", json_schema_extra={"unit": "min"})
    min_block_minutes: float = Field(1.0, ge=0.5, le=10, description="Shortest feedback-on or -off block", json_schema_extra={"unit": "min"})
    min_cue_interval_s: float = Field(15.0, ge=2, le=300, description="At most one spoken cue per this many seconds", json_schema_extra={"unit": "s"})
    block_grace_s: float = Field(5.0, ge=0, le=60, description="No spoken cue in the first seconds of a feedback block (time to find the beat)", json_schema_extra={"unit": "s"})
    min_baseline_steps: int = Field(20, ge=4, le=1000, description="Valid warm-up steps needed for a baseline")
    spoken_summary: bool = Field(True, description="Speak a short summary at the end of the session")
    strike_median_steps: int = Field(
        5, ge=1, le=20, description="Judge the foot strike on the median angle of this many recent steps (1: every step alone)"
    )
    strike_max_spread_deg: float = Field(
        UNSTEADY_FOOT_SPREAD_DEG, ge=3, le=45,
        description="No strike cues while the foot's mid-stance angle varies more than this between steps (the camera cannot see the foot well enough)",
        json_schema_extra={"unit": "deg"},
    )


class SessionSettings(Section):
    """How sessions start, pause and end, and how the control loop is watched (the runtime's settings)."""

    auto_start: bool = Field(False, description="Start a session when the selected runner starts running on the belt")
    runner_id: int | None = Field(None, ge=1, description="The selected runner: auto-start and the physical button start their session")
    calibrate: bool = Field(True, description="Start each session with a few seconds of quiet standing to calibrate the flat foot (off: the flat foot is taken from the runner's mid-stances instead and the angles are marked uncalibrated)")
    calibration_seconds: float = Field(3.0, ge=1, le=20, description="Quiet standing used to calibrate the flat foot", json_schema_extra={"unit": "s"})
    calibration_timeout_seconds: float = Field(
        20.0, ge=2, le=120, description="Wait this long for quiet standing, then run uncalibrated", json_schema_extra={"unit": "s"}
    )
    pause_after_absent_seconds: float = Field(
        2.0, ge=0.5, le=30, description="Pause when nobody is seen on the belt for this long", json_schema_extra={"unit": "s"}
    )
    end_after_paused_minutes: float = Field(
        10.0, ge=1, le=120, description="A session paused this long ends by itself", json_schema_extra={"unit": "min"}
    )
    auto_start_after_seconds: float = Field(
        3.0, ge=1, le=60, description="Running for this long starts an auto-start session", json_schema_extra={"unit": "s"}
    )
    summary_seconds: float = Field(15.0, ge=2, le=120, description="How long the summary stays on the live view", json_schema_extra={"unit": "s"})
    watchdog_stall_seconds: float = Field(
        3.0, ge=0.5, le=60, description="No loop tick for this long stops the systemd watchdog pings (systemd restarts the service)",
        json_schema_extra={"unit": "s"},
    )


class PanelSettings(Section):
    host: str = Field("127.0.0.1", description="Address the panel listens on (0.0.0.0 on the appliance)")
    port: int = Field(8080, ge=1, le=65535, description="Panel port")
    public_live_view: bool = Field(False, description="Allow the read-only live view without login")


class StorageSettings(Section):
    data_dir: Path = Field(default_factory=default_data_dir, description="Directory of the database and prompts")
    retention_months: int | None = Field(
        None, ge=1, le=600,
        description="Erase sessions that started more than this many months ago, with their steps (none: keep every session)",
        json_schema_extra={"unit": "months"},
    )


class BackupSettings(Section):
    """The scheduled backup (appliance/store/backup.py): off while neither a directory nor a drive label is set."""

    directory: Path | None = Field(None, description="Directory the scheduled backup writes to (none: use the drive label, or no scheduled backup)")
    drive_label: str = Field(
        "", max_length=64, pattern=r"^[A-Za-z0-9 _.-]*$",
        description="Label of the USB drive the scheduled backup writes to, found where the system mounted it (empty: none)",
    )
    every_hours: float = Field(24.0, ge=1, le=168, description="Time between scheduled backups", json_schema_extra={"unit": "h"})
    keep: int = Field(7, ge=1, le=365, description="Backups kept on the target; the oldest beyond this are deleted")


class GpioSettings(Section):
    pin_factory: Literal["auto", "mock", "lgpio", "rpigpio"] = Field(
        "auto", description="gpiozero pin factory (auto: real pins on a Pi, mock elsewhere)"
    )


# Gait settings that bound each other: field -> (the field it is checked against, the comparison
# that must hold between them, the rule in words). The rhythm and cadence estimators search steps
# between the two cadences: an empty range has no step to find, and the control loop failed on every
# running step (and at every start, once saved).
GAIT_ORDER = {
    "forefoot_below_deg": ("rearfoot_above_deg", operator.le, "the forefoot limit must not be above the rearfoot one"),
    "airborne_height_leg_lengths": ("contact_height_leg_lengths", operator.gt,
                                    "a foot in the air must be higher than one on the belt"),
    "min_cadence_spm": ("max_cadence_spm", operator.lt, "the slowest cadence must be below the fastest"),
}


class GaitSettings(Section):
    """Thresholds of the gait analysis. Defaults are published values where one exists (Altman &
    Davis 2012 for the strike classes) and otherwise ours, justified in appliance/gait/."""

    rearfoot_above_deg: float = Field(8.0, ge=-20, le=30, description="Foot-strike angle above which a step is rearfoot (Altman & Davis 2012)", json_schema_extra={"unit": "deg"})
    forefoot_below_deg: float = Field(-1.6, ge=-30, le=20, description="Foot-strike angle below which a step is forefoot (Altman & Davis 2012)", json_schema_extra={"unit": "deg"})
    contact_height_leg_lengths: float = Field(0.03, gt=0, le=0.2, description="Lowest foot point within this height of its stance level counts as on the belt (raised automatically to 3x the measured landmark noise)")
    airborne_height_leg_lengths: float = Field(0.08, gt=0, le=0.5, description="A foot must rise this high in swing before its next contact counts")
    min_visibility: float = Field(0.5, ge=0, le=1, description="Leg landmark visibility below which a step is not trusted")
    min_confidence: float = Field(0.5, ge=0, le=1, description="Steps below this confidence are reported as invalid and never cued on")
    cadence_window_s: float = Field(10.0, ge=2, le=120, description="Window of the rolling cadence", json_schema_extra={"unit": "s"})
    max_cadence_spm: float = Field(250.0, ge=120, le=300, description="Fastest plausible step rate (sprinting)", json_schema_extra={"unit": "steps/min"})
    min_cadence_spm: float = Field(80.0, ge=30, le=150, description="Slowest step rate still counted as locomotion (slow walking)", json_schema_extra={"unit": "steps/min"})

    foot_stage: bool = Field(True, description="Time each contact from the camera pixels around the feet (the foot stage); off on a board too slow for it, or to compare with the landmarks alone")
    heavy_look: bool = Field(True, description="Read each contact's foot angle with the larger landmark model (BlazePose heavy) on the frames around it, on a spare core; off on a board too slow for it")

    @field_validator(*GAIT_ORDER)
    @classmethod
    def _in_order(cls, v: float, info: ValidationInfo) -> float:
        other, holds, rule = GAIT_ORDER[info.field_name]
        bound = info.data.get(other)  # declared before this field: validated already (None if invalid)
        if bound is not None and not holds(v, bound):
            raise ValueError(f"{rule} (gait.{other} = {bound:g})")
        return v

class Settings(Section):
    """All settings. Runner targets and programmes live in the database, per runner."""

    version: int = CONFIG_VERSION
    camera: CameraSettings = Field(default_factory=CameraSettings)
    rear_camera: RearCameraSettings = Field(default_factory=RearCameraSettings)
    pose: PoseSettings = Field(default_factory=PoseSettings)
    audio: AudioSettings = Field(default_factory=AudioSettings)
    lights: LightSettings = Field(default_factory=LightSettings)
    button: ButtonSettings = Field(default_factory=ButtonSettings)
    coach: CoachSettings = Field(default_factory=CoachSettings)
    session: SessionSettings = Field(default_factory=SessionSettings)
    gait: GaitSettings = Field(default_factory=GaitSettings)
    gpio: GpioSettings = Field(default_factory=GpioSettings)
    panel: PanelSettings = Field(default_factory=PanelSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    backup: BackupSettings = Field(default_factory=BackupSettings)


def format_validation_error(err: ValidationError) -> str:
    """One line per problem: dotted field path and the reason."""
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(root)"
        lines.append(f"{where}: {e['msg']}")
    return "; ".join(lines)


def load_settings(path: Path | None) -> Settings:
    """Settings from a JSON file; defaults when ``path`` is None or does not exist."""
    if path is None or not path.exists():
        return Settings()
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"config file {path} cannot be read ({e})",
                          "fix it or move it away to start from defaults") from e
    version = raw.get("version", CONFIG_VERSION) if isinstance(raw, dict) else CONFIG_VERSION
    if not isinstance(version, int) or isinstance(version, bool):
        raise ConfigError(f"config file {path}: \"version\" is {json.dumps(version)}, not a whole number",
                          f"set it to {CONFIG_VERSION} or move the file away to start from defaults")
    if version > CONFIG_VERSION:
        raise ConfigError(f"config file {path} is version {version}, newer than this appliance understands",
                          "update the appliance, or move the file away to start from defaults")
    try:
        return Settings.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(f"config file {path} is invalid: {format_validation_error(e)}",
                          "correct the named fields in the panel's Settings or in the file, "
                          "or move the file away to start from defaults") from e


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash leaves either the old or the new content."""
    atomic_write_bytes(path, text.encode())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new content."""
    with atomic_file(path) as f:
        f.write(data)


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write ``path`` through (mode 0600): written beside it under a temporary name,
    flushed to the disk and renamed over it when the block ends; removed if the block raises, so
    a crash leaves either the old or the new content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    # The rename itself to the disk; best effort (a FAT-formatted USB drive cannot sync a directory).
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def save_settings(settings: Settings, path: Path) -> None:
    """Persist settings atomically as JSON."""
    atomic_write_text(path, settings.model_dump_json(indent=2) + "\n")
