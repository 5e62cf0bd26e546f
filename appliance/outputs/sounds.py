"""Beat sounds synthesised in numpy: short, bright and with their peak on the very first sample.

A beat must cut through treadmill noise (motor hum below 300 Hz, belt slap), so the sounds put
their energy between 1 and 4 kHz. Each starts at full amplitude on sample 0: the onset is the
sample the mixer schedules, with no attack ramp to blur it. Each ends with a short fade to exact
silence so that consecutive beats never smear into each other.
"""

from __future__ import annotations

import numpy as np

BEAT_SOUNDS = ("click", "woodblock")


def _decaying_partials(
    sample_rate: int, length_s: float, partials: list[tuple[float, float, float]]
) -> np.ndarray:
    """Sum of cosines (frequency Hz, amplitude, decay time constant s), peak-normalised to 1 at sample 0."""
    n = max(8, int(round(length_s * sample_rate)))
    t = np.arange(n) / sample_rate
    out = np.zeros(n)
    for freq, amp, tau in partials:
        out += amp * np.cos(2 * np.pi * freq * t) * np.exp(-t / tau)
    fade = max(4, n // 8)
    out[-fade:] *= np.linspace(1.0, 0.0, fade)
    return (out / out[0]).astype(np.float32)


def woodblock(sample_rate: int, accent: bool = False) -> np.ndarray:
    """A woodblock-like knock, 60 ms; the accent is a fifth higher."""
    base = 1200.0 * (1.5 if accent else 1.0)
    return _decaying_partials(
        sample_rate, 0.06, [(base, 1.0, 0.012), (base * 2.41, 0.55, 0.006), (base * 3.93, 0.25, 0.004)]
    )


def click(sample_rate: int, accent: bool = False) -> np.ndarray:
    """A sharp 15 ms click; the accent is higher and slightly longer."""
    base = 3000.0 * (1.33 if accent else 1.0)
    return _decaying_partials(
        sample_rate, 0.02 if accent else 0.015, [(base, 1.0, 0.003), (base * 1.5, 0.6, 0.002)]
    )


def beat_sound(name: str, sample_rate: int, accent: bool = False) -> np.ndarray:
    """The named beat sound (``click`` or ``woodblock``) at ``sample_rate``."""
    if name == "click":
        return click(sample_rate, accent)
    if name == "woodblock":
        return woodblock(sample_rate, accent)
    raise ValueError(f"unknown beat sound {name!r}: use one of {', '.join(BEAT_SOUNDS)}")
