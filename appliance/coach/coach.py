"""The coach of one session: phases, bandwidth decisions and cues, driven by capture times only.

``Coach`` never reads a clock: ``start(t)``, ``tick(t)`` and ``on_step(step)`` carry the capture
time, so a session replays identically from recorded steps. Every call returns the events it
decided (see ``appliance.coach.events``); the runtime turns them into sound and light and hands
them to the store.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, deque

from appliance.coach import events as ev
from appliance.coach.events import CoachEvent
from appliance.coach.programme import Block, SessionPlan, plan_session
from appliance.coach.summary import PhaseStats, SessionSummary
from appliance.coach.targets import FRONTAL_FIELDS, Band, Baseline, Targets, metric_value, resolve
from appliance.config import CoachSettings, GaitSettings
from appliance.types import Step

FLAG_METRICS = ("overstride", "strike", "frontal")  # per-step faults that flash the strip
MIN_FRONTAL_BASELINE_STEPS = 5  # rear-camera stances of a side in the warm-up for its baseline
PHASE_PROMPTS = {"warmup": "warmup", "feedback_on": "feedback_on", "feedback_off": "feedback_off",
                 "retention": "retention"}


class CoachError(RuntimeError):
    """A call out of order (a step before ``start``)."""


class Coach:
    """One session: ``start(t)``, then ``on_step(step)`` per step and ``tick(t)`` per control tick.

    Example::

        coach = Coach(default_programme().session(5), Targets(), settings.coach)
        events = coach.start(t0)
        events += coach.on_step(step)      # cue_given / cue_withheld / light_band / ...
        events += coach.tick(t)            # block changes, metronome on/off, session end + summary
        coach.summary().sentences()
    """

    def __init__(self, session: SessionPlan, targets: Targets, settings: CoachSettings | None = None,
                 gait: GaitSettings | None = None) -> None:
        self.session = session
        self.targets = targets
        self.settings = settings or CoachSettings()
        self.gait = gait or GaitSettings()  # the strike classes' thresholds bound the strike band
        s = self.settings
        self.blocks: list[Block] = plan_session(session, s.warmup_minutes, s.retention_minutes, s.min_block_minutes)
        self._t0: float | None = None
        self._paused_at: float | None = None
        self._paused_total = 0.0
        self._block_index = -1
        self._ended: str | None = None
        self._warmup_steps: list[Step] = []
        self.baseline: Baseline | None = None
        self.bands: dict[str, Band] = {}
        self._unresolved: dict[str, str] = {}
        self._last_spoken_t: float | None = None
        self._light_band: str | None = None
        self._phases: dict[str, PhaseStats] = {}
        self._given: Counter = Counter()
        self._withheld: Counter = Counter()
        self._recent_strike: deque[float] = deque(maxlen=self.settings.strike_median_steps)
        # The rear camera's stances, per foot: the latest ones (judged by their median, as the
        # strike), and all of the warm-up's for the baseline.
        self._recent_frontal: dict[str, deque] = {f: deque(maxlen=self.settings.strike_median_steps) for f in ("left", "right")}
        self._warmup_frontal: list = []

    # ---- state ------------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self._t0 is not None

    @property
    def paused(self) -> bool:
        """The session clock is stopped (runner off the belt, button): no cues."""
        return self._paused_at is not None

    @property
    def ended(self) -> bool:
        return self._ended is not None

    @property
    def block(self) -> Block | None:
        """The current block (None before start and after the end)."""
        if self._block_index < 0 or self._ended:
            return None
        return self.blocks[self._block_index]

    def elapsed(self, t: float) -> float:
        """Session seconds at capture time ``t``, not counting pauses."""
        if self._t0 is None:
            return 0.0
        paused = self._paused_total + (t - self._paused_at if self._paused_at is not None else 0.0)
        return t - self._t0 - paused

    # ---- inputs -----------------------------------------------------------------------------
    def start(self, t: float) -> list[CoachEvent]:
        """Begin the session at capture time ``t``: the warm-up starts, cue-free."""
        if self._t0 is not None:
            raise CoachError("session already started")
        self._t0 = t
        out = [CoachEvent(ev.SESSION_STARTED, t, {
            "session": self.session.number, "run_minutes": self.session.run_minutes,
            "feedback_share": self.session.feedback_share, "blocks": [b.to_dict() for b in self.blocks],
        }), CoachEvent(ev.ANNOUNCE, t, {"prompt": "session_start"})]
        out += self._enter_block(0, t)
        return out

    def tick(self, t: float) -> list[CoachEvent]:
        """Advance to capture time ``t``: block changes, metronome and lights, the end and summary."""
        if self._t0 is None or self._ended or self._paused_at is not None:
            return []
        out: list[CoachEvent] = []
        elapsed = self.elapsed(t)
        while not self._ended and elapsed >= self.blocks[self._block_index].end_s:
            nxt = self._block_index + 1
            # The event time is when the boundary was crossed, not the (later) tick that noticed it.
            t_boundary = t - (elapsed - self.blocks[self._block_index].end_s)
            if nxt >= len(self.blocks):
                out += self._finish(t_boundary, "completed")
            else:
                out += self._enter_block(nxt, t_boundary)
        return out

    def on_step(self, step: Step) -> list[CoachEvent]:
        """Decide on one step (at its initial-contact time): cue, withhold (and why), light state."""
        if self._t0 is None:
            raise CoachError("on_step before start(): start the session first")
        out = self.tick(step.t_ic)
        block = self.block
        if block is None or self._paused_at is not None:
            return out
        stats = self._phases.setdefault(block.kind, PhaseStats())
        stats.steps += 1
        if step.valid and self._strike_steady(step) and not math.isnan(step.foot_strike_angle_deg):
            self._recent_strike.append(step.foot_strike_angle_deg)
        if block.kind == "warmup":
            if step.valid:
                stats.valid_steps += 1
                _add_cadence(stats, step)
                self._warmup_steps.append(step)
            return out
        t = step.t_ic
        if not step.valid:
            if block.kind == "feedback_on":
                out.append(self._withhold(t, "invalid_step", step))
            return out
        stats.valid_steps += 1
        _add_cadence(stats, step)
        outside: list[tuple[Band, float, str]] = []
        first_band: str | None = None
        for metric, band in self.bands.items():
            value, unjudged = self._judged_value(metric, step)
            verdict = band.judge(value)
            if verdict is None:
                if block.kind == "feedback_on":
                    out.append(self._withhold(t, unjudged, step, metric=metric))
                continue
            stats.judged[metric] += 1
            if verdict == "in":
                stats.in_band[metric] += 1
            else:
                outside.append((band, value, verdict))
            if first_band is None:
                first_band = verdict
                primary = metric
        if block.kind != "feedback_on":
            reason = "retention" if block.kind == "retention" else "feedback_off"
            for band, value, _verdict in outside:
                out.append(self._withhold(t, reason, step, band=band, value=value))
            return out
        for metric in self._unresolved:
            out.append(self._withhold(t, "no_target", step, metric=metric))
        if first_band is not None and first_band != self._light_band:
            self._light_band = first_band
            out.append(CoachEvent(ev.LIGHT_BAND, t, {"metric": primary, "band": first_band}))
        flagged = [b.metric for b, _v, _ in outside if b.metric in FLAG_METRICS]
        if flagged:
            out.append(CoachEvent(ev.LIGHT_FLAG, t, {"step_index": step.index, "metrics": flagged}))
        for i, (band, value, verdict) in enumerate(outside):
            prompt = band.prompt_for(value)
            if i > 0:
                out.append(self._withhold(t, "lower_priority", step, band=band, value=value, prompt=prompt))
            elif self.elapsed(t) - self.block.start_s < self.settings.block_grace_s:
                out.append(self._withhold(t, "block_start_grace", step, band=band, value=value, prompt=prompt))
            elif self._last_spoken_t is not None and t - self._last_spoken_t < self.settings.min_cue_interval_s:
                out.append(self._withhold(t, "rate_limited", step, band=band, value=value, prompt=prompt))
            else:
                self._last_spoken_t = t
                self._given[prompt] += 1
                out.append(CoachEvent(ev.CUE_GIVEN, t, {
                    "prompt": prompt, "metric": band.metric, "value": value, "band": verdict,
                    "step_index": step.index, **band.to_dict(),
                }))
        return out

    def on_frontal(self, step) -> None:
        """Take one stance measured by the rear camera (``appliance.frontal.FrontalStep``; it
        arrives after its toe-off). The next side-camera step of the same foot is judged on the
        median of that foot's latest stances."""
        if self._t0 is None or self._paused_at is not None or step.foot not in self._recent_frontal:
            return
        self._recent_frontal[step.foot].append(step)
        block = self.block
        if block is not None:
            self._phases.setdefault(block.kind, PhaseStats()).add_frontal(step)  # the summary's figures
        if block is not None and block.kind == "warmup":
            self._warmup_frontal.append(step)

    def pause(self, t: float) -> list[CoachEvent]:
        """Stop the session clock (runner stepped off, button pressed): silence until ``resume``."""
        if self._t0 is None or self._ended or self._paused_at is not None:
            return []
        out = self.tick(t)
        self._paused_at = t
        self._recent_strike.clear()  # the runner may come back landing differently
        for recent in self._recent_frontal.values():
            recent.clear()
        return out + [CoachEvent(ev.PAUSED, t, {}), CoachEvent(ev.METRONOME, t, {"bpm": None}),
                      CoachEvent(ev.LIGHTS, t, {"feedback": False})]

    def resume(self, t: float) -> list[CoachEvent]:
        """Restart the session clock where it stopped; the current block's cues come back."""
        if self._paused_at is None:
            return []
        self._paused_total += t - self._paused_at
        self._paused_at = None
        out = [CoachEvent(ev.RESUMED, t, {})]
        block = self.block
        if block is not None and block.kind == "feedback_on":
            out += self._feedback_on_events(t)
        return out + self.tick(t)

    def end(self, t: float) -> list[CoachEvent]:
        """End early (button held, runner gone): silence, then the summary of what was done."""
        if self._t0 is None or self._ended:
            return []
        return self._finish(t, "ended_early")

    # ---- outputs ----------------------------------------------------------------------------
    def on_target_share(self) -> float | None:
        """Share (0..1) of this session's judged steps with the primary (first-priority) target in
        band, as the coach judged them; None before any step was judged."""
        if not self.bands:
            return None
        metric = next(iter(self.bands))
        judged = sum(p.judged[metric] for p in self._phases.values())
        return sum(p.in_band[metric] for p in self._phases.values()) / judged if judged else None

    def summary(self) -> SessionSummary:
        """Figures so far (final after the end)."""
        return SessionSummary(self.session.number, self.session.run_minutes, self.session.feedback_share,
                              self.baseline, dict(self.bands), self._phases, Counter(self._given),
                              Counter(self._withheld), self._ended,
                              self.targets.frontal.measure if self.targets.frontal is not None else None)

    # ---- internals --------------------------------------------------------------------------
    def _judged_value(self, metric: str, step: Step) -> tuple[float, str]:
        """The value ``metric``'s band judges on this valid step, or NaN and the withhold reason.

        The strike is judged on the median angle of the last ``strike_median_steps`` steps: a
        runner changes strike over a few steps, and a single step's angle carries the pose
        model's foot noise. It is not judged at all while the foot's mid-stance angle wanders
        ``strike_max_spread_deg`` or more between steps: a cue then would be a cue on noise.
        """
        if metric == "frontal":
            return self._frontal_value(step.foot), "not_measured"
        value = metric_value(metric, step)
        if metric != "strike" or math.isnan(value):
            return value, "not_measured"
        if not self._strike_steady(step):
            return float("nan"), "strike_unsteady"
        return statistics.median(self._recent_strike), ""

    def _frontal_value(self, foot: str) -> float:
        """The median of the target's frontal measure over ``foot``'s latest rear-camera stances
        (NaN without any: no rear camera, or it lost the runner)."""
        if self.targets.frontal is None:
            return float("nan")
        key = FRONTAL_FIELDS[self.targets.frontal.measure]
        values = [getattr(s, key) for s in self._recent_frontal.get(foot, ())]
        return statistics.median(values) if values else float("nan")

    def _frontal_baseline(self) -> dict[str, float]:
        """Per frontal measure, the higher side's median over the warm-up's stances (a side needs
        MIN_FRONTAL_BASELINE_STEPS of them): the side a clinician retrains."""
        out = {}
        for measure, key in FRONTAL_FIELDS.items():
            sides = [statistics.median([getattr(s, key) for s in self._warmup_frontal if s.foot == foot])
                     for foot in ("left", "right")
                     if sum(s.foot == foot for s in self._warmup_frontal) >= MIN_FRONTAL_BASELINE_STEPS]
            if sides:
                out[measure] = max(sides)
        return out

    def _strike_steady(self, step: Step) -> bool:
        """Whether the step's strike angle is steady enough to judge (unknown spread counts as steady)."""
        return not step.strike_spread_deg >= self.settings.strike_max_spread_deg

    def _withhold(self, t: float, reason: str, step: Step, *, metric: str | None = None,
                  band: Band | None = None, value: float | None = None, prompt: str | None = None) -> CoachEvent:
        self._withheld[reason] += 1
        payload: dict = {"reason": reason, "step_index": step.index}
        if band is not None:
            payload.update(metric=band.metric, value=value, prompt=prompt or band.prompt_for(value))
        elif metric is not None:
            payload["metric"] = metric
        return CoachEvent(ev.CUE_WITHHELD, t, payload)

    def _feedback_on_events(self, t: float) -> list[CoachEvent]:
        out = [CoachEvent(ev.LIGHTS, t, {"feedback": True})]
        if "cadence" in self.bands:
            out.append(CoachEvent(ev.METRONOME, t, {"bpm": self.bands["cadence"].target}))
        self._light_band = None
        return out

    def _enter_block(self, index: int, t: float) -> list[CoachEvent]:
        previous = self.blocks[self._block_index] if self._block_index >= 0 else None
        self._block_index = index
        block = self.blocks[index]
        out: list[CoachEvent] = []
        if previous is not None and previous.kind == "warmup":
            out += self._measure_baseline(t)
        out.append(CoachEvent(ev.BLOCK_STARTED, t, {"index": index, "block": block.kind,
                                                    "start_s": block.start_s, "end_s": block.end_s}))
        out.append(CoachEvent(ev.ANNOUNCE, t, {"prompt": PHASE_PROMPTS[block.kind]}))
        if block.kind == "feedback_on":
            out += self._feedback_on_events(t)
        elif previous is None or previous.kind == "feedback_on":
            out += [CoachEvent(ev.METRONOME, t, {"bpm": None}), CoachEvent(ev.LIGHTS, t, {"feedback": False})]
        return out

    def _measure_baseline(self, t: float) -> list[CoachEvent]:
        steps = self._warmup_steps
        need = self.settings.min_baseline_steps

        def med(values: list[float]) -> float:
            finite = [v for v in values if not math.isnan(v)]
            return statistics.median(finite) if finite else float("nan")

        cadence = med([s.instant_cadence_spm if not math.isnan(s.instant_cadence_spm) else s.cadence_spm
                       for s in steps])
        payload: dict = {"steps": len(steps)}
        if len(steps) >= need:
            self.baseline = Baseline(len(steps), cadence, med([s.shank_angle_deg for s in steps]),
                                     med([s.foot_strike_angle_deg for s in steps]), self._frontal_baseline())
            payload.update(ok=True, cadence_spm=self.baseline.cadence_spm,
                           shank_angle_deg=self.baseline.shank_angle_deg,
                           foot_strike_angle_deg=self.baseline.foot_strike_angle_deg,
                           frontal_deg=self.baseline.frontal_deg)
        else:
            payload.update(ok=False, reason=f"{len(steps)} valid warm-up steps, {need} needed",
                           cadence_spm=None, shank_angle_deg=None, foot_strike_angle_deg=None)
        self.bands, self._unresolved = resolve(self.targets, self.baseline, self.gait)
        targets_payload = {m: b.to_dict() for m, b in self.bands.items()}
        targets_payload.update({m: {"unresolved": why} for m, why in self._unresolved.items()})
        return [CoachEvent(ev.BASELINE_MEASURED, t, payload), CoachEvent(ev.TARGETS_SET, t, targets_payload)]

    def _finish(self, t: float, reason: str) -> list[CoachEvent]:
        block = self.block
        out: list[CoachEvent] = []
        if block is not None and block.kind == "warmup" and not self.bands:
            out += self._measure_baseline(t)
        self._ended = reason
        self._paused_at = None
        out += [CoachEvent(ev.METRONOME, t, {"bpm": None}), CoachEvent(ev.LIGHTS, t, {"feedback": False}),
                CoachEvent(ev.SESSION_ENDED, t, {"reason": reason}),
                CoachEvent(ev.ANNOUNCE, t, {"prompt": "session_end"})]
        summary = self.summary()
        sentences = summary.sentences()
        out.append(CoachEvent(ev.SUMMARY, t, {"sentences": sentences, "text": " ".join(sentences),
                                              "spoken": self.settings.spoken_summary, "figures": summary.to_dict()}))
        return out


def _add_cadence(stats: PhaseStats, step: Step) -> None:
    if not math.isnan(step.cadence_spm):
        stats.cadences.append(step.cadence_spm)
