"""What a session achieved, per block kind, and the few sentences the runner hears at the end."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field

from appliance.coach.targets import Band, Baseline


@dataclass(slots=True)
class PhaseStats:
    """Valid-step figures of one kind of block (feedback_on, feedback_off, retention, warmup)."""

    steps: int = 0
    valid_steps: int = 0
    cadences: list[float] = field(default_factory=list)
    judged: Counter = field(default_factory=Counter)  # metric -> steps with a value
    in_band: Counter = field(default_factory=Counter)  # metric -> steps in band

    def cadence_spm(self) -> float:
        return statistics.median(self.cadences) if self.cadences else float("nan")

    def on_target_pct(self, metric: str) -> float:
        n = self.judged[metric]
        return 100.0 * self.in_band[metric] / n if n else float("nan")

    def to_dict(self) -> dict:
        return {
            "steps": self.steps,
            "valid_steps": self.valid_steps,
            "cadence_spm": self.cadence_spm(),
            "on_target_pct": {m: self.on_target_pct(m) for m in self.judged},
        }


@dataclass(slots=True)
class SessionSummary:
    """Figures of a session so far; ``sentences()`` is what the appliance says at the end."""

    session: int
    run_minutes: float
    feedback_share: float
    baseline: Baseline | None
    bands: dict[str, Band]
    phases: dict[str, PhaseStats]
    cues_given: Counter
    cues_withheld: Counter
    ended: str | None = None

    def _combined(self, kinds: tuple[str, ...]) -> PhaseStats:
        out = PhaseStats()
        for k in kinds:
            p = self.phases.get(k)
            if p is None:
                continue
            out.steps += p.steps
            out.valid_steps += p.valid_steps
            out.cadences += p.cadences
            out.judged.update(p.judged)
            out.in_band.update(p.in_band)
        return out

    def retraining(self) -> PhaseStats:
        """Feedback-on and -off blocks together."""
        return self._combined(("feedback_on", "feedback_off"))

    def sentences(self) -> list[str]:
        """Short spoken sentences: cadence and on-target share, then retention, then other metrics."""
        out: list[str] = []
        trained = self.retraining()
        kept = self._combined(("retention",))
        if "cadence" in self.bands and trained.cadences:
            out.append(
                f"Cadence {round(trained.cadence_spm())}, on target {_pct(trained.on_target_pct('cadence'))} percent."
            )
            if kept.cadences:
                out.append(f"Without cues, cadence {round(kept.cadence_spm())}.")
        for metric, words in (("overstride", "Overstride"), ("strike", "Foot strike"), ("frontal", "Knees and hips")):
            if metric in self.bands and trained.judged[metric]:
                out.append(f"{words} on target {_pct(trained.on_target_pct(metric))} percent.")
        if not out:
            out.append("Not enough steps were measured for a summary.")
        return out

    def to_dict(self) -> dict:
        b = self.baseline
        return {
            "session": self.session,
            "run_minutes": self.run_minutes,
            "feedback_share": self.feedback_share,
            "ended": self.ended,
            "baseline": None if b is None else {
                "steps": b.steps, "cadence_spm": b.cadence_spm, "shank_angle_deg": b.shank_angle_deg,
                "foot_strike_angle_deg": b.foot_strike_angle_deg, "frontal_deg": dict(b.frontal_deg),
            },
            "targets": {m: band.to_dict() for m, band in self.bands.items()},
            "phases": {k: p.to_dict() for k, p in self.phases.items()},
            "retraining": self.retraining().to_dict(),
            "cues_given": dict(self.cues_given),
            "cues_withheld": dict(self.cues_withheld),
            "sentences": self.sentences(),
        }


def _pct(value: float) -> int:
    return 0 if math.isnan(value) else round(value)
