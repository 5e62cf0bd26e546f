"""Light cues on gpiozero's MockFactory with PWM pins: the duty cycles over time."""

from __future__ import annotations

import time

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from appliance.config import ButtonSettings, LightSettings
from appliance.outputs.button import SessionButton
from appliance.outputs.lights import FLASH_S, IDLE_LEVEL, PULSE_S, Lights

R, G, B = 12, 13, 6


@pytest.fixture
def factory():
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


@pytest.fixture
def lights(factory):
    settings = LightSettings(red_pin=R, green_pin=G, blue_pin=B, brightness=0.5)
    lights = Lights.from_settings(settings, pin_factory=factory)
    yield lights
    lights.close()


def duty(factory) -> tuple[float, float, float]:
    return tuple(round(float(factory.pin(p).state), 4) for p in (R, G, B))


def test_dark_until_feedback_and_green_in_band(lights, factory):
    assert duty(factory) == (0, 0, 0)
    lights.set_band("in", 1.0)  # feedback still off: stays dark
    assert duty(factory) == (0, 0, 0)
    lights.set_feedback(True, 2.0)
    lights.set_band("in", 2.0)
    assert duty(factory) == (0, 0.5, 0)
    lights.set_band("near", 3.0)
    assert duty(factory) == (0.5, 0.25, 0)
    lights.set_band("out", 4.0)
    assert duty(factory) == (0.5, 0, 0)


def test_pulse_on_each_beat(lights, factory):
    lights.set_feedback(True, 0.0)
    lights.set_band("in", 0.0)
    period = 60 / 180
    samples = []
    for k in range(4):
        t_beat = k * period
        lights.beat(t_beat)
        samples.append((t_beat, duty(factory)))
        for dt in (PULSE_S / 2, PULSE_S + 0.01, period - 0.01):
            lights.update(t_beat + dt)
            samples.append((t_beat + dt, duty(factory)))
    bright, dim = (0, 0.5, 0), (0, round(0.5 * IDLE_LEVEL, 4), 0)
    expected = [bright, bright, dim, dim] * 4
    assert [s for _, s in samples] == expected
    # The green PWM pin saw exactly one rise per beat.
    states = [s.state for s in factory.pin(G).states]
    rises = sum(1 for a, b in zip(states, states[1:], strict=False) if b == 0.5 and a != 0.5)
    assert rises == 4


def test_flash_on_flagged_step_then_back(lights, factory):
    lights.set_feedback(True, 0.0)
    lights.set_band("out", 0.0)
    lights.flag(1.0)
    assert duty(factory) == (0.5, 0.5, 0.5)
    lights.update(1.0 + FLASH_S / 2)
    assert duty(factory) == (0.5, 0.5, 0.5)
    lights.update(1.0 + FLASH_S + 0.001)
    assert duty(factory) == (0.5, 0, 0)
    assert [c.reason for c in lights.log][-2:] == ["flagged step", "tick"]


def test_off_when_faded_and_brightness(lights, factory):
    lights.set_feedback(True, 0.0)
    lights.set_band("in", 0.0)
    lights.set_brightness(1.0, 0.5)
    assert duty(factory) == (0, 1.0, 0)
    lights.set_feedback(False, 1.0)
    assert duty(factory) == (0, 0, 0)
    lights.beat(1.1)  # metronome silent blocks: no pulse either
    assert duty(factory) == (0, 0, 0)
    with pytest.raises(ValueError, match="brightness"):
        lights.set_brightness(1.5, 2.0)
    with pytest.raises(ValueError, match="band"):
        lights.set_band("purple", 2.0)


def test_light_log_records_changes_only(lights):
    lights.set_feedback(True, 0.0)
    lights.set_band("in", 0.0)
    n = len(lights.log)
    lights.update(0.5)
    lights.update(0.6)
    assert len(lights.log) == n
    assert lights.log[-1].to_dict() == {"t": 0.0, "rgb": [0.0, 0.5, 0.0], "reason": "band in"}


def test_button_press_toggles_hold_ends(factory):
    pressed, held = [], []
    settings = ButtonSettings(pin=26, hold_seconds=0.5)
    button = SessionButton.from_settings(settings, on_press=lambda: pressed.append(1),
                                         on_hold=lambda: held.append(1), pin_factory=factory)
    button.button.hold_time = 0.15  # shorter than the setting allows, to keep the test quick
    pin = factory.pin(26)
    try:
        pin.drive_low()
        pin.drive_high()
        assert pressed == [1] and held == []
        pin.drive_low()
        deadline = time.monotonic() + 3
        while not held and time.monotonic() < deadline:
            time.sleep(0.01)
        pin.drive_high()
        assert held == [1], "holding the button did not end the session"
        assert pressed == [1], "a hold must not also count as a press"
    finally:
        button.close()
