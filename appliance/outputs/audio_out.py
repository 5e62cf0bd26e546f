"""The audio-out part: the live audio engine on ``audio.sink``, from the ``audio`` settings section.

``open`` starts the engine with its spoken prompts (metronome only when the prompts cannot be
made); ``check`` plays a beep then a spoken word through the same engine (``appliance selftest``).
The simulator's runs render to WAV files instead (``appliance.hardware.simulated.RecordedAudio``).

>>> audio = AudioOut(settings.audio, data_dir)
>>> engine = audio.open()           # AudioError with its fix when the output cannot be used
>>> audio.check(CheckOptions(word="ready")).status
'PASS'
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from appliance.checks import SERVICE_BUSY_FIX, CheckOptions, CheckResult
from appliance.config import AudioSettings

log = logging.getLogger(__name__)

AMPLIFIER_FIX = (
    "check `aplay -l` lists the MAX98357A card and dtoverlay=max98357a is in /boot/firmware/config.txt "
    "(reboot after adding it), the amplifier wiring in hardware/wiring.md, audio.device in the panel; "
    + SERVICE_BUSY_FIX
)


def beep(sample_rate: int, frequency: float = 880.0, seconds: float = 0.25, volume: float = 0.8):
    """A sine beep with 10 ms fades (no clicks), float32 mono."""
    import numpy as np

    t = np.arange(int(sample_rate * seconds)) / sample_rate
    tone = np.sin(2 * np.pi * frequency * t) * volume
    fade = min(len(t) // 2, int(0.01 * sample_rate))
    ramp = np.linspace(0.0, 1.0, fade)
    tone[:fade] *= ramp
    tone[len(tone) - fade :] *= ramp[::-1]
    return tone.astype(np.float32)


def open_with_prompts(open_engine, what: str):
    """``open_engine(with_prompts=True)``, else, when the prompts cannot be made (no espeak-ng, a
    voice it does not have), ``open_engine(with_prompts=False)``: metronome only, said once here."""
    from appliance.outputs.prompts import PromptError

    try:
        return open_engine(with_prompts=True)
    except PromptError as e:
        log.warning("spoken prompts unavailable for %s (%s); metronome only", what, e)
        return open_engine(with_prompts=False)


class AudioOut:
    """The sound device (or the WAV or null sink ``audio.sink`` names), live."""

    name = "audio"

    def __init__(self, settings: AudioSettings, data_dir: Path) -> None:
        self.settings = settings
        self.data_dir = Path(data_dir)

    def open(self):
        """The running ``AudioEngine``; AudioError (with its fix) when the output cannot be used."""
        from appliance.outputs.engine import AudioEngine

        return open_with_prompts(
            lambda with_prompts: AudioEngine.open(self.settings, data_dir=self.data_dir, with_prompts=with_prompts),
            f"audio.sink {self.settings.sink}")

    def check(self, options: CheckOptions) -> CheckResult:
        """Play a beep then ``options.word`` through the appliance's own audio engine on the configured
        sink, and count the cached prompts. ``auto`` is opened as the sound device: the engine would
        fall back to silence, the check must report the missing device instead."""
        import numpy as np

        from appliance.outputs.engine import AudioEngine, prompts_dir_for
        from appliance.outputs.prompts import PromptBank, PromptError, espeak_render
        from appliance.outputs.sinks import AudioError, parse_sink

        audio, word, margin_s = self.settings, options.word, 3.0
        kind = parse_sink(audio.sink).kind
        if kind == "null":
            return CheckResult(self.name, "SKIP", "audio.sink is null (no sound configured)")
        try:
            speech = espeak_render(word, audio.voice, audio.sample_rate)
        except PromptError as e:
            return CheckResult.failed(self.name, e, context="cannot speak",
                                      fix="sudo apt install espeak-ng; check audio.voice in the panel")
        gap = np.zeros(int(0.15 * audio.sample_rate), dtype=np.float32)
        tone = np.concatenate([beep(audio.sample_rate), gap])
        try:
            engine = AudioEngine(audio, None, sink="device" if kind == "auto" else audio.sink)
        except AudioError as e:
            return CheckResult.failed(self.name, e, context="cannot open the audio output", fix=AMPLIFIER_FIX)
        seconds = (len(tone) + len(speech)) / audio.sample_rate
        try:
            engine.play_samples("beep", tone)
            engine.play_samples(word, speech)  # speech never overlaps: starts when the beep ends
            deadline = time.monotonic() + seconds + margin_s
            while time.monotonic() < deadline:
                played = engine.played()
                if len(played) == 2 and engine.position >= played[1].start_sample + len(speech):
                    break
                time.sleep(0.02)
            else:
                return CheckResult(self.name, "FAIL",
                                   f"the audio stream stalled at sample {engine.position} ({engine.sink})", AMPLIFIER_FIX)
        except AudioError as e:
            return CheckResult.failed(self.name, e, fix=AMPLIFIER_FIX)
        finally:
            engine.close()
        bank = PromptBank(prompts_dir_for(audio, self.data_dir), audio.sample_rate, audio.voice, audio.prompt_texts)
        stale = bank.stale()
        cached = f"{len(bank.texts) - len(stale)} of {len(bank.texts)} spoken prompts cached in {bank.directory}"
        if stale:
            cached += " (the rest render at start; `appliance prompts` renders them now)"
        return CheckResult(self.name, "PASS",
                           f"beep and '{word}' played on {engine.sink} ({seconds:.2f} s): listen for both; {cached}",
                           AMPLIFIER_FIX)
