"""The gpiozero pin factory named by ``gpio.pin_factory``: real pins on a Pi, mock pins elsewhere."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class GpioError(Exception):
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
                raise GpioError(f"gpio.pin_factory lgpio unusable ({e}): apt-get install python3-lgpio on the Pi") from e
            last = e
    if name in ("rpigpio", "auto"):
        try:
            from gpiozero.pins.rpigpio import RPiGPIOFactory

            return RPiGPIOFactory()
        except Exception as e:  # ImportError or RuntimeError off a Pi
            if name == "rpigpio":
                raise GpioError(f"gpio.pin_factory rpigpio unusable ({e}): apt-get install python3-rpi.gpio") from e
            last = e
    if name == "auto":
        log.warning("no GPIO on this machine (%s); lights and button use mock pins", last)
        return make_pin_factory("mock")
    raise GpioError(f"gpio.pin_factory {name!r} is not one of auto, mock, lgpio, rpigpio")
