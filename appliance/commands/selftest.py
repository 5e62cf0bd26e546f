"""``appliance selftest``: check every part of the appliance, one line each, with the fix.

Run it on the appliance as the service's user, with the service stopped (it needs the camera, the
GPIO pins and the sound card to itself)::

    sudo systemctl stop appliance
    sudo -u appliance appliance selftest
    sudo systemctl start appliance

The checks are a loop: first each part of the hardware the appliance would run with
(``appliance.hardware``; each part checks itself), then the checks that are not parts. In order:
camera (a frame, its brightness and the measured frame rate from capture times), model (files
verified, every model loaded, one inference each; the optional heavy model is reported but does
not fail the check), audio (a beep and a spoken word), LEDs (a red, green, blue, white sweep),
button (a press within 10 s), disk, backup (its target usable now, the last scheduled backup
recent and good), temperature and throttling. Each prints ``PASS``, ``WARN``, ``FAIL`` or ``SKIP`` with what was measured and, unless
it passed, the fix (a warning does not fail the selftest: free space below 1 GB warns, below 256 MB
fails). The exit status is 1 when anything failed. ``--no-hardware`` skips the camera, audio, LEDs
and button, for a laptop or CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from appliance.checks import SERVICE_BUSY_FIX, CheckOptions, CheckResult

__all__ = ["SERVICE_BUSY_FIX", "CheckResult", "SelftestOptions", "run_selftest"]

# Free space where the data lives. Sessions take little: 290 bytes a step in the database (steps and
# cue events, measured on a 5-minute simulated session: 867 steps, 250 kB), about 3 MB an hour of
# running at 170 steps/min. But the database's write-ahead log, exports and backups need room too,
# and an SD card slows down and wears faster when nearly full.
BYTES_PER_RUNNING_HOUR = 3_000_000
WARN_FREE_BYTES = 1_000_000_000  # WARN below this (or below WARN_FREE_SHARE of the card)
WARN_FREE_SHARE = 0.05
FAIL_FREE_BYTES = 256_000_000  # FAIL below this floor: a checkpoint of the database or a backup may not fit
MAX_TEMPERATURE_C = 80.0  # the Pi 5 starts soft-throttling at 80 °C and hard-throttles at 85 °C
CRASHED_CHECK_FIX = "report this with the line above"


@dataclass
class SelftestOptions:
    """Which checks run (by the part's name), and their limits."""

    camera: bool = True
    model: bool = True
    audio: bool = True
    leds: bool = True
    button: bool = True
    frames: int = 60
    button_timeout: float = 10.0
    word: str = "ready"
    sys_root: Path = field(default_factory=lambda: Path("/"))  # tests point it at a fake /sys

    def runs(self, part: str) -> bool:
        return getattr(self, part)

    def skipped(self, part: str) -> str:
        return "skipped (--no-model)" if part == "model" else f"skipped (--no-{part} or --no-hardware)"


# --- disk, temperature, throttling ------------------------------------------------------------


def check_disk(data_dir: Path) -> CheckResult:
    """Free space where the data lives: WARN below 1 GB (or 5 % of the card), FAIL below 256 MB; the
    detail says how many hours of running that still holds."""
    path = Path(data_dir)
    while not path.exists() and path != path.parent:
        path = path.parent
    usage = shutil.disk_usage(path)
    hours = usage.free / BYTES_PER_RUNNING_HOUR
    detail = (f"{usage.free / 1e9:.2f} GB free of {usage.total / 1e9:.1f} GB on {path} "
              f"(about {hours:,.0f} hours of running at {BYTES_PER_RUNNING_HOUR / 1e6:g} MB an hour)")
    fix = (f"make room on {path}: delete old sessions in the panel (History), move exports and backups "
           f"off the appliance, or use a larger card")
    if usage.free < FAIL_FREE_BYTES:
        return CheckResult("disk", "FAIL", detail + f"; below the {FAIL_FREE_BYTES / 1e6:.0f} MB floor",
                           fix + " (while the disk is full, steps wait in memory and are lost at a restart)")
    if usage.free < WARN_FREE_BYTES or usage.free < WARN_FREE_SHARE * usage.total:
        limit = max(WARN_FREE_BYTES, WARN_FREE_SHARE * usage.total)
        return CheckResult("disk", "WARN", detail + f"; below {limit / 1e9:.1f} GB", fix)
    return CheckResult("disk", "PASS", detail)


def check_backup(settings) -> CheckResult:
    """The scheduled backup: its target usable now, and its last result recent and good."""
    from appliance.store.backup_schedule import backup_verdict

    status, detail, fix = backup_verdict(settings, settings.storage.data_dir)
    return CheckResult("backup", status, detail, fix)


def check_temperature(sys_root: Path, throttled: int | None) -> CheckResult:
    """SoC temperature and the firmware's throttling flags."""
    from appliance.runtime.host import decode_throttled, read_temperature

    reading = read_temperature(sys_root)
    if reading is None and throttled is None:
        return CheckResult("temperature", "SKIP", "no temperature sensor and no vcgencmd (not a Raspberry Pi)")
    parts, failures = [], []
    if reading is not None:
        celsius, source = reading
        parts.append(f"{celsius:.1f} °C ({source})")
        if celsius >= MAX_TEMPERATURE_C:
            failures.append(f"{celsius:.1f} °C is at the throttling limit")
    if throttled is not None:
        flags = decode_throttled(throttled)
        parts.append(f"throttled=0x{throttled:x}" + (f" ({', '.join(flags)})" if flags else " (never throttled)"))
        failures += flags
    if failures:
        fix = (
            "use the official 27 W USB-C supply (5 V 5 A) and a short cable"
            if any("under-voltage" in f for f in failures)
            else "fit the Active Cooler and keep the case vents clear"
        )
        return CheckResult("temperature", "FAIL", "; ".join(parts), fix)
    return CheckResult("temperature", "PASS", "; ".join(parts))


# --- the command -------------------------------------------------------------------------------


def selftest_hardware(settings, pin_factory=None):
    """The parts ``appliance run`` would use with these settings, as real as they are: ``auto`` with no
    camera is a failed camera here, not the simulator, and GPIO must be real pins (``pin_factory``,
    e.g. the tests' MockFactory, overrides ``gpio.pin_factory``)."""
    from appliance.hardware import open_hardware
    from appliance.outputs.gpio import Pins

    pins = Pins(settings.gpio.pin_factory, real_only=True, factory=pin_factory)
    return open_hardware(settings, None, settings.storage.data_dir, fall_back_to_sim=False, pins=pins)


def run_selftest(settings, options: SelftestOptions, pin_factory=None, out: Callable[[str], None] = print) -> list[CheckResult]:
    """Check every part of the hardware, then disk, backup and temperature, printing each line as soon
    as it is known; returns the results. ``pin_factory`` overrides ``settings.gpio.pin_factory``."""
    from appliance.runtime.host import read_throttled

    results: list[CheckResult] = []
    part_options = CheckOptions(frames=options.frames, button_timeout=options.button_timeout, word=options.word,
                                prompt=out)

    def run(name: str, check: Callable[[], CheckResult]) -> None:
        try:
            result = check()
        except Exception as e:  # noqa: BLE001 - a check that crashes is a FAIL with its error; the rest still run
            result = CheckResult(name, "FAIL", f"{type(e).__name__}: {e}", CRASHED_CHECK_FIX)
        results.append(result)
        out(result.line())

    for part in selftest_hardware(settings, pin_factory).parts():
        if options.runs(part.name):
            run(part.name, lambda part=part: part.check(part_options))
        else:
            run(part.name, lambda part=part: CheckResult(part.name, "SKIP", options.skipped(part.name)))
    run("disk", lambda: check_disk(settings.storage.data_dir))
    run("backup", lambda: check_backup(settings))
    run("temperature", lambda: check_temperature(options.sys_root, read_throttled(options.sys_root)))
    return results


def register(sub) -> None:
    p = sub.add_parser("selftest", help="check camera, model, audio, LEDs, button, disk and temperature")
    p.add_argument("--config", type=Path, default=None, help="config file (on the appliance: /var/lib/appliance/settings.json)")
    p.add_argument("--no-hardware", action="store_true", help="skip camera, audio, LEDs and button (laptop, CI)")
    for part in ("camera", "model", "audio", "leds", "button"):
        p.add_argument(f"--no-{part}", action="store_true", help=f"skip the {part} check")
    p.add_argument("--frames", type=int, default=60, help="camera frames to measure the rate over (default 60)")
    p.add_argument("--button-timeout", type=float, default=10.0, help="seconds to wait for the button (default 10)")
    p.set_defaults(func=run)


APPLIANCE_STATE_DIR = Path("/var/lib/appliance")


def default_config_path() -> Path | None:
    """The appliance's settings file when this is a provisioned appliance, else None (defaults).

    The state dir is readable by the ``appliance`` user only: anyone else would silently test the
    defaults (another model dir, another data dir), so that is an error naming the right command.
    """
    from appliance.cli import CommandError

    if not APPLIANCE_STATE_DIR.is_dir():
        return None
    if not os.access(APPLIANCE_STATE_DIR, os.R_OK | os.X_OK):
        raise CommandError(
            f"{APPLIANCE_STATE_DIR} is readable by the appliance user only: run `sudo -u appliance appliance selftest`"
        )
    candidate = APPLIANCE_STATE_DIR / "settings.json"
    return candidate if candidate.is_file() else None


def service_running() -> bool:
    """True when appliance.service is active (it holds the camera, the pins and the sound card)."""
    if shutil.which("systemctl") is None:
        return False
    return subprocess.run(["systemctl", "is-active", "--quiet", "appliance.service"], timeout=10).returncode == 0


def run(args) -> int:
    from appliance.cli import CommandError
    from appliance.config import load_settings

    if args.frames < 2:
        raise CommandError("--frames must be at least 2 (a rate needs two capture times)")
    settings = load_settings(args.config or default_config_path())
    hw = not args.no_hardware
    options = SelftestOptions(
        camera=hw and not args.no_camera,
        model=not args.no_model,
        audio=hw and not args.no_audio,
        leds=hw and not args.no_leds,
        button=hw and not args.no_button,
        frames=args.frames,
        button_timeout=args.button_timeout,
    )
    if (options.camera or options.audio or options.leds or options.button) and service_running():
        print(f"note: appliance.service is running and holds the camera, pins and sound card; {SERVICE_BUSY_FIX}")
    if (options.leds or options.button) and not os.access(os.getcwd(), os.W_OK):
        # lgpio creates its notification pipe in the current directory (e.g. "/" over SSH sudo).
        import tempfile

        os.chdir(tempfile.gettempdir())
    results = run_selftest(settings, options, out=lambda line: print(line, flush=True))
    failed = [r.name for r in results if r.status == "FAIL"]
    warned = [r.name for r in results if r.status == "WARN"]
    print(f"selftest: {len(results) - len(failed)} of {len(results)} passed or skipped"
          + (f"; warnings: {', '.join(warned)}" if warned else "") + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0
