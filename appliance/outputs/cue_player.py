"""Turns coach and session events into sound and light: the one wiring between the coach and the outputs.

The coach decides; the player only executes. It knows the event vocabulary by name only (``kind``,
``t``, ``payload`` of any object: the coach's ``CoachEvent`` or the runtime's ``SessionEvent``), so
outputs/ still imports nothing of the coach or the runtime. Its users: the runtime's control loop
(``appliance run``), the cue demo (``appliance cues --demo``) and ``bench/cue_latency.py``. Call
``handle(events)`` with what the coach returned and ``tick(t)`` at every control tick.

Mapping: ``metronome`` -> start / tempo change / fade-out of the beat (a withdrawn beat dies away
over ``beat_fade_s``, each beat quieter, never stopping dead); ``cue_given`` and ``announce`` -> a
cached prompt at the next buffer; ``lights``, ``light_band``, ``light_flag`` -> the strip;
``summary`` -> spoken (synthesised on a worker thread on a live stream, so never in the loop; at
once on an offline engine, where synthesis time delays nobody). ``follow_beat`` tells a simulated
runner listening to the metronome the new tempo.

An event whose sound or light fails is counted in ``errors`` and logged once per kind of failure; it
never raises into the loop. With ``offline_audio`` the player also renders the offline engine up to
each tick's time (the simulated runner, sped up), so the WAV file is what the session would have
sounded like in real time, whatever the speed.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appliance.outputs.engine import AudioEngine
    from appliance.outputs.lights import Lights

log = logging.getLogger(__name__)

BEAT_FADE_S = 2.0  # a withdrawn metronome dies away over this long (feedback faded, pause, session end)


class CuePlayer:
    """Plays events on an optional ``AudioEngine`` and optional ``Lights``; every method runs on one thread."""

    def __init__(self, engine: AudioEngine | None, lights: Lights | None = None, *, offline_audio: bool = False,
                 follow_beat: Callable[[float | None], None] | None = None, beat_fade_s: float = BEAT_FADE_S,
                 speak_summary: bool = True) -> None:
        """``offline_audio``: ``tick`` renders the (offline) engine up to each tick's time; without it
        whoever made the engine drives it. ``follow_beat(bpm)``: told every metronome change."""
        self.engine = engine
        self.lights = lights
        self.offline_audio = offline_audio
        self.follow_beat = follow_beat
        self.beat_fade_s = beat_fade_s
        self.speak_summary = speak_summary
        self.metronome_bpm: float | None = None
        self.heard: collections.deque[tuple[float, str]] = collections.deque(maxlen=200)  # (event time, what)
        self.errors = 0
        self._warned: set[str] = set()
        self._anchored = False
        self._pending_beats: list[float] = []

    # ---- events -------------------------------------------------------------------------
    def handle(self, events: Iterable[Any]) -> None:
        for event in events:
            try:
                self._handle(event)
            except Exception as err:  # a sound that cannot play must not stop the loop; it is logged
                self.errors += 1
                key = f"{event.kind}:{type(err).__name__}"
                if key not in self._warned:
                    self._warned.add(key)
                    log.error("output for %s event failed: %s", event.kind, err)

    def _handle(self, event: Any) -> None:
        kind, t, p = event.kind, event.t, event.payload
        if kind == "metronome":
            self._set_metronome(p.get("bpm"), t)
        elif kind in ("cue_given", "announce"):
            self._speak_prompt(p.get("prompt"), t)
        elif kind == "summary":
            if p.get("spoken", True) and p.get("text") and self.speak_summary:
                self._speak_text(p["text"], t)
        elif self.lights is not None:
            if kind == "lights":
                self.lights.set_feedback(bool(p.get("feedback")), t)
            elif kind == "light_band":
                self.lights.set_band(p.get("band"), t)
            elif kind == "light_flag":
                self.lights.flag(t)

    def _set_metronome(self, bpm: float | None, t: float) -> None:
        if self.follow_beat is not None:
            self.follow_beat(bpm)
        if self.engine is not None:
            metronome = self.engine.metronome
            if bpm is None:
                if metronome.bpm is not None:
                    metronome.fade_out(self.beat_fade_s)  # each beat quieter, then no more: no dead stop
                    self.heard.append((t, "metronome fades out"))
            else:
                metronome.start(bpm)  # running or fading: a tempo change, back at full volume
                self.heard.append((t, f"metronome {bpm:g}/min"))
        self.metronome_bpm = bpm

    def _speak_prompt(self, prompt: str | None, t: float) -> None:
        engine = self.engine
        if not prompt or engine is None or engine.prompts is None:
            return  # metronome only (no espeak-ng): said at start-up, not per cue
        engine.play_prompt(prompt)
        self.heard.append((t, f"says {prompt}"))

    def _speak_text(self, text: str, t: float) -> None:
        engine = self.engine
        if engine is None or engine.prompts is None:
            return
        self.heard.append((t, f"says {text!r}"))
        if not engine.realtime:
            engine.speak(text)  # offline: synthesis time does not delay a real runner
            return

        def speak() -> None:
            try:
                engine.speak(text)
            except Exception as err:
                log.error("spoken summary failed: %s", err)

        threading.Thread(target=speak, name="summary-speech", daemon=True).start()

    # ---- every tick ---------------------------------------------------------------------
    def tick(self, t: float, in_session: bool = True) -> None:
        """Render offline audio up to ``t`` (``offline_audio``), pulse the strip on the beats that
        have sounded by ``t``, refresh its pattern.

        Offline audio is rendered only ``in_session`` (a session or its summary): the WAV file holds
        what the sessions sounded like, back to back, and does not grow while the appliance idles."""
        engine = self.engine
        if engine is not None and self.offline_audio:
            if not in_session:
                self._anchored = False
            else:
                if not self._anchored:
                    engine.clock.set_anchor(t, engine.position)
                    self._anchored = True
                engine.advance_to(engine.sample_at(t))
        if engine is not None:
            beats = engine.metronome.drain_beats()
            if self.lights is not None and beats:
                # An offline engine's clock is anchored to the event clock; a live stream's is the
                # monotonic clock, which a replayed clip's capture times are not: pulse at the tick.
                self._pending_beats += [engine.time_at(s) for s in beats] if not engine.realtime else [t]
        if self.lights is None:
            return
        due = [b for b in self._pending_beats if b <= t]
        self._pending_beats = [b for b in self._pending_beats if b > t]
        if due:
            self.lights.beat(due[-1])
        self.lights.update(t)

    # ---- the set-up page and shutdown ---------------------------------------------------
    def test_output(self, kind: str, t: float) -> None:
        """The set-up page's test buttons: ``speaker`` (four beats), ``voice`` (a prompt), ``lights``."""
        if kind == "speaker":
            if self.engine is None:
                raise RuntimeError("no audio output is open")
            from appliance.outputs.sounds import beat_sound

            engine = self.engine
            sound = beat_sound(engine.settings.metronome_sound, engine.sample_rate)
            start = engine.position + engine.block_size
            for k in range(4):  # four beats at 120/min
                engine.play_samples("test_beat", sound, start + k * engine.sample_rate // 2)
        elif kind == "voice":
            if self.engine is None or self.engine.prompts is None:
                raise RuntimeError("no spoken prompts are loaded (is espeak-ng installed?)")
            self.engine.play_prompt("follow_the_beat")
        elif kind == "lights":
            if self.lights is None:
                raise RuntimeError("no light strip is configured")
            self.lights.set_feedback(True, t)
            self.lights.flag(t)
        else:
            raise ValueError(f"unknown output {kind!r}: speaker, voice or lights")

    def silence(self, t: float) -> None:
        """Everything off (shutdown: the stream closes next, so the beat stops rather than fades)."""
        if self.engine is not None:
            self.engine.metronome.stop()
        if self.lights is not None:
            self.lights.set_feedback(False, t)
        self.metronome_bpm = None
        self._pending_beats = []
