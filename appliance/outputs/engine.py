"""The audio engine: one persistent stream, its mixer, the metronome and the spoken prompts.

Example::

    engine = AudioEngine.open(settings.audio, data_dir=settings.storage.data_dir)
    engine.metronome.start(172)
    engine.play_prompt("quick_feet")          # first sample on the next buffer
    engine.close()

``AudioEngine.offline(settings, out=path)`` renders into a WAV file as fast as ``advance`` is
called (tests, ``appliance metronome``, the cue demo).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from appliance.config import AudioSettings
from appliance.outputs.clock import SampleClock
from appliance.outputs.metronome import Metronome
from appliance.outputs.mixer import Mixer, PlayedSound
from appliance.outputs.prompts import PromptBank
from appliance.outputs.sinks import (
    AudioError,
    DeviceDriver,
    NullWriter,
    OfflineDriver,
    PacedDriver,
    WavWriter,
    parse_sink,
)

log = logging.getLogger(__name__)

PROMPT_GAIN = 1.0
METRONOME_DUCK = 0.5  # beat volume while a prompt speaks, so the words stay intelligible


def prompts_dir_for(settings: AudioSettings, data_dir: Path | None) -> Path:
    """The prompt cache directory: the setting, else ``DATA_DIR/prompts``."""
    if settings.prompts_dir is not None:
        return settings.prompts_dir
    if data_dir is None:
        from appliance.config import default_data_dir

        data_dir = default_data_dir()
    return Path(data_dir) / "prompts"


class AudioEngine:
    """Mixer + metronome + prompts on one output driver. Methods are safe from any thread."""

    def __init__(self, settings: AudioSettings, prompts: PromptBank | None, *, sink: str | None = None,
                 offline_out: Path | None = None, offline: bool = False, offline_writer=None) -> None:
        self.settings = settings
        self.sample_rate = settings.sample_rate
        self.block_size = settings.block_size
        self.mixer = Mixer(settings.sample_rate, volume=settings.volume, ramp_ms=settings.ramp_ms)
        self.metronome = Metronome(
            self.mixer, settings.metronome_sound, accent_every=2 if settings.accent_every_stride else 0
        )
        self.clock = SampleClock(settings.sample_rate)
        self.prompts = prompts
        self._prompt_samples = prompts.load() if prompts is not None else {}
        render = self.mixer.render
        position = lambda: self.mixer.position  # noqa: E731
        if offline_writer is not None:  # e.g. a RotatingWavWriter: the newest files of a directory
            self.driver = OfflineDriver(render, offline_writer, self.block_size)
            self.sink = f"wav:{offline_writer.directory} (offline, newest files kept)"
        elif offline:
            writer = WavWriter(offline_out, self.sample_rate) if offline_out is not None else NullWriter()
            self.driver = OfflineDriver(render, writer, self.block_size)
            self.sink = f"wav:{offline_out} (offline)" if offline_out else "null (offline)"
        else:
            spec = parse_sink(sink or settings.sink)
            if spec.kind == "auto":
                try:
                    self.driver = DeviceDriver(render, self.block_size, self.sample_rate, self.clock, position,
                                               settings.device)
                    self.driver.start()
                    self.sink = "device"
                except AudioError as e:
                    log.warning("audio.sink auto: %s; using the null sink", e)
                    spec = parse_sink("null")
            if spec.kind == "device":
                self.driver = DeviceDriver(render, self.block_size, self.sample_rate, self.clock, position,
                                           settings.device)
                self.driver.start()
                self.sink = "device"
            elif spec.kind in ("wav", "null"):
                writer = WavWriter(spec.path, self.sample_rate) if spec.kind == "wav" else NullWriter()
                self.driver = PacedDriver(render, writer, self.block_size, self.sample_rate, self.clock, position)
                self.driver.start()
                self.sink = f"wav:{spec.path}" if spec.kind == "wav" else "null"

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def open(cls, settings: AudioSettings, *, data_dir: Path | None = None, sink: str | None = None,
             with_prompts: bool = True) -> AudioEngine:
        """Start the live engine on ``settings.sink`` (or ``sink``); errors are ``AudioError``/``PromptError``."""
        bank = cls._bank(settings, data_dir) if with_prompts else None
        return cls(settings, bank, sink=sink)

    @classmethod
    def offline(cls, settings: AudioSettings, out: Path | None = None, *, data_dir: Path | None = None,
                with_prompts: bool = True, writer=None) -> AudioEngine:
        """An engine rendered by ``advance`` into the WAV file ``out`` (None: discarded), or into
        ``writer`` (anything with ``write(block)`` and ``close()``, e.g. ``RotatingWavWriter``)."""
        bank = cls._bank(settings, data_dir) if with_prompts else None
        return cls(settings, bank, offline_out=out, offline=True, offline_writer=writer)

    @staticmethod
    def _bank(settings: AudioSettings, data_dir: Path | None) -> PromptBank:
        return PromptBank(prompts_dir_for(settings, data_dir), settings.sample_rate, settings.voice,
                          settings.prompt_texts)

    # ---- sounds -------------------------------------------------------------------------
    def play_prompt(self, name: str, at_sample: int | None = None) -> None:
        """Speak the cached prompt ``name`` at ``at_sample`` (None: the start of the next buffer)."""
        if name not in self._prompt_samples:
            known = ", ".join(self._prompt_samples) or "none loaded"
            raise AudioError(f"no spoken prompt named {name!r} (known: {known})")
        self.play_samples(name, self._prompt_samples[name], at_sample)

    def play_samples(self, name: str, samples: np.ndarray, at_sample: int | None = None) -> None:
        """Play speech samples at the engine rate, ducking the beat meanwhile.

        Speech never overlaps: a prompt asked for while another speaks starts when it ends.
        """
        self._check()
        self.mixer.play(name, samples, PROMPT_GAIN, at_sample, channel="speech",
                        on_start=lambda _start, end: self.metronome.duck(end, METRONOME_DUCK))

    def speak(self, text: str, at_sample: int | None = None) -> None:
        """Synthesise ``text`` now (a fraction of a second: never from the control loop) and play it."""
        if self.prompts is None:
            raise AudioError("this engine was opened without spoken prompts")
        self.play_samples("speech", self.prompts.synthesise(text), at_sample)

    def set_volume(self, volume: float, ramp_s: float | None = None) -> None:
        """Master volume 0..1, ramped (default: the click-free ramp of audio.ramp_ms)."""
        if not 0.0 <= volume <= 1.0:
            raise ValueError(f"volume {volume} is outside 0..1")
        self.mixer.set_volume(volume, ramp_s)

    # ---- time ---------------------------------------------------------------------------
    @property
    def realtime(self) -> bool:
        """True for a live stream (paced by a device or the clock); False for an offline engine (``advance``)."""
        return not isinstance(self.driver, OfflineDriver)

    @property
    def position(self) -> int:
        """Index of the next sample the stream will render."""
        return self.mixer.position

    def sample_at(self, t: float) -> int:
        """The stream sample that sounds at time ``t`` (monotonic clock live; the set anchor offline)."""
        return self.clock.sample_at(t)

    def time_at(self, sample: int) -> float:
        return self.clock.time_at(sample)

    def played(self) -> list[PlayedSound]:
        """Every sound placed so far: name, requested sample, first sample in the stream."""
        return list(self.mixer.played)

    # ---- driving ------------------------------------------------------------------------
    def advance(self, seconds: float | None = None, samples: int | None = None) -> None:
        """Offline engines only: render ``seconds`` (or ``samples``) more of the stream."""
        if self.realtime:
            raise AudioError("advance() is for offline engines; a live engine is driven by its sink")
        n = samples if samples is not None else int(round((seconds or 0.0) * self.sample_rate))
        self.driver.advance(n)

    def advance_to(self, sample: int) -> None:
        """Offline engines only: render until ``position`` >= ``sample``."""
        if sample > self.position:
            self.advance(samples=sample - self.position)

    def _check(self) -> None:
        err = getattr(self.driver, "error", None)
        if err is not None:
            raise AudioError(f"audio output stopped: {err}") from err

    def close(self) -> None:
        """Stop the stream and finalise the sink (the WAV header)."""
        self.driver.close()

    def __enter__(self) -> AudioEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
