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

from appliance.config import ButtonSettings


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
