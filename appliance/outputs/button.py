"""The physical start/pause button: press to start or pause the session, hold to end it.

Wiring: a momentary push button between the GPIO in ``button.pin`` (BCM) and GND; the internal
pull-up is used, so no resistor is needed.

Example::

    button = SessionButton(26, hold_seconds=2.0, on_press=session.toggle, on_hold=session.end)
    ...
    button.close()

A press acts on release, and only if the button was not held, so ending a session by holding the
button never also pauses it. Callbacks run in gpiozero's thread: keep them short (post to a queue).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from appliance.config import ButtonSettings

if TYPE_CHECKING:
    from appliance.checks import CheckResult


class SessionButton:
    """gpiozero ``Button`` with press (start/pause) and hold (end) actions."""

    def __init__(self, pin: int, hold_seconds: float = 2.0, on_press: Callable[[], None] | None = None,
                 on_hold: Callable[[], None] | None = None, pin_factory=None, bounce_time: float | None = 0.03):
        from gpiozero import Button

        if hold_seconds <= 0:
            raise ValueError(f"button hold time {hold_seconds} s must be positive")
        self.on_press = on_press
        self.on_hold = on_hold
        self._held = False
        self._lock = threading.Lock()
        self.button = Button(pin, pull_up=True, bounce_time=bounce_time, hold_time=hold_seconds,
                             pin_factory=pin_factory)
        self.button.when_pressed = self._pressed
        self.button.when_held = self._held_down
        self.button.when_released = self._released

    @classmethod
    def from_settings(cls, settings: ButtonSettings, on_press=None, on_hold=None, pin_factory=None) -> SessionButton:
        return cls(settings.pin, settings.hold_seconds, on_press, on_hold, pin_factory)

    def _pressed(self) -> None:
        with self._lock:
            self._held = False

    def _held_down(self) -> None:
        with self._lock:
            self._held = True
        if self.on_hold is not None:
            self.on_hold()

    def _released(self) -> None:
        with self._lock:
            was_held = self._held
            self._held = False
        if not was_held and self.on_press is not None:
            self.on_press()

    def close(self) -> None:
        self.button.close()


class ButtonPart:
    """The button part: the session button ``button`` describes, on the appliance's pins (``outputs.gpio.Pins``).

    >>> part = ButtonPart(settings.button, Pins(settings.gpio.pin_factory))
    >>> button = part.open(on_press=toggle, on_hold=stop)   # None when button.enabled is false
    >>> part.check(CheckOptions(button_timeout=10)).status  # waits for a press
    'PASS'
    """

    name = "button"

    def __init__(self, settings: ButtonSettings, pins) -> None:
        self.settings = settings
        self.pins = pins

    def open(self, on_press: Callable[[], None], on_hold: Callable[[], None]) -> SessionButton | None:
        """The session button (None when ``button.enabled`` is false); GpioError with the fix when its
        pin cannot be used."""
        from appliance.outputs.gpio import GpioError

        if not self.settings.enabled:
            return None
        try:
            return SessionButton.from_settings(self.settings, on_press=on_press, on_hold=on_hold,
                                               pin_factory=self.pins.factory())
        except GpioError:
            raise
        except Exception as e:  # a pin already used by the lights, or no GPIO
            raise GpioError(f"button on GPIO {self.settings.pin}: {e}", "check button.pin") from e

    def check(self, options) -> CheckResult:
        """Wait up to ``options.button_timeout`` seconds for a press, after telling the person so."""
        import time

        from gpiozero import Button, GPIOZeroError

        from appliance.checks import SERVICE_BUSY_FIX, CheckResult
        from appliance.outputs.gpio import NO_GPIO_FIX, GpioError

        if not self.settings.enabled:
            return CheckResult(self.name, "SKIP", "button.enabled is false")
        pin, timeout = self.settings.pin, options.button_timeout
        try:
            button = Button(pin, pull_up=True, pin_factory=self.pins.factory())
        except GpioError as e:
            return CheckResult.failed(self.name, e)
        except (GPIOZeroError, OSError, RuntimeError) as e:
            return CheckResult(self.name, "FAIL", f"cannot open GPIO {pin}: {e}", f"{NO_GPIO_FIX}; {SERVICE_BUSY_FIX}")
        try:
            if button.is_pressed:
                return CheckResult(self.name, "FAIL", f"GPIO {pin} reads pressed before any press",
                                   "the button is wired to 3.3 V or shorted: wire it between the GPIO and GND")
            options.prompt(f"        press the button (GPIO {pin}) within {timeout:g} s ...")
            t0 = time.monotonic()
            pressed = button.wait_for_press(timeout=timeout)
            waited = time.monotonic() - t0
        finally:
            button.close()
        if not pressed:
            return CheckResult(self.name, "FAIL", f"no press on GPIO {pin} within {timeout:g} s",
                               f"wire the button between GPIO {pin} and GND (hardware/wiring.md)")
        return CheckResult(self.name, "PASS", f"press on GPIO {pin} after {waited:.1f} s")
