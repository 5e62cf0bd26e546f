"""The map between a clock in seconds (capture or monotonic time) and the audio stream's samples.

The mixer counts samples; the rest of the appliance counts seconds. One anchor pair
``(t, sample)`` ties them together: sample ``s`` sounds at ``t + (s - sample) / rate``. A live sink
moves the anchor on every buffer (the time its first sample reaches the speaker), so the map
follows the sound card's own clock; an offline render keeps a fixed anchor.
"""

from __future__ import annotations

import math
import threading


class SampleClock:
    """Anchor pair ``t <-> sample`` at a fixed sample rate; thread-safe."""

    def __init__(self, sample_rate: int, t: float = 0.0, sample: int = 0) -> None:
        self.sample_rate = int(sample_rate)
        self._lock = threading.Lock()
        self._t = float(t)
        self._sample = int(sample)

    def set_anchor(self, t: float, sample: int) -> None:
        """From now on, sample ``sample`` sounds at time ``t``."""
        with self._lock:
            self._t = float(t)
            self._sample = int(sample)

    @property
    def anchor(self) -> tuple[float, int]:
        with self._lock:
            return self._t, self._sample

    def sample_at(self, t: float) -> int:
        """The first sample that sounds at or after time ``t``."""
        t0, s0 = self.anchor
        return s0 + math.ceil(round((t - t0) * self.sample_rate, 6))

    def time_at(self, sample: int) -> float:
        """The time at which ``sample`` sounds."""
        t0, s0 = self.anchor
        return t0 + (sample - s0) / self.sample_rate
