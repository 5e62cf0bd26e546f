"""Readings of the machine the appliance runs on: SoC temperature and the Raspberry Pi firmware's
throttling flags, for the health page and ``appliance selftest``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

THROTTLE_BITS = {
    0: "under-voltage now",
    1: "ARM frequency capped now",
    2: "throttled now",
    3: "soft temperature limit now",
    16: "under-voltage since boot",
    17: "frequency capped since boot",
    18: "throttled since boot",
    19: "soft temperature limit since boot",
}
THERMAL_ZONE = "sys/class/thermal/thermal_zone0/temp"
FIRMWARE_THROTTLED = ("sys/devices/platform/soc/soc:firmware/get_throttled",
                      "sys/devices/platform/axi/axi:firmware/get_throttled")
VCGENCMD_TIMEOUT_S = 2.0


def _vcgencmd(command: str) -> str | None:
    """``vcgencmd COMMAND``'s output; None where there is no vcgencmd (off a Pi)."""
    vcgencmd = shutil.which("vcgencmd")
    if vcgencmd is None:
        return None
    return subprocess.run([vcgencmd, command], capture_output=True, text=True, timeout=VCGENCMD_TIMEOUT_S).stdout


def read_temperature(sys_root: Path = Path("/")) -> tuple[float, str] | None:
    """SoC temperature in °C and where it came from; None when there is no sensor. A sensor that
    cannot be read raises (OSError, ValueError, subprocess.SubprocessError)."""
    zone = sys_root / THERMAL_ZONE
    if zone.is_file():
        return int(zone.read_text().strip()) / 1000.0, str(zone)
    out = _vcgencmd("measure_temp") if sys_root == Path("/") else None
    if out and out.startswith("temp="):  # "temp=48.3'C"
        return float(out.split("=")[1].split("'")[0]), "vcgencmd"
    return None


def read_throttled(sys_root: Path = Path("/")) -> int | None:
    """The firmware's throttling bit field (THROTTLE_BITS); None off a Pi. Raises as
    ``read_temperature`` does."""
    for rel in FIRMWARE_THROTTLED:
        path = sys_root / rel
        if path.is_file():
            return int(path.read_text().strip(), 16)
    out = _vcgencmd("get_throttled") if sys_root == Path("/") else None
    if out and out.startswith("throttled="):  # "throttled=0x50000"
        return int(out.strip().partition("=")[2], 16)
    return None


def decode_throttled(value: int) -> list[str]:
    """The flags set in the throttling bit field, in words."""
    return [text for bit, text in sorted(THROTTLE_BITS.items()) if value & (1 << bit)]


def cpu_temperature_c() -> float | None:
    """CPU temperature for the health page, to 0.1 °C; None where there is none or it cannot be
    read (``appliance selftest`` reports why)."""
    try:
        reading = read_temperature()
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    return None if reading is None else round(reading[0], 1)


def pi_throttled() -> bool | None:
    """Whether the Pi has been throttled (under-voltage, heat) now or since boot, for the health
    page; None off a Pi or where it cannot be read (``appliance selftest`` reports why)."""
    try:
        value = read_throttled()
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    return None if value is None else value != 0
