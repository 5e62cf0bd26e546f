"""The metronome, in the sample domain: beats are placed at exact sample indices of the stream.

Beat ``k`` of a tempo segment sounds at ``anchor + round(k * 60 * rate / bpm)``, so the rounding
never accumulates into drift and the jitter in the rendered stream is zero samples whatever the
control loop does. A tempo change keeps the beat that is already due and spaces every later beat
at the new tempo: no beat is dropped, none is doubled, and no interval is shorter than either
tempo's. Stopping lets a sounding beat ring out (no cut-off click); volume changes ramp.
"""

from __future__ import annotations

import collections
import math

from appliance.outputs.mixer import Mixer, Ramp, Voice
from appliance.outputs.sounds import beat_sound

MIN_BPM = 30.0
MAX_BPM = 300.0


def check_bpm(bpm: float) -> float:
    """``bpm`` as a float, or a ValueError naming the allowed range."""
    bpm = float(bpm)
    if not (MIN_BPM <= bpm <= MAX_BPM) or math.isnan(bpm):
        raise ValueError(f"metronome bpm {bpm} is outside {MIN_BPM:g}..{MAX_BPM:g} beats/min")
    return bpm


class Metronome:
    """Beats on the mixer's stream. Public methods may be called from any thread.

    Example::

        engine.metronome.start(170)     # first beat on the next buffer
        engine.metronome.set_bpm(180)   # the due beat stays, later beats at 180
        engine.metronome.stop()
    """

    def __init__(self, mixer: Mixer, sound: str = "woodblock", accent_every: int = 0, volume: float = 1.0) -> None:
        self._mixer = mixer
        rate = mixer.sample_rate
        self._beat = beat_sound(sound, rate)
        self._accent = beat_sound(sound, rate, accent=True)
        self._accent_every = int(accent_every)
        self._volume = float(volume)
        self._gain = Ramp(volume)
        self._stop_when_silent = False
        # Audio-thread state.
        self._bpm: float | None = None
        self._anchor = 0
        self._k = 0
        self._count = 0
        self.beats: collections.deque[int] = collections.deque(maxlen=4096)
        self._requested_bpm: float | None = None
        self._duck_until = -1
        self._duck_gain = 1.0
        mixer.add_block_hook(self._schedule)

    # ---- any thread ---------------------------------------------------------------------
    @property
    def bpm(self) -> float | None:
        """The tempo most recently asked for (None when stopped)."""
        return self._requested_bpm

    def start(self, bpm: float, at_sample: int | None = None) -> None:
        """Start beating at ``bpm``; the first beat at ``at_sample`` (None: start of the next buffer).

        If the metronome is already running this is a tempo change (``set_bpm``).
        """
        bpm = check_bpm(bpm)
        self._requested_bpm = bpm

        def _start(block_start: int) -> None:
            self._stop_when_silent = False
            self._gain.set(self._volume, 0 if self._bpm is None else self._mixer.ramp_samples)
            if self._bpm is not None:
                self._retempo(bpm)
                return
            self._bpm = bpm
            self._anchor = block_start if at_sample is None else max(int(at_sample), block_start)
            self._k = 0
            self._count = 0

        self._mixer.post(_start)

    def set_bpm(self, bpm: float) -> None:
        """Change the tempo: the beat already due plays where it was due, later beats at ``bpm``."""
        bpm = check_bpm(bpm)
        self._requested_bpm = bpm

        def _set(_block_start: int) -> None:
            if self._bpm is not None:
                self._retempo(bpm)

        self._mixer.post(_set)

    def stop(self) -> None:
        """No more beats after this buffer; a beat already sounding rings out."""
        self._requested_bpm = None

        def _stop(_block_start: int) -> None:
            self._bpm = None

        self._mixer.post(_stop)

    def set_volume(self, volume: float, ramp_s: float = 0.03) -> None:
        """Beat volume 0..1, ramped from beat to beat (each beat keeps one gain, so no click)."""
        if not 0.0 <= volume <= 1.0:
            raise ValueError(f"metronome volume {volume} is outside 0..1")

        def _set(_block_start: int) -> None:
            self._volume = float(volume)
            self._gain.set(volume, max(1, int(ramp_s * self._mixer.sample_rate)))

        self._mixer.post(_set)

    def fade_out(self, seconds: float) -> None:
        """Let the beat die away over ``seconds`` (each beat quieter), then stop."""
        self._requested_bpm = None

        def _fade(_block_start: int) -> None:
            self._gain.set(0.0, max(1, int(seconds * self._mixer.sample_rate)))
            self._stop_when_silent = True

        self._mixer.post(_fade)

    def drain_beats(self) -> list[int]:
        """Sample indices of the beats scheduled since the last call (for the light pulse)."""
        out = []
        while self.beats:
            out.append(self.beats.popleft())
        return out

    # ---- audio thread -------------------------------------------------------------------
    def duck(self, until_sample: int, gain: float) -> None:
        """Beats before ``until_sample`` play at ``gain`` times their volume (audio thread only)."""
        self._duck_until = max(self._duck_until, int(until_sample))
        self._duck_gain = float(gain)

    def _period(self) -> float:
        assert self._bpm is not None
        return 60.0 * self._mixer.sample_rate / self._bpm

    def _next_onset(self) -> int:
        return self._anchor + int(round(self._k * self._period()))

    def _retempo(self, bpm: float) -> None:
        self._anchor = self._next_onset()
        self._k = 0
        self._bpm = bpm

    def _schedule(self, block_start: int, n: int) -> None:
        if self._bpm is None:
            return
        end = block_start + n
        onset = self._next_onset()
        while onset < end:
            if self._stop_when_silent and self._gain.value <= 0.0:
                self._bpm = None
                self._stop_when_silent = False
                return
            accent = self._accent_every > 0 and self._count % self._accent_every == 0
            samples = self._accent if accent else self._beat
            gain = self._gain.value * (self._duck_gain if onset < self._duck_until else 1.0)
            # Each beat keeps one gain; the ramp advances by one beat interval of stream time.
            self._gain.block(max(1, int(self._period())))
            self._mixer.add_voice(Voice(onset, samples, gain, "beat-accent" if accent else "beat"))
            self.beats.append(onset)
            self._k += 1
            self._count += 1
            onset = self._next_onset()
