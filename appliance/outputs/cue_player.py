"""Turns coach events into sound and light: the wiring between the coach and the outputs.

The player knows the coach's event vocabulary by name only (``kind``, ``t``, ``payload`` of any
object), so outputs/ still imports nothing of the coach. The runtime calls ``handle(events)``
with what the coach returned and ``tick(t)`` at every control tick (light pulses on the beats the
metronome actually placed, pattern timing).

Mapping: ``metronome`` -> start / tempo change / fade-out of the beat; ``cue_given`` and
``announce`` -> a cached prompt at the next buffer; ``lights``, ``light_band``, ``light_flag`` ->
the strip; ``summary`` -> spoken (synthesised then: the session is over, the loop no longer cues).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from appliance.outputs.engine import AudioEngine
from appliance.outputs.lights import Lights

log = logging.getLogger(__name__)


class CuePlayer:
    """Plays coach events on an ``AudioEngine`` and an optional ``Lights``."""

    def __init__(self, engine: AudioEngine, lights: Lights | None = None, *, beat_fade_s: float = 2.0,
                 speak_summary: bool = True) -> None:
        self.engine = engine
        self.lights = lights
        self.beat_fade_s = beat_fade_s
        self.speak_summary = speak_summary
        self._pending_beats: list[float] = []
        self.heard: list[tuple[float, str]] = []  # (event time, what was played): for logs and demos

    def handle(self, events: Iterable[Any]) -> None:
        for event in events:
            self._handle(event)

    def _handle(self, event: Any) -> None:
        kind, t, p = event.kind, event.t, event.payload
        if kind == "metronome":
            bpm = p.get("bpm")
            if bpm is None:
                if self.engine.metronome.bpm is not None:
                    self.engine.metronome.fade_out(self.beat_fade_s)
                    self.heard.append((t, "metronome fades out"))
            else:
                self.engine.metronome.start(bpm)
                self.heard.append((t, f"metronome {bpm:g}/min"))
        elif kind in ("cue_given", "announce"):
            self.engine.play_prompt(p["prompt"])
            self.heard.append((t, f"says {p['prompt']}"))
        elif kind == "summary" and p.get("spoken", True) and self.speak_summary:
            self.engine.speak(p["text"])
            self.heard.append((t, f"says {p['text']!r}"))
        elif self.lights is not None:
            if kind == "lights":
                self.lights.set_feedback(bool(p["feedback"]), t)
            elif kind == "light_band":
                self.lights.set_band(p["band"], t)
            elif kind == "light_flag":
                self.lights.flag(t)

    def tick(self, t: float) -> None:
        """Pulse the strip on beats that have sounded by ``t`` and refresh its pattern."""
        if self.lights is None:
            self.engine.metronome.drain_beats()
            return
        self._pending_beats += [self.engine.time_at(s) for s in self.engine.metronome.drain_beats()]
        due = [b for b in self._pending_beats if b <= t]
        self._pending_beats = [b for b in self._pending_beats if b > t]
        if due:
            self.lights.beat(due[-1])
        self.lights.update(t)
