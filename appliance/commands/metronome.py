"""``appliance metronome``: the metronome alone through the real audio engine, to a WAV file or the speaker."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("metronome", help="render the metronome to a WAV file (or play it on the configured sink)")
    p.add_argument("--bpm", type=float, required=True, help="beats (steps) per minute, 30-300")
    p.add_argument("--seconds", type=float, default=10.0, help="length (default 10 s)")
    p.add_argument("--out", type=Path, default=None, help="WAV file to render into (48 kHz); omit to play live")
    p.add_argument("--sound", choices=["click", "woodblock"], default=None, help="beat sound (default: from config)")
    p.add_argument("--accent", action="store_true", help="accent every second beat (one per stride)")
    p.add_argument("--sample-rate", type=int, default=48000, help="WAV sample rate (default 48000)")
    p.add_argument("--config", type=Path, default=None, help="config file")
    p.set_defaults(func=run)


def run(args) -> int:
    import time

    from appliance.cli import CommandError
    from appliance.config import load_settings
    from appliance.outputs.engine import AudioEngine
    from appliance.outputs.metronome import check_bpm
    from appliance.outputs.sinks import AudioError

    if not 0 < args.seconds <= 3600:
        raise CommandError(f"--seconds {args.seconds}: give a length between 0 and 3600 s")
    try:
        bpm = check_bpm(args.bpm)
    except ValueError as e:
        raise CommandError(f"--bpm: {e}") from e
    audio = load_settings(args.config).audio
    changes = {"accent_every_stride": args.accent or audio.accent_every_stride}
    if args.sound:
        changes["metronome_sound"] = args.sound
    if args.out is not None:
        changes["sample_rate"] = args.sample_rate
    audio = audio.model_copy(update=changes)
    try:
        if args.out is not None:
            with AudioEngine.offline(audio, args.out, with_prompts=False) as engine:
                engine.metronome.start(bpm)
                engine.advance(samples=int(round(args.seconds * audio.sample_rate)))
                beats = len(engine.metronome.drain_beats())
            print(f"wrote {args.out}: {args.seconds:g} s at {audio.sample_rate} Hz, {beats} beats at {bpm:g}/min")
        else:
            with AudioEngine.open(audio, with_prompts=False) as engine:
                engine.metronome.start(bpm)
                time.sleep(args.seconds)
                engine.metronome.stop()
                time.sleep(0.2)
            print(f"played {args.seconds:g} s at {bpm:g}/min on {engine.sink}")
    except AudioError as e:
        raise CommandError(str(e)) from e
    return 0
