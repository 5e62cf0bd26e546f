"""Turns session and coach events into sound and light, and keeps the light pulse on the beat.

The coach decides; this router only executes: ``metronome`` starts, re-tempos or stops the beat,
``announce`` and ``cue_given`` speak a cached prompt, ``lights``/``light_band``/``light_flag`` set
the strip, ``summary`` speaks the session summary (synthesised on a worker thread, never in the
loop). A simulated runner listening to the metronome is told the beat too (``follow_beat``).

Offline audio (the simulated runner sped up) is rendered up to each tick's capture time, so the
WAV file is what the session would have sounded like in real time, whatever the speed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from appliance.runtime.session import SessionEvent

log = logging.getLogger(__name__)


class OutputRouter:
    """Executes events on the audio engine and the lights; every method runs on the loop thread."""

    def __init__(self, audio: Any = None, lights: Any = None, offline_audio: bool = False,
                 follow_beat: Callable[[float | None], None] | None = None):
        self.audio = audio
        self.lights = lights
        self.offline_audio = offline_audio
        self.follow_beat = follow_beat
        self.metronome_bpm: float | None = None
        self.spoken: list[tuple[float, str]] = []  # (capture time, prompt) of the last few prompts
        self.errors = 0
        self._warned: set[str] = set()
        self._anchored = False

    def handle(self, events: list[SessionEvent]) -> None:
        for e in events:
            try:
                self._handle(e)
            except Exception as err:  # a sound that cannot play must not stop the loop; it is logged
                self.errors += 1
                key = f"{e.kind}:{type(err).__name__}"
                if key not in self._warned:
                    self._warned.add(key)
                    log.error("output for %s event failed: %s", e.kind, err)

    def _handle(self, e: SessionEvent) -> None:
        p = e.payload
        if e.kind == "metronome":
            self._set_metronome(p.get("bpm"))
        elif e.kind in ("announce", "cue_given"):
            self._speak_prompt(p.get("prompt"), e.t)
        elif e.kind == "lights" and self.lights is not None:
            self.lights.set_feedback(bool(p.get("feedback")), e.t)
        elif e.kind == "light_band" and self.lights is not None:
            self.lights.set_band(p.get("band"), e.t)
        elif e.kind == "light_flag" and self.lights is not None:
            self.lights.flag(e.t)
        elif e.kind == "summary" and p.get("spoken") and p.get("text"):
            self._speak_text(p["text"])

    def _set_metronome(self, bpm: float | None) -> None:
        if self.follow_beat is not None:
            self.follow_beat(bpm)
        if self.audio is not None:
            metronome = self.audio.metronome
            if bpm is None:
                metronome.stop()
            elif metronome.bpm is None:
                metronome.start(bpm)
            else:
                metronome.set_bpm(bpm)
        self.metronome_bpm = bpm

    def _speak_prompt(self, prompt: str | None, t: float) -> None:
        if not prompt:
            return
        self.spoken = (self.spoken + [(t, prompt)])[-20:]
        if self.audio is not None and self.audio.prompts is not None:
            self.audio.play_prompt(prompt)

    def _speak_text(self, text: str) -> None:
        audio = self.audio
        if audio is None or audio.prompts is None:
            return
        if self.offline_audio:
            audio.speak(text)  # offline: synthesis time does not delay a real runner
            return

        def speak() -> None:
            try:
                audio.speak(text)
            except Exception as err:
                log.error("spoken summary failed: %s", err)

        threading.Thread(target=speak, name="summary-speech", daemon=True).start()

    def tick(self, t: float, in_session: bool = True) -> None:
        """Once per tick: render offline audio up to ``t``, pulse the lights on the beats.

        Offline audio is rendered only ``in_session`` (a session or its summary): the WAV file holds
        what the sessions sounded like, back to back, and does not grow while the appliance idles."""
        audio = self.audio
        if audio is not None and self.offline_audio:
            if not in_session:
                self._anchored = False
            else:
                if not self._anchored:
                    audio.clock.set_anchor(t, audio.position)
                    self._anchored = True
                audio.advance_to(audio.sample_at(t))
        if self.lights is not None:
            if audio is not None:
                for sample in audio.metronome.drain_beats():
                    self.lights.beat(audio.time_at(sample) if self.offline_audio else t)
            self.lights.update(t)

    def test_output(self, kind: str, t: float) -> None:
        """The set-up page's test buttons."""
        if kind == "speaker":
            if self.audio is None:
                raise RuntimeError("no audio output is open")
            from appliance.outputs.sounds import beat_sound

            audio = self.audio
            sound = beat_sound(audio.settings.metronome_sound, audio.sample_rate)
            start = audio.position + audio.block_size
            for k in range(4):  # four beats at 120/min
                audio.play_samples("test_beat", sound, start + k * audio.sample_rate // 2)
        elif kind == "voice":
            if self.audio is None or self.audio.prompts is None:
                raise RuntimeError("no spoken prompts are loaded (is espeak-ng installed?)")
            self.audio.play_prompt("follow_the_beat")
        elif kind == "lights":
            if self.lights is None:
                raise RuntimeError("no light strip is configured")
            self.lights.set_feedback(True, t)
            self.lights.flag(t)
        else:
            raise ValueError(f"unknown output {kind!r}: speaker, voice or lights")

    def silence(self, t: float) -> None:
        """Everything off (shutdown)."""
        if self.audio is not None:
            self.audio.metronome.stop()
        if self.lights is not None:
            self.lights.set_feedback(False, t)
        self.metronome_bpm = None
