"""Readings of the machine the appliance runs on, for the health page (None where it has none)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def cpu_temperature_c() -> float | None:
    """CPU temperature in degrees C from the kernel's thermal zone, when the machine has one."""
    path = Path("/sys/class/thermal/thermal_zone0/temp")
    try:
        return round(int(path.read_text().strip()) / 1000.0, 1)
    except (OSError, ValueError):
        return None


def pi_throttled() -> bool | None:
    """Raspberry Pi firmware's throttling flags (under-voltage, thermal) now or since boot; None off a Pi."""
    for path in (Path("/sys/devices/platform/soc/soc:firmware/get_throttled"),
                 Path("/sys/devices/platform/axi/axi:firmware/get_throttled")):
        try:
            return int(path.read_text().strip(), 16) != 0
        except (OSError, ValueError):
            continue
    vcgencmd = shutil.which("vcgencmd")
    if vcgencmd is None:
        return None
    try:
        out = subprocess.run([vcgencmd, "get_throttled"], capture_output=True, text=True, timeout=1).stdout
        return int(out.strip().partition("=")[2], 16) != 0  # "throttled=0x50000"
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
