"""What a session achieved, per block kind, and the few sentences the runner hears at the end.

With a rear camera the summary also holds the frontal measures of its stances per side (the
median of each stance's peak pelvic drop, hip adduction and knee angle, and of the foot's place
from the pelvis midline), said at the end as e.g. "Hip adduction, left 11, right 8 degrees; limit
9." for the retraining blocks' stances (all the session's when it had none), and kept per block
kind for the printed report.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field

from appliance.coach.targets import FRONTAL_FIELDS, Band, Baseline

FOOT_SIDES = ("left", "right")
# Every frontal measure of a stance (appliance.frontal.FrontalStep's fields): the peaks in degrees
# and the foot's place at mid-stance in hip widths.
FRONTAL_KEYS = ("pelvic_drop_deg", "hip_adduction_deg", "knee_fppa_deg", "foot_lateral_hw")
FRONTAL_WORDS = {"hip_adduction": "Hip adduction", "pelvic_drop": "Pelvic drop", "knee_fppa": "Knee angle"}
SPOKEN_FRONTAL = ("hip_adduction", "pelvic_drop")  # said at the end; a target's measure is said too


@dataclass(slots=True)
class PhaseStats:
    """Valid-step figures of one kind of block (feedback_on, feedback_off, retention, warmup)."""

    steps: int = 0
    valid_steps: int = 0
    cadences: list[float] = field(default_factory=list)
    judged: Counter = field(default_factory=Counter)  # metric -> steps with a value
    in_band: Counter = field(default_factory=Counter)  # metric -> steps in band
    # The rear camera's stances: foot -> measure (FRONTAL_KEYS) -> each stance's value.
    frontal: dict[str, dict[str, list[float]]] = field(
        default_factory=lambda: {foot: {k: [] for k in FRONTAL_KEYS} for foot in FOOT_SIDES})

    def cadence_spm(self) -> float:
        return statistics.median(self.cadences) if self.cadences else float("nan")

    def add_frontal(self, step) -> None:
        """Keep one rear-camera stance's measures (an ``appliance.frontal.FrontalStep``)."""
        if step.foot not in self.frontal:
            return
        for key in FRONTAL_KEYS:
            value = float(getattr(step, key))
            if not math.isnan(value):
                self.frontal[step.foot][key].append(value)

    def frontal_stances(self, foot: str) -> int:
        return len(self.frontal[foot]["hip_adduction_deg"])

    def frontal_medians(self) -> dict[str, dict]:
        """Per foot, the stances counted and each measure's median over them (None without any)."""
        return {foot: {"stances": self.frontal_stances(foot),
                       **{k: (round(statistics.median(v), 2) if v else None) for k, v in self.frontal[foot].items()}}
                for foot in FOOT_SIDES}

    def on_target_pct(self, metric: str) -> float:
        n = self.judged[metric]
        return 100.0 * self.in_band[metric] / n if n else float("nan")

    def to_dict(self) -> dict:
        return {
            "steps": self.steps,
            "valid_steps": self.valid_steps,
            "cadence_spm": self.cadence_spm(),
            "on_target_pct": {m: self.on_target_pct(m) for m in self.judged},
            **({"frontal": self.frontal_medians()} if any(self.frontal_stances(f) for f in FOOT_SIDES) else {}),
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
    frontal_measure: str | None = None  # the frontal target's measure; None: no frontal target

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
            for foot in FOOT_SIDES:
                for key in FRONTAL_KEYS:
                    out.frontal[foot][key] += p.frontal[foot][key]
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
        out += self.frontal_sentences()
        if not out:
            out.append("Not enough steps were measured for a summary.")
        return out

    def frontal_stats(self) -> tuple[str, PhaseStats]:
        """The stances the frontal figures are said for: ("retraining", the feedback blocks') when
        they had any, else ("session", all blocks')."""
        trained = self.retraining()
        if any(trained.frontal_stances(f) for f in FOOT_SIDES):
            return "retraining", trained
        return "session", self._combined(tuple(self.phases))

    def frontal_limit_deg(self) -> float | None:
        """The frontal band's upper limit (degrees of the target's measure); None without one."""
        band = self.bands.get("frontal")
        return band.hi if band is not None and self.frontal_measure is not None else None

    def frontal_sentences(self) -> list[str]:
        """Per frontal measure, each side's median peak, e.g. "Hip adduction, left 11, right 8
        degrees; limit 9." (the limit for the target's measure); none without rear-camera stances."""
        _, stats = self.frontal_stats()
        medians = stats.frontal_medians()
        if not any(medians[f]["stances"] for f in FOOT_SIDES):
            return []
        measures = list(SPOKEN_FRONTAL)
        if self.frontal_measure is not None and self.frontal_measure not in measures:
            measures.append(self.frontal_measure)
        limit = self.frontal_limit_deg()
        out = []
        for measure in measures:
            key = FRONTAL_FIELDS[measure]
            sides = [f"{foot} {round(medians[foot][key])}" for foot in FOOT_SIDES if medians[foot][key] is not None]
            sentence = f"{FRONTAL_WORDS[measure]}, {', '.join(sides)} degrees"
            if measure == self.frontal_measure and limit is not None:
                sentence += f"; limit {round(limit)}"
            out.append(sentence + ".")
        return out

    def frontal_dict(self) -> dict | None:
        """The frontal figures for the report: the target's measure and limit, each side's medians
        over the whole session and over the stances the sentences were said for; None without
        rear-camera stances."""
        every = self._combined(tuple(self.phases)).frontal_medians()
        if not any(every[f]["stances"] for f in FOOT_SIDES):
            return None
        said_for, stats = self.frontal_stats()
        return {"measure": self.frontal_measure, "limit_deg": self.frontal_limit_deg(), "session": every,
                "said_for": said_for, "said": stats.frontal_medians()}

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
            "frontal": self.frontal_dict(),
            "sentences": self.sentences(),
        }


def _pct(value: float) -> int:
    return 0 if math.isnan(value) else round(value)
