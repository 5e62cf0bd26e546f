"""Light cues on an LED strip: a visual metronome, in-band/out-of-band colours, a flash on a flagged step.

Wiring (default, analog RGB strip): a 12 V common-anode strip through three logic-level N-MOSFETs
whose gates go to the PWM pins in ``lights.red_pin``/``green_pin``/``blue_pin`` (BCM). An
addressable (WS2812) strip is the optional driver: data on SPI MOSI (GPIO 10) through a level
shifter, ``lights.led_count`` LEDs.

Example::

    lights = Lights.from_settings(settings.lights, pin_factory=make_pin_factory("mock"))
    lights.set_band("in", t)      # green
    lights.beat(t)                # pulse
    lights.update(t + 0.05)       # write the colour for this moment to the strip

Patterns are computed from the capture times handed in (``update(t)`` at every control tick), so
they are deterministic and testable; the strip is written only when the colour changes, and every
change is kept in ``log`` (the light-cue log).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from appliance.config import LightSettings

if TYPE_CHECKING:
    from appliance.checks import CheckResult

log = logging.getLogger(__name__)

RGB = tuple[float, float, float]
OFF: RGB = (0.0, 0.0, 0.0)
GREEN: RGB = (0.0, 1.0, 0.0)
AMBER: RGB = (1.0, 0.5, 0.0)
RED: RGB = (1.0, 0.0, 0.0)
BLUE: RGB = (0.0, 0.3, 1.0)  # metronome only, before the first measured step of a block
WHITE: RGB = (1.0, 1.0, 1.0)
BAND_COLOURS: dict[str, RGB] = {"in": GREEN, "near": AMBER, "out": RED}

PULSE_S = 0.10  # how long the strip stays bright on a beat
IDLE_LEVEL = 0.35  # level between beats while the visual metronome runs
FLASH_S = 0.20  # white flash on a flagged step
BEAT_TIMEOUT_S = 2.0  # no beat for this long: the strip stops pulsing and shows steady colour


class LightDriver(Protocol):
    """Anything that can show one colour (channels 0..1) on the whole strip."""

    def show(self, rgb: RGB) -> None: ...

    def close(self) -> None: ...


class RgbStripDriver:
    """An analog RGB strip on three PWM pins through gpiozero's ``RGBLED``."""

    def __init__(self, red_pin: int, green_pin: int, blue_pin: int, pin_factory=None) -> None:
        from gpiozero import RGBLED

        self.led = RGBLED(red_pin, green_pin, blue_pin, pwm=True, pin_factory=pin_factory)

    def show(self, rgb: RGB) -> None:
        self.led.color = rgb

    def close(self) -> None:
        self.led.close()


class AddressableStripDriver:
    """A WS2812 strip on SPI MOSI (Pi 5 safe) via Adafruit's ``neopixel_spi``, every LED one colour."""

    def __init__(self, led_count: int) -> None:
        try:
            import board
            import neopixel_spi
        except ImportError as e:
            raise RuntimeError(
                f"lights.driver addressable needs adafruit-circuitpython-neopixel-spi ({e}): "
                "pip install adafruit-circuitpython-neopixel-spi, or set lights.driver to rgb"
            ) from e
        self.pixels = neopixel_spi.NeoPixel_SPI(board.SPI(), led_count, auto_write=False)

    def show(self, rgb: RGB) -> None:
        self.pixels.fill(tuple(int(round(255 * c)) for c in rgb))
        self.pixels.show()

    def close(self) -> None:
        self.pixels.fill((0, 0, 0))
        self.pixels.show()


class NullLightDriver:
    """No strip (``lights.driver none``): the patterns still run and are logged."""

    def show(self, rgb: RGB) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class LightChange:
    """One change of the strip's colour: when (capture time), what, and which pattern caused it."""

    t: float
    rgb: RGB
    reason: str

    def to_dict(self) -> dict:
        return {"t": round(self.t, 4), "rgb": [round(c, 3) for c in self.rgb], "reason": self.reason}


LIGHT_LOG_SIZE = 10_000  # about an hour of beat pulses at 170 beats/min


