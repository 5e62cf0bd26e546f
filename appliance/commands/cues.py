"""``appliance cues --demo``: a short coached session, rendered to a WAV file a person can listen to.

A synthetic runner (deterministic) warms up at 160 steps/min and overstrides; the real coach runs a
2.5-minute session (30 s warm-up, 45 s feedback on, 45 s feedback off, 30 s retention); its
events drive the real audio engine (metronome, cached spoken cues, summary) and the light patterns
on mock PWM pins. The WAV holds what the runner would hear; the light-cue log (every colour change
of the strip) is printed and written next to it as JSON lines. When feedback is withdrawn (75 s)
the beat fades out over two seconds instead of stopping dead; the file ends after the spoken summary.
"""

from __future__ import annotations

from pathlib import Path

DEMO_T0 = 100.0  # capture clock at the start of the demo session (any value works)
TICK_HZ = 30.0


def register(sub) -> None:
    p = sub.add_parser("cues", help="render a coaching demo (metronome, spoken and light cues) to a WAV file")
    p.add_argument("--demo", action="store_true", required=True, help="render the built-in demo session")
    p.add_argument("--out", type=Path, required=True, help="WAV file to write (48 kHz)")
    p.add_argument("--config", type=Path, default=None, help="config file (prompt words, voice, beat sound)")
    p.set_defaults(func=run)


class DemoRunner:
    """A deterministic runner who warms up at 160/min, overstrides, and answers cues within seconds."""

    def __init__(self, seed: int = 7) -> None:
        import numpy as np

        self.rng = np.random.default_rng(seed)
        self.cadence = 160.0
        self.shank = 12.0
        self.goal_cadence = 160.0
        self.goal_shank = 12.0
        self.index = 0

    def hear(self, prompt: str) -> None:
        if prompt == "quick_feet":
            self.goal_cadence = min(172.0, self.goal_cadence + 6.0)
        elif prompt == "shorter_steps":
            self.goal_shank = 8.0
        elif prompt == "feedback_on":
            self.goal_cadence = 163.0  # hears the beat, half follows it
        elif prompt == "feedback_off":
            self.goal_cadence = 169.0  # drifts back a little without the beat

    def step(self, t: float):
        from appliance.types import Step

        self.cadence += 0.08 * (self.goal_cadence - self.cadence)
        # A quicker step rate shortens the stride: overstride falls as cadence rises (Heiderscheit 2011).
        goal_shank = min(self.goal_shank, 12.0 - 0.45 * (self.cadence - 160.0))
        self.shank += 0.05 * (goal_shank - self.shank)
        self.index += 1
        cadence = float(self.cadence + self.rng.normal(0, 0.8))
        valid = self.index % 17 != 0  # now and then a misdetected step
        return Step(index=self.index, foot="left" if self.index % 2 else "right", frame_ic=int(t * 60), t_ic=t,
                    strike="rearfoot", foot_strike_angle_deg=float(10 + self.rng.normal(0, 1.5)),
                    shank_angle_deg=float(self.shank + self.rng.normal(0, 1.0)), knee_flexion_deg=18.0,
                    heel_to_hip_leg_lengths=0.25, cadence_spm=round(self.cadence, 1), instant_cadence_spm=cadence,
                    confidence=0.9 if valid else 0.2, valid=valid)


def run(args) -> int:
    import json

    from appliance.cli import CommandError
    from appliance.coach import CadenceTarget, Coach, OverstrideTarget, SessionPlan, Targets
    from appliance.config import CoachSettings, load_settings
    from appliance.outputs.cue_player import CuePlayer
    from appliance.outputs.engine import AudioEngine
    from appliance.outputs.gpio import make_pin_factory
    from appliance.outputs.lights import Lights
    from appliance.outputs.prompts import PromptError
    from appliance.outputs.sinks import AudioError

    settings = load_settings(args.config)
    audio = settings.audio.model_copy(update={"sample_rate": 48000})
    light_settings = settings.lights.model_copy(update={"driver": "rgb"})
    coach_settings = CoachSettings(warmup_minutes=0.5, retention_minutes=0.5, min_block_minutes=0.5,
                                   min_cue_interval_s=8, min_baseline_steps=20)
    session = SessionPlan(number=6, run_minutes=2.5, feedback_share=0.5)
    targets = Targets(cadence=CadenceTarget(increase_pct=7.5), overstride=OverstrideTarget())
    try:
        engine = AudioEngine.offline(audio, args.out, data_dir=settings.storage.data_dir)
    except (AudioError, PromptError) as e:
        raise CommandError(str(e)) from e
    lights = Lights.from_settings(light_settings, pin_factory=make_pin_factory("mock"))
    player = CuePlayer(engine, lights)
    coach = Coach(session, targets, coach_settings)
    runner = DemoRunner()
    engine.clock.set_anchor(DEMO_T0, 0)
    timeline: list[str] = []

    def play(events) -> None:
        for e in events:
            if e.kind in ("cue_given", "announce"):
                runner.hear(e.payload["prompt"])
            if e.kind in ("cue_given", "announce", "metronome", "baseline_measured", "targets_set", "block_started",
                          "summary"):
                what = {k: v for k, v in e.to_dict().items() if k not in ("kind", "t", "blocks", "figures")}
                timeline.append(f"{e.t - DEMO_T0:7.2f} s  {e.kind:18s} {json.dumps(what)}")
        player.handle(events)

    try:
        play(coach.start(DEMO_T0))
        t_next_step = DEMO_T0 + 60.0 / runner.cadence
        k = 0
        while not coach.ended:
            k += 1
            t = DEMO_T0 + k / TICK_HZ
            engine.advance_to(engine.sample_at(t))
            while t_next_step <= t and not coach.ended:
                play(coach.on_step(runner.step(t_next_step)))
                t_next_step += 60.0 / runner.cadence
            play(coach.tick(t))
            player.tick(t)
        summary = coach.summary()
        engine.advance(samples=engine.block_size)  # the summary joins the stream
        engine.advance_to(max(p.end_sample for p in engine.played()) + engine.sample_rate // 2)
    finally:
        engine.close()
        lights.close()
    if player.errors:
        raise CommandError(f"{player.errors} cue(s) failed to play (logged above); {args.out} is incomplete")

    log_path = args.out.with_suffix(".lights.jsonl")
    log_path.write_text("".join(json.dumps(c.to_dict() | {"t": round(c.t - DEMO_T0, 4)}) + "\n" for c in lights.log))
    print("timeline (session seconds):")
    print("\n".join(timeline))
    print("\nlight-cue log (changes other than beat pulses; the full log is in the .jsonl):")
    pulses = 0
    for c in lights.log:
        if c.reason in ("beat", "tick") and c.rgb != (0.0, 0.0, 0.0) and not c.reason.startswith("flag"):
            pulses += 1
            continue
        print(f"{c.t - DEMO_T0:7.2f} s  rgb={tuple(round(v, 2) for v in c.rgb)}  {c.reason}")
    print(f"({pulses} beat pulse changes not shown)")
    print("\nsummary: " + " ".join(summary.sentences()))
    seconds = (engine.position) / engine.sample_rate
    print(f"\nwrote {args.out} ({seconds:.1f} s, {engine.sample_rate} Hz) and {log_path}")
    return 0
