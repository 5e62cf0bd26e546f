"""hardware/: the wiring table and diagram say the same as the config defaults and the Pi header."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from appliance.config import Settings

REPO = Path(__file__).resolve().parents[1]
WIRING = REPO / "hardware" / "wiring.md"
DIAGRAM = REPO / "hardware" / "wiring.svg"

# The 40-pin header of every Raspberry Pi since the B+: physical pin -> BCM GPIO, or the rail.
HEADER = {
    1: "3V3", 2: "5V", 3: 2, 4: "5V", 5: 3, 6: "GND", 7: 4, 8: 14, 9: "GND", 10: 15,
    11: 17, 12: 18, 13: 27, 14: "GND", 15: 22, 16: 23, 17: "3V3", 18: 24, 19: 10, 20: "GND",
    21: 9, 22: 25, 23: 11, 24: 8, 25: "GND", 26: 7, 27: 0, 28: 1, 29: 5, 30: "GND",
    31: 6, 32: 12, 33: 13, 34: "GND", 35: 19, 36: 16, 37: 26, 38: 20, 39: "GND", 40: 21,
}  # fmt: skip
I2S_PINS = {18, 19, 21}  # BCLK, LRCLK, DOUT: taken by dtoverlay=max98357a
SPI0_PINS = {7, 8, 9, 10, 11}  # kept free for the addressable-strip option


def markdown_table(text: str, first_header: str) -> list[dict[str, str]]:
    """The rows of the first markdown table whose header row starts with ``first_header``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == len(header), f"{WIRING}: row has {len(cells)} cells, header {len(header)}: {line}"
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def header_rows() -> list[dict[str, str]]:
    return markdown_table(WIRING.read_text(), "Signal")


def as_gpio(cell: str) -> int | str:
    return int(cell) if cell.isdigit() else cell


def config_value(dotted: str) -> int:
    section, field = dotted.split(".")
    return getattr(getattr(Settings(), section), field)


def test_wiring_table_matches_the_config_defaults():
    rows = header_rows()
    documented = {r["Config field"]: as_gpio(r["BCM GPIO"]) for r in rows if re.fullmatch(r"\w+\.\w+", r["Config field"])}
    assert documented == {
        "lights.red_pin": config_value("lights.red_pin"),
        "lights.green_pin": config_value("lights.green_pin"),
        "lights.blue_pin": config_value("lights.blue_pin"),
        "button.pin": config_value("button.pin"),
    }


def test_every_header_pin_belongs_to_its_gpio():
    for row in header_rows():
        pin = int(row["Pi header pin"])
        assert HEADER[pin] == as_gpio(row["BCM GPIO"]), f"{WIRING}: pin {pin} is {HEADER[pin]}, not {row['BCM GPIO']}"


def test_no_signal_shares_a_gpio_and_none_uses_i2s_or_spi_pins():
    signals = [as_gpio(r["BCM GPIO"]) for r in header_rows() if r["Config field"] != "I2S (fixed)"]
    gpios = [g for g in signals if isinstance(g, int)]
    assert len(gpios) == len(set(gpios))
    assert not set(gpios) & (I2S_PINS | SPI0_PINS)
    i2s = {as_gpio(r["BCM GPIO"]) for r in header_rows() if r["Config field"] == "I2S (fixed)"}
    assert i2s == I2S_PINS


def test_config_defaults_avoid_the_amplifier_and_spi_pins():
    defaults = [config_value(f) for f in ("lights.red_pin", "lights.green_pin", "lights.blue_pin", "button.pin")]
    assert not set(defaults) & (I2S_PINS | SPI0_PINS)


def test_diagram_shows_every_header_connection():
    root = ET.parse(DIAGRAM).getroot()
    text = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for row in header_rows():
        gpio = row["BCM GPIO"]
        label = f"pin {row['Pi header pin']} ({'GPIO ' + gpio if gpio.isdigit() else gpio})"
        assert label in text, f"{DIAGRAM} has no label {label!r}"
