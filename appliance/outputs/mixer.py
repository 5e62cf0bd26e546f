"""The sample-domain mixer behind the one persistent audio stream.

Everything audible is a *voice*: an array of samples that starts at an absolute sample index of
the stream. ``render(n)`` produces the next ``n`` samples by adding every voice that overlaps them
at its exact offset, then applies the master gain (ramped, never stepped). The sample counter
``position`` is the stream's clock: sample ``position`` is the first one the next ``render`` call
returns.

Other threads never touch the mixer's state directly: they post commands (``post``) that the
audio thread applies at the start of its next block, so a block is always rendered from one
consistent state and the audio callback never waits on a lock held by the control loop.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Voice:
    """A sound placed at absolute sample ``start``; ``name`` is for logs and the played-sounds record."""

    start: int
    samples: np.ndarray
    gain: float
    name: str

    @property
    def end(self) -> int:
        return self.start + len(self.samples)


@dataclass(frozen=True, slots=True)
class PlayedSound:
    """A record of a sound that reached the stream: where it was asked for and where it started."""

    name: str
    requested_sample: int | None
    start_sample: int
    length: int = 0

    @property
    def end_sample(self) -> int:
        return self.start_sample + self.length


class Ramp:
    """A gain that moves linearly to a new value over a set number of samples (no zipper clicks)."""

    def __init__(self, value: float) -> None:
        self.value = float(value)
        self.target = float(value)
        self.step = 0.0

    def set(self, target: float, ramp_samples: int) -> None:
        self.target = float(target)
        if ramp_samples <= 0:
            self.value = self.target
            self.step = 0.0
        else:
            self.step = (self.target - self.value) / ramp_samples

    def block(self, n: int) -> np.ndarray | float:
        """Gain for the next ``n`` samples: a float while constant, an array while ramping."""
        if self.value == self.target:
            return self.value
        g = self.value + self.step * np.arange(1, n + 1)
        g = np.minimum(g, self.target) if self.step > 0 else np.maximum(g, self.target)
        self.value = float(g[-1])
        return g


class Mixer:
    """Mixes scheduled voices into blocks of float32 mono samples at exact sample offsets."""

    def __init__(self, sample_rate: int, volume: float = 1.0, ramp_ms: float = 30.0) -> None:
        self.sample_rate = int(sample_rate)
        self.position = 0
        self.master = Ramp(volume)
        self.ramp_samples = int(round(ramp_ms * 1e-3 * sample_rate))
        self._voices: list[Voice] = []
        self._commands: collections.deque[Callable[[int], None]] = collections.deque()
        self._block_hooks: list[Callable[[int, int], None]] = []
        self._channel_end: dict[str, int] = {}
        self.played: collections.deque[PlayedSound] = collections.deque(maxlen=10000)

    # ---- called from any thread -------------------------------------------------------------
    def post(self, command: Callable[[int], None]) -> None:
        """Run ``command(block_start)`` in the audio thread before the next block is rendered."""
        self._commands.append(command)

    def play(self, name: str, samples: np.ndarray, gain: float = 1.0, at_sample: int | None = None,
             on_start: Callable[[int, int], None] | None = None, channel: str | None = None) -> None:
        """Schedule ``samples`` to start at ``at_sample`` (None: the first sample of the next block).

        A start that has already gone by when the command is applied plays at once (late rather
        than never); the lateness shows in ``played``. ``on_start(start, end)`` runs in the audio
        thread once the start sample is fixed (the metronome ducks under speech with it). Sounds on
        the same ``channel`` never overlap: one waits for the end of the previous (speech).
        """
        data = np.ascontiguousarray(samples, dtype=np.float32)

        def _add(block_start: int) -> None:
            start = block_start if at_sample is None else max(int(at_sample), block_start)
            if channel is not None:
                start = max(start, self._channel_end.get(channel, 0))
                self._channel_end[channel] = start + len(data)
            self._voices.append(Voice(start, data, float(gain), name))
            self.played.append(PlayedSound(name, at_sample, start, len(data)))
            if on_start is not None:
                on_start(start, start + len(data))

        self.post(_add)

    def set_volume(self, volume: float, ramp_s: float | None = None) -> None:
        """Move the master volume to ``volume`` over ``ramp_s`` seconds (default: the click-free ramp)."""
        n = self.ramp_samples if ramp_s is None else int(round(ramp_s * self.sample_rate))
        self.post(lambda _start: self.master.set(volume, n))

    # ---- audio thread -----------------------------------------------------------------------
    def add_block_hook(self, hook: Callable[[int, int], None]) -> None:
        """``hook(block_start, n)`` runs in the audio thread after commands, before mixing (the metronome)."""
        self._block_hooks.append(hook)

    def add_voice(self, voice: Voice) -> None:
        """Add a voice directly; only from the audio thread (block hooks)."""
        self._voices.append(voice)
        self.played.append(PlayedSound(voice.name, voice.start, voice.start, len(voice.samples)))

    def render(self, n: int) -> np.ndarray:
        """The next ``n`` samples of the stream (float32, clipped to [-1, 1]); advances ``position``."""
        start = self.position
        while self._commands:
            self._commands.popleft()(start)
        for hook in self._block_hooks:
            hook(start, n)
        out = np.zeros(n, dtype=np.float32)
        end = start + n
        keep: list[Voice] = []
        for v in self._voices:
            if v.start >= end:
                keep.append(v)
                continue
            src0 = max(0, start - v.start)
            src1 = min(len(v.samples), end - v.start)
            if src1 > src0:
                dst0 = v.start + src0 - start
                out[dst0 : dst0 + (src1 - src0)] += v.gain * v.samples[src0:src1]
            if v.end > end:
                keep.append(v)
        self._voices = keep
        out *= self.master.block(n)
        np.clip(out, -1.0, 1.0, out=out)
        self.position = end
        return out

    @property
    def active_voices(self) -> int:
        return len(self._voices)
