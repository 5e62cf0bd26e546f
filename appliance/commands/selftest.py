"""``appliance selftest``: check every part of the appliance, one line each, with the fix.

Run it on the appliance as the service's user, with the service stopped (it needs the camera, the
GPIO pins and the sound card to itself)::

    sudo systemctl stop appliance
    sudo -u appliance appliance selftest
    sudo systemctl start appliance

Checks, in order: camera (a frame, its brightness and the measured frame rate from capture times),
model (files verified, every model loaded, one inference each; the optional heavy model is
reported but does not fail the check), audio (a beep and a spoken word),
LEDs (a red, green, blue, white sweep), button (a press within 10 s), disk, backup (its target
usable now, the last scheduled backup recent and good), temperature and
throttling. Each prints ``PASS``, ``WARN``, ``FAIL`` or ``SKIP`` with what was measured and, unless
it passed, the fix (a warning does not fail the selftest: free space below 1 GB warns, below 256 MB
fails). The exit status is 1 when anything failed. ``--no-hardware`` skips the camera, audio, LEDs
and button, for a laptop or CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Status = Literal["PASS", "WARN", "FAIL", "SKIP"]

SERVICE_BUSY_FIX = "if appliance.service is running, stop it first: sudo systemctl stop appliance"
# Free space where the data lives. Sessions take little: 290 bytes a step in the database (steps and
# cue events, measured on a 5-minute simulated session: 867 steps, 250 kB), about 3 MB an hour of
# running at 170 steps/min. But the database's write-ahead log, exports and backups need room too,
# and an SD card slows down and wears faster when nearly full.
BYTES_PER_RUNNING_HOUR = 3_000_000
WARN_FREE_BYTES = 1_000_000_000  # WARN below this (or below WARN_FREE_SHARE of the card)
WARN_FREE_SHARE = 0.05
FAIL_FREE_BYTES = 256_000_000  # FAIL below this floor: a checkpoint of the database or a backup may not fit
MAX_TEMPERATURE_C = 80.0  # the Pi 5 starts soft-throttling at 80 °C and hard-throttles at 85 °C
@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: what was measured, and how to fix a failure."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status}  {self.name:<11} {self.detail}"
        if self.fix and self.status != "PASS":
            text += f" | fix: {self.fix}"
        return text


@dataclass
class SelftestOptions:
    """Which checks run, and their limits."""

    camera: bool = True
    model: bool = True
    audio: bool = True
    leds: bool = True
    button: bool = True
    frames: int = 60
    button_timeout: float = 10.0
    word: str = "ready"
    sys_root: Path = field(default_factory=lambda: Path("/"))  # tests point it at a fake /sys


# --- camera -------------------------------------------------------------------------------------


def check_camera(settings, frames: int) -> CheckResult:
    """Open the configured source, read ``frames`` frames, measure their rate from capture times."""
    import numpy as np

    from appliance.sources import SourceError, open_source

    spec = settings.camera.source
    fix_missing = (
        "reseat the camera ribbon at both ends (latches closed), check camera_auto_detect=1 in "
        "/boot/firmware/config.txt, then `rpicam-hello --list-cameras`; " + SERVICE_BUSY_FIX
    )
    if spec == "sim":
        return CheckResult("camera", "SKIP", "camera.source is sim (the simulated runner)")
    try:
        source = open_source(spec, settings.camera, realtime=False)
    except SourceError as e:
        return CheckResult("camera", "FAIL", f"cannot open {spec}: {e}", fix_missing)
    if source is None:
        return CheckResult("camera", "FAIL", f"no camera found (camera.source={spec})", fix_missing)
    times, last = [], None
    try:
        for frame in source:
            times.append(frame.t)
            last = frame
            if len(times) >= frames:
                break
    except SourceError as e:
        return CheckResult("camera", "FAIL", f"{source.name} stopped delivering frames: {e}", fix_missing)
    finally:
        source.close()
    if last is None or len(times) < 2:
        return CheckResult("camera", "FAIL", f"{source.name} delivered {len(times)} frame(s)", fix_missing)
    fps = 1.0 / float(np.median(np.diff(times)))
    width, height = last.size
    brightness = float(last.image.mean())
    detail = f"{source.name} {width}x{height}, {fps:.1f} frames/s measured over {len(times)} frames, mean level {brightness:.0f}/255"
    wanted = settings.camera.fps
    if fps < 0.9 * wanted:
        return CheckResult(
            "camera",
            "FAIL",
            f"{detail}; {wanted:g} frames/s configured",
            "more light (a long exposure caps the frame rate), or lower camera.fps / camera.width in the panel",
        )
    if brightness < 20:
        return CheckResult("camera", "FAIL", f"{detail}; the image is almost black", "remove the lens cap, light the treadmill")
    return CheckResult("camera", "PASS", detail)


# --- model --------------------------------------------------------------------------------------


def check_model(settings) -> CheckResult:
    """Verify the model files, load every model with the TFLite runtime and run each once.

    The heavy landmark model (per-contact foot angle) is optional: when it is missing or damaged the
    check still passes and its detail says so, with the command that fetches it.
    """
    import numpy as np

    from appliance.pose.model_files import LANDMARKER_HEAVY, ModelError, verify_heavy, verify_model_dir
    from appliance.pose.runtime import RuntimeMissing, load_interpreter, runtime_name

    try:
        paths = verify_model_dir(settings.pose.model_dir)
    except ModelError as e:
        problem, _, fix = str(e).partition("; ")  # ModelError messages end with the command that fixes them
        return CheckResult("model", "FAIL", problem, fix)
    heavy_note = ""
    try:
        paths[LANDMARKER_HEAVY.name] = verify_heavy(settings.pose.model_dir)
    except ModelError as e:
        heavy_note = f"; warning: optional heavy model not usable (no foot angle per contact): {e}"
    timings = []
    try:
        for name, path in paths.items():
            t0 = time.perf_counter()
            interpreter = load_interpreter(path, settings.pose.threads)
            load_ms = (time.perf_counter() - t0) * 1000
            for detail in interpreter.get_input_details():
                interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], dtype=detail["dtype"]))
            t0 = time.perf_counter()
            interpreter.invoke()
            run_ms = (time.perf_counter() - t0) * 1000
            outputs = [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]
            if not outputs or not all(np.all(np.isfinite(o)) for o in outputs):
                return CheckResult("model", "FAIL", f"{name} produced non-finite output", "run `appliance fetch-model` again")
            timings.append(f"{name.removesuffix('.tflite')} load {load_ms:.0f} ms, inference {run_ms:.1f} ms")
    except RuntimeMissing as e:
        return CheckResult("model", "FAIL", "no TFLite runtime", str(e))
    # The whole engine as `appliance run` builds it: also needs OpenCV (Debian's, through the venv).
    try:
        from appliance.pose.engine import PoseEngine

        engine = PoseEngine(settings.pose.model_dir, threads=settings.pose.threads)
    except ImportError as e:
        return CheckResult("model", "FAIL", f"the pose engine cannot start: {e}", "sudo apt install python3-opencv")
    from appliance.types import Frame

    width, height = settings.camera.width, settings.camera.height
    t0 = time.perf_counter()
    pose = engine.process(Frame(0.0, 0, np.zeros((height, width, 3), dtype=np.uint8)))
    run_ms = (time.perf_counter() - t0) * 1000
    if pose is not None:
        return CheckResult("model", "FAIL", "the pose engine found a person in a black frame", "run `appliance fetch-model` again")
    timings.append(f"engine on a black {width}x{height} frame {run_ms:.1f} ms, nobody found")
    return CheckResult("model", "PASS", f"{runtime_name()}, {settings.pose.threads} threads: " + "; ".join(timings) + heavy_note)


# --- audio --------------------------------------------------------------------------------------


def beep(sample_rate: int, frequency: float = 880.0, seconds: float = 0.25, volume: float = 0.8):
    """A sine beep with 10 ms fades (no clicks), float32 mono."""
    import numpy as np

    t = np.arange(int(sample_rate * seconds)) / sample_rate
    tone = np.sin(2 * np.pi * frequency * t) * volume
    fade = min(len(t) // 2, int(0.01 * sample_rate))
    ramp = np.linspace(0.0, 1.0, fade)
    tone[:fade] *= ramp
    tone[len(tone) - fade :] *= ramp[::-1]
    return tone.astype(np.float32)


def check_audio(settings, word: str, timeout_margin: float = 3.0) -> CheckResult:
    """Play a beep then ``word`` through the appliance's own audio engine on the configured sink.

    ``auto`` is opened as the sound device: the engine would fall back to silence, the selftest
    must report the missing device instead.
    """
    from appliance.outputs.engine import AudioEngine, prompts_dir_for
    from appliance.outputs.prompts import PromptBank, PromptError, espeak_render
    from appliance.outputs.sinks import AudioError, parse_sink

    audio = settings.audio
    kind = parse_sink(audio.sink).kind
    if kind == "null":
        return CheckResult("audio", "SKIP", "audio.sink is null (no sound configured)")
    try:
        speech = espeak_render(word, audio.voice, audio.sample_rate)
    except PromptError as e:
        return CheckResult("audio", "FAIL", f"cannot speak: {e}", "sudo apt install espeak-ng; check audio.voice in the panel")
    import numpy as np

    gap = np.zeros(int(0.15 * audio.sample_rate), dtype=np.float32)
    tone = np.concatenate([beep(audio.sample_rate), gap])
    fix = (
        "check `aplay -l` lists the MAX98357A card and dtoverlay=max98357a is in /boot/firmware/config.txt "
        "(reboot after adding it), the amplifier wiring in hardware/wiring.md, audio.device in the panel; "
        + SERVICE_BUSY_FIX
    )
    try:
        engine = AudioEngine(audio, None, sink="device" if kind == "auto" else audio.sink)
    except AudioError as e:
        return CheckResult("audio", "FAIL", f"cannot open the audio output: {e}", fix)
    seconds = (len(tone) + len(speech)) / audio.sample_rate
    try:
        engine.play_samples("beep", tone)
        engine.play_samples(word, speech)  # speech never overlaps: starts when the beep ends
        deadline = time.monotonic() + seconds + timeout_margin
        while time.monotonic() < deadline:
            played = engine.played()
            if len(played) == 2 and engine.position >= played[1].start_sample + len(speech):
                break
            time.sleep(0.02)
        else:
            return CheckResult("audio", "FAIL", f"the audio stream stalled at sample {engine.position} ({engine.sink})", fix)
    except AudioError as e:
        return CheckResult("audio", "FAIL", str(e), fix)
    finally:
        engine.close()
    bank = PromptBank(prompts_dir_for(audio, settings.storage.data_dir), audio.sample_rate, audio.voice, audio.prompt_texts)
    stale = bank.stale()
    cached = f"{len(bank.texts) - len(stale)} of {len(bank.texts)} spoken prompts cached in {bank.directory}"
    if stale:
        cached += " (the rest render at start; `appliance prompts` renders them now)"
    return CheckResult("audio", "PASS", f"beep and '{word}' played on {engine.sink} ({seconds:.2f} s): listen for both; {cached}", fix)


# --- GPIO: LEDs and button ------------------------------------------------------------------------


class NoGpioError(Exception):
    """This machine has no GPIO pins for the configured factory."""


def pin_factory_for(settings):
    """The gpiozero pin factory of ``gpio.pin_factory``; NoGpioError when ``auto`` finds no real pins.

    The runtime falls back to mock pins on a laptop; a selftest must not report mock pins as working.
    """
    from gpiozero.pins.mock import MockFactory

    from appliance.outputs.gpio import GpioError, make_pin_factory

    try:
        factory = make_pin_factory(settings.gpio.pin_factory)
    except GpioError as e:
        raise NoGpioError(str(e)) from e
    if isinstance(factory, MockFactory) and settings.gpio.pin_factory == "auto":
        factory.close()
        raise NoGpioError("no GPIO on this machine (gpio.pin_factory auto found neither lgpio nor RPi.GPIO)")
    return factory


GPIO_FIX = "on a Pi: sudo apt install python3-lgpio and add the user to the gpio group; " + SERVICE_BUSY_FIX


def check_leds(settings, factory, step_seconds: float = 0.4) -> CheckResult:
    """Sweep the strip red, green, blue, white, off."""
    lights = settings.lights
    if lights.driver == "none":
        return CheckResult("leds", "SKIP", "lights.driver is none")
    if lights.driver == "addressable":
        return CheckResult("leds", "SKIP", "addressable strip: the sweep drives the analog RGB strip only; check it from the panel")
    from gpiozero import RGBLED, GPIOZeroError

    pins = (lights.red_pin, lights.green_pin, lights.blue_pin)
    try:
        led = RGBLED(*pins, pin_factory=factory)
    except (GPIOZeroError, OSError, RuntimeError) as e:
        return CheckResult("leds", "FAIL", f"cannot open GPIO {pins}: {e}", GPIO_FIX)
    try:
        for color in ((1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 1)):
            led.color = tuple(c * lights.brightness for c in color)
            time.sleep(step_seconds)
        led.off()
    finally:
        led.close()
    return CheckResult(
        "leds",
        "PASS",
        f"swept red, green, blue, white on GPIO {pins[0]}/{pins[1]}/{pins[2]}: check each colour lit",
        "a missing colour: its MOSFET gate wire (hardware/wiring.md) or the 12 V supply",
    )


def check_button(settings, factory, timeout: float, prompt: Callable[[str], None]) -> CheckResult:
    """Wait up to ``timeout`` seconds for a press of the start/pause button."""
    if not settings.button.enabled:
        return CheckResult("button", "SKIP", "button.enabled is false")
    from gpiozero import Button, GPIOZeroError

    pin = settings.button.pin
    try:
        button = Button(pin, pull_up=True, pin_factory=factory)
    except (GPIOZeroError, OSError, RuntimeError) as e:
        return CheckResult("button", "FAIL", f"cannot open GPIO {pin}: {e}", GPIO_FIX)
    try:
        if button.is_pressed:
            return CheckResult(
                "button", "FAIL", f"GPIO {pin} reads pressed before any press", "the button is wired to 3.3 V or shorted: wire it between the GPIO and GND"
            )
        prompt(f"        press the button (GPIO {pin}) within {timeout:g} s ...")
        t0 = time.monotonic()
        pressed = button.wait_for_press(timeout=timeout)
        waited = time.monotonic() - t0
    finally:
        button.close()
    if not pressed:
        return CheckResult(
            "button", "FAIL", f"no press on GPIO {pin} within {timeout:g} s", f"wire the button between GPIO {pin} and GND (hardware/wiring.md)"
        )
    return CheckResult("button", "PASS", f"press on GPIO {pin} after {waited:.1f} s")


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


def run_selftest(settings, options: SelftestOptions, pin_factory=None, out: Callable[[str], None] = print) -> list[CheckResult]:
    """Run every enabled check, printing each line as soon as it is known; returns the results.

    ``pin_factory`` overrides ``settings.gpio.pin_factory`` (tests pass a MockFactory).
    """
    from appliance.runtime.host import read_throttled

    results: list[CheckResult] = []

    def record(result: CheckResult) -> None:
        results.append(result)
        out(result.line())

    def guarded(name: str, check: Callable[[], CheckResult]) -> None:
        # A check that crashes is a FAIL with its error, and the other checks still run.
        try:
            record(check())
        except Exception as e:  # noqa: BLE001 - reported, not swallowed
            record(CheckResult(name, "FAIL", f"{type(e).__name__}: {e}", "report this with the line above"))

    if options.camera:
        guarded("camera", lambda: check_camera(settings, options.frames))
    else:
        record(CheckResult("camera", "SKIP", "skipped (--no-camera or --no-hardware)"))

    if options.model:
        guarded("model", lambda: check_model(settings))
    else:
        record(CheckResult("model", "SKIP", "skipped (--no-model)"))

    if options.audio:
        guarded("audio", lambda: check_audio(settings, options.word))
    else:
        record(CheckResult("audio", "SKIP", "skipped (--no-audio or --no-hardware)"))

    factory, no_factory = pin_factory, ""
    if (options.leds or options.button) and factory is None:
        try:
            factory = pin_factory_for(settings)
        except NoGpioError as e:
            no_factory = str(e)
    gpio_checks = (
        ("leds", options.leds, lambda: check_leds(settings, factory)),
        ("button", options.button, lambda: check_button(settings, factory, options.button_timeout, out)),
    )
    for name, enabled, check in gpio_checks:
        if not enabled:
            record(CheckResult(name, "SKIP", f"skipped (--no-{name} or --no-hardware)"))
        elif no_factory:
            record(CheckResult(name, "FAIL", no_factory, GPIO_FIX + "; off the Pi use --no-hardware"))
        else:
            guarded(name, check)

    guarded("disk", lambda: check_disk(settings.storage.data_dir))
    guarded("backup", lambda: check_backup(settings))
    guarded("temperature", lambda: check_temperature(options.sys_root, read_throttled(options.sys_root)))
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
