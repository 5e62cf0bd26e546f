"""The gpiozero pin factory named by ``gpio.pin_factory``: real pins on a Pi, mock pins elsewhere."""

from __future__ import annotations

import logging

from appliance.errors import ApplianceError

log = logging.getLogger(__name__)


class GpioError(ApplianceError):
    """A pin factory that cannot be used here; the message names the setting and the fix."""


def make_pin_factory(name: str = "auto"):
    """A gpiozero pin factory: ``mock`` (MockFactory with PWM-capable pins), ``lgpio``, ``rpigpio``,
    or ``auto`` (lgpio, then RPi.GPIO, else mock with a warning: a laptop has no GPIO)."""
    if name == "mock":
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        return MockFactory(pin_class=MockPWMPin)
    if name in ("lgpio", "auto"):
        try:
            from gpiozero.pins.lgpio import LGPIOFactory

            return LGPIOFactory()
        except Exception as e:  # ImportError, or lgpio's own error when /dev/gpiochip* is absent
            if name == "lgpio":
                raise GpioError(f"gpio.pin_factory lgpio unusable ({e})", "apt-get install python3-lgpio on the Pi") from e
            last = e
    if name in ("rpigpio", "auto"):
        try:
            from gpiozero.pins.rpigpio import RPiGPIOFactory

            return RPiGPIOFactory()
        except Exception as e:  # ImportError or RuntimeError off a Pi
            if name == "rpigpio":
                raise GpioError(f"gpio.pin_factory rpigpio unusable ({e})", "apt-get install python3-rpi.gpio") from e
            last = e
    if name == "auto":
        log.warning("no GPIO on this machine (%s); lights and button use mock pins", last)
        return make_pin_factory("mock")
    raise GpioError(f"gpio.pin_factory {name!r} is unknown", "use one of auto, mock, lgpio, rpigpio")


NO_GPIO_FIX = "on a Pi: sudo apt install python3-lgpio and add the user to the gpio group"


class Pins:
    """The one pin factory of an appliance's GPIO parts (lights, button), made on first use.

    ``name`` is ``gpio.pin_factory`` (or ``mock`` for the simulator). ``real_only`` refuses the mock
    pins ``auto`` falls back to on a machine without GPIO: a selftest must not report mock pins as
    working. ``factory`` hands in a ready one (tests pass a ``MockFactory``).

    >>> pins = Pins("auto")
    >>> lights = Lights.from_settings(settings.lights, pins.factory())
    """

    def __init__(self, name: str = "auto", real_only: bool = False, factory=None) -> None:
        self.name = name
        self.real_only = real_only
        self._factory = factory
        self._error: GpioError | None = None

    def factory(self):
        """The gpiozero pin factory; GpioError (with its fix) when there is none to use here (asked
        again, the same error: the lights and the button share one answer)."""
        if self._error is not None:
            raise self._error
        if self._factory is None:
            try:
                factory = make_pin_factory(self.name)
            except GpioError as e:
                self._error = e
                raise
            from gpiozero.pins.mock import MockFactory

            if self.real_only and isinstance(factory, MockFactory) and self.name == "auto":
                factory.close()
                self._error = GpioError("no GPIO on this machine (gpio.pin_factory auto found neither lgpio nor "
                                        "RPi.GPIO)", NO_GPIO_FIX + "; off the Pi use --no-hardware")
                raise self._error
            self._factory = factory
        return self._factory
