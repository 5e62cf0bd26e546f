"""Outputs: what the runner hears and sees. Knows nothing of gait or the coach; the runtime wires them.

Audio (one persistent stream; every sound placed at an exact sample)::

    from appliance.outputs import AudioEngine
    engine = AudioEngine.open(settings.audio, data_dir=settings.storage.data_dir)  # AudioError if unusable
    engine.metronome.start(172)          # first beat on the next buffer; .set_bpm(b) from the next beat
    engine.metronome.stop()              # a sounding beat rings out
    engine.metronome.fade_out(2.0)       # each beat quieter for 2 s, then stop (feedback withdrawn)
    engine.play_prompt("quick_feet")     # cached espeak-ng prompt, first sample on the next buffer
    engine.play_prompt("quick_feet", at_sample=engine.sample_at(t_capture + 0.05))
    # speech never overlaps: a prompt asked for while another speaks follows it; the beat ducks
    engine.set_volume(0.0, ramp_s=3)     # ramped, never stepped
    engine.speak("cadence 172, on target 84 percent")   # session end only: synthesises first
    engine.metronome.drain_beats()       # sample indices of beats since the last call (light pulse)
    engine.close()

    engine = AudioEngine.offline(settings.audio, out=Path("x.wav"))   # rendered by engine.advance(s)

Sinks (``audio.sink``): ``device`` (PortAudio), ``wav:PATH`` (real-time paced; the dev machine),
``null``, ``auto`` (device, else null). ``engine.clock`` is the anchor ``t <-> sample``; live sinks
re-anchor every buffer at the time its first sample sounds (monotonic clock).

Coach events -> outputs: ``CuePlayer(engine, lights).handle(events)`` and ``.tick(t)``, the one
event executor (the runtime's control loop, the cue demo, the latency bench). It reads events by
``kind``/``t``/``payload`` only, so outputs/ does not import the coach; a withdrawn beat fades out;
a failing sound is counted and logged, never raised. The simulated hardware adds
``offline_audio=True`` (render the offline engine up to each tick) and ``follow_beat`` (its runner).

Parts (``appliance.hardware``; each owns its settings section and has ``check(options)``):
``audio_out.AudioOut`` (``audio``), ``lights.LightStrip`` (``lights``), ``button.ButtonPart``
(``button``), all GPIO on one ``gpio.Pins``. The simulator records to ``sinks.RotatingWavWriter``
(the newest two files of 10 minutes under ``DATA_DIR/audio``).

Prompts: ``PromptBank(dir, rate, voice, texts).render()`` (``appliance prompts``, at install time);
names in ``DEFAULT_PROMPTS``.

Lights and button (gpiozero; pin factory from ``make_pin_factory(settings.gpio.pin_factory)``)::

    lights = Lights.from_settings(settings.lights, pin_factory)
    lights.set_feedback(True, t); lights.set_band("in" | "near" | "out" | None, t)
    lights.beat(t); lights.flag(t); lights.update(t)    # every tick; lights.log: the light-cue log
    button = SessionButton.from_settings(settings.button, on_press=..., on_hold=..., pin_factory=pf)
"""

from appliance.outputs.button import SessionButton
from appliance.outputs.clock import SampleClock
from appliance.outputs.cue_player import CuePlayer
from appliance.outputs.engine import AudioEngine
from appliance.outputs.gpio import GpioError, make_pin_factory
from appliance.outputs.lights import LightChange, Lights
from appliance.outputs.prompts import DEFAULT_PROMPTS, PromptBank, PromptError
from appliance.outputs.sinks import AudioError

__all__ = [
    "DEFAULT_PROMPTS",
    "AudioEngine",
    "AudioError",
    "CuePlayer",
    "GpioError",
    "LightChange",
    "Lights",
    "PromptBank",
    "PromptError",
    "SampleClock",
    "SessionButton",
    "make_pin_factory",
]