class Lights:
    """Light-cue patterns over one ``LightDriver``."""

    def __init__(self, driver: LightDriver, brightness: float = 0.8, pulse_on_beat: bool = True) -> None:
        self.driver = driver
        self.brightness = float(brightness)
        self.pulse_on_beat = pulse_on_beat
        # The light-cue log (demos, tests, the panel): the recent changes only, so an all-day
        # loop never grows it without bound.
        self.log: deque[LightChange] = deque(maxlen=LIGHT_LOG_SIZE)
        self._feedback = False
        self._band: str | None = None
        self._last_beat: float | None = None
        self._flash_until: float | None = None
        self._shown: RGB = OFF
        driver.show(OFF)

    @classmethod
    def from_settings(cls, settings: LightSettings, pin_factory=None) -> Lights:
        """The strip described by ``settings`` on ``pin_factory`` (None: gpiozero's default)."""
        if settings.driver == "rgb":
            driver: LightDriver = RgbStripDriver(settings.red_pin, settings.green_pin, settings.blue_pin, pin_factory)
        elif settings.driver == "addressable":
            driver = AddressableStripDriver(settings.led_count)
        else:
            driver = NullLightDriver()
        return cls(driver, settings.brightness, settings.pulse_on_beat)

    # ---- pattern inputs (capture times) --------------------------------------------------
    def set_feedback(self, on: bool, t: float) -> None:
        """Light cues on (a feedback block) or off (warm-up, faded blocks, retention): off is dark."""
        self._feedback = on
        if not on:
            self._band = None
            self._last_beat = None
            self._flash_until = None
        self.update(t, "feedback on" if on else "feedback off")

    def set_band(self, band: str | None, t: float) -> None:
        """The targeted metric is ``in`` band (green), ``near`` it (amber), ``out`` (red); None: unknown."""
        if band is not None and band not in BAND_COLOURS:
            raise ValueError(f"light band {band!r} is not one of {', '.join(BAND_COLOURS)} or None")
        self._band = band
        self.update(t, f"band {band}")

    def beat(self, t: float) -> None:
        """A metronome beat sounded at ``t``: pulse the strip."""
        self._last_beat = t
        self.update(t, "beat")

    def flag(self, t: float) -> None:
        """A flagged step at ``t``: a short white flash."""
        self._flash_until = t + FLASH_S
        self.update(t, "flagged step")

    def set_brightness(self, brightness: float, t: float) -> None:
        if not 0.0 <= brightness <= 1.0:
            raise ValueError(f"lights brightness {brightness} is outside 0..1")
        self.brightness = brightness
        self.update(t, "brightness")

    # ---- output -------------------------------------------------------------------------
    def colour_at(self, t: float) -> RGB:
        """The strip's colour at time ``t`` from the current pattern state."""
        if not self._feedback:
            return OFF
        if self._flash_until is not None and t < self._flash_until:
            return tuple(round(self.brightness * c, 4) for c in WHITE)
        base = BAND_COLOURS.get(self._band, BLUE) if self._band is not None else BLUE
        level = 1.0
        if self.pulse_on_beat and self._last_beat is not None and t - self._last_beat < BEAT_TIMEOUT_S:
            level = 1.0 if 0 <= t - self._last_beat < PULSE_S else IDLE_LEVEL
        elif self._band is None:
            return OFF  # feedback on but nothing to show yet (no beat, no measured step)
        return tuple(round(self.brightness * level * c, 4) for c in base)

    def update(self, t: float, reason: str = "tick") -> RGB:
        """Show the colour for time ``t`` on the strip if it changed; returns it."""
        rgb = self.colour_at(t)
        if rgb != self._shown:
            self.driver.show(rgb)
            self._shown = rgb
            self.log.append(LightChange(t, rgb, reason))
        return rgb

    @property
    def shown(self) -> RGB:
        return self._shown

    def close(self) -> None:
        self.driver.show(OFF)
        self.driver.close()


class LightStrip:
    """The lights part: the strip ``lights.driver`` names, on the appliance's pins (``outputs.gpio.Pins``).

    >>> strip = LightStrip(settings.lights, Pins(settings.gpio.pin_factory))
    >>> lights = strip.open()                       # Lights; GpioError-like errors carry the fix
    >>> strip.check(CheckOptions()).status          # red, green, blue, white sweep
    'PASS'
    """

    name = "leds"

    def __init__(self, settings: LightSettings, pins) -> None:
        self.settings = settings
        self.pins = pins

    def open(self) -> Lights:
        """The light-cue patterns on the configured strip."""
        from appliance.outputs.gpio import GpioError

        try:
            return Lights.from_settings(self.settings, self.pins.factory())
        except GpioError:
            raise
        except Exception as e:  # gpiozero raises many kinds for a busy or missing pin
            raise GpioError(f"lights: {e}", "check lights.* pins and gpio.pin_factory") from e

    def check(self, options, step_seconds: float = 0.4) -> CheckResult:
        """Sweep the strip red, green, blue, white, off, for the person to watch."""
        from appliance.checks import SERVICE_BUSY_FIX, CheckResult
        from appliance.outputs.gpio import NO_GPIO_FIX, GpioError

        lights = self.settings
        if lights.driver == "none":
            return CheckResult(self.name, "SKIP", "lights.driver is none")
        if lights.driver == "addressable":
            return CheckResult(self.name, "SKIP",
                               "addressable strip: the sweep drives the analog RGB strip only; check it from the panel")
        from gpiozero import RGBLED, GPIOZeroError

        pins = (lights.red_pin, lights.green_pin, lights.blue_pin)
        try:
            led = RGBLED(*pins, pin_factory=self.pins.factory())
        except GpioError as e:
            return CheckResult.failed(self.name, e)
        except (GPIOZeroError, OSError, RuntimeError) as e:
            return CheckResult(self.name, "FAIL", f"cannot open GPIO {pins}: {e}", f"{NO_GPIO_FIX}; {SERVICE_BUSY_FIX}")
        try:
            for color in ((1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 1)):
                led.color = tuple(c * lights.brightness for c in color)
                time.sleep(step_seconds)
            led.off()
        finally:
            led.close()
        return CheckResult(self.name, "PASS",
                           f"swept red, green, blue, white on GPIO {pins[0]}/{pins[1]}/{pins[2]}: check each colour lit",
                           "a missing colour: its MOSFET gate wire (hardware/wiring.md) or the 12 V supply")
