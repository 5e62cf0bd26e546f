"""What the runner is retraining toward: cadence, foot-strike pattern, overstride, each with a band.

Targets are per runner (stored with the runner, edited by the clinician). Relative targets are
resolved against the baseline measured in the session's warm-up: ``Targets.resolve(baseline)``
gives the ``Band`` of each metric, which ``Band.judge(value)`` turns into in / near / out.
Defaults are from DOMAIN.md (cadence +7.5 %, shank 10 deg or baseline + 3 deg); the strike band's
limits are the strike classes' own thresholds (``gait.rearfoot_above_deg`` and
``gait.forefoot_below_deg``, Altman & Davis 2012 by default), so a clinician who moves a class
limit moves the coach's band with it. The band widths are ours and editable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from appliance.config import GaitSettings
from appliance.types import Step


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CadenceTarget(_Model):
    """Step rate: the baseline plus ``increase_pct``, or ``absolute_spm``; in band within ``tolerance_spm``."""

    increase_pct: float | None = Field(7.5, ge=0, le=20, description="Increase over the warm-up baseline (5, 7.5, 10 %)")
    absolute_spm: float | None = Field(None, ge=120, le=220, description="A fixed target instead of a relative one")
    tolerance_spm: float = Field(3.0, gt=0, le=20, description="Half-width of the in-band range")

    @model_validator(mode="after")
    def _one_kind(self) -> CadenceTarget:
        if self.increase_pct is None and self.absolute_spm is None:
            raise ValueError("cadence target needs increase_pct or absolute_spm")
        return self


class StrikeTarget(_Model):
    """Foot-strike pattern: land ``midfoot`` (or forefoot) or ``forefoot``; ``tolerance_deg`` of slack."""

    aim: Literal["midfoot", "forefoot"] = Field("midfoot", description="midfoot: no rearfoot strikes; forefoot: forefoot only")
    tolerance_deg: float = Field(0.0, ge=0, le=10, description="Extra foot-strike angle allowed above the class limit")


class OverstrideTarget(_Model):
    """Overstride: shank angle at contact no more than ``max_shank_deg`` nor baseline + ``baseline_margin_deg``."""

    max_shank_deg: float = Field(10.0, ge=0, le=30, description="Shank angle to vertical at contact")
    baseline_margin_deg: float | None = Field(3.0, ge=0, le=15, description="Allowed excess over the runner's baseline")


FrontalMeasure = Literal["hip_adduction", "pelvic_drop", "knee_fppa"]
# Each frontal measure's FrontalStep field and its cue (Willy et al. 2012: "knees apart",
# "squeeze your buttocks"; the words are the clinic's to change).
FRONTAL_FIELDS = {"hip_adduction": "hip_adduction_deg", "pelvic_drop": "pelvic_drop_deg", "knee_fppa": "knee_fppa_deg"}
FRONTAL_PROMPTS = {"hip_adduction": "knees_apart", "pelvic_drop": "squeeze_glutes", "knee_fppa": "knees_apart"}


class FrontalTarget(_Model):
    """Medial collapse, seen by the rear camera: the chosen measure's peak in stance at most its
    warm-up baseline (the higher side's) minus ``reduction_deg``, with ``tolerance_deg`` of slack."""

    measure: FrontalMeasure = Field("hip_adduction", description="hip_adduction, pelvic_drop or knee_fppa")
    reduction_deg: float = Field(5.0, ge=0, le=15, description="Reduction from the warm-up baseline (Noehren 2011: about 5 deg)")
    tolerance_deg: float = Field(1.0, ge=0, le=10, description="Extra degrees allowed above the reduced limit")


class Targets(_Model):
    """The targets of one runner, in cueing priority order: cadence, overstride, strike, frontal."""

    cadence: CadenceTarget | None = Field(default_factory=CadenceTarget)
    overstride: OverstrideTarget | None = None
    strike: StrikeTarget | None = None
    frontal: FrontalTarget | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Targets:
        if self.cadence is None and self.overstride is None and self.strike is None and self.frontal is None:
            raise ValueError("targets: choose at least one of cadence, overstride, strike, frontal")
        return self


@dataclass(frozen=True, slots=True)
class Baseline:
    """Medians of the valid warm-up steps (NaN when unmeasured); ``frontal_deg`` per frontal measure
    the higher of the two sides' medians (absent without a rear camera)."""

    steps: int
    cadence_spm: float
    shank_angle_deg: float
    foot_strike_angle_deg: float
    frontal_deg: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Band:
    """One metric's band: ``lo <= value <= hi`` is in; within ``near`` of it is near; else out."""

    metric: str
    target: float
    lo: float
    hi: float
    near: float
    prompt_low: str | None  # the spoken cue when the value is below the band
    prompt_high: str | None  # ... and above it

    def judge(self, value: float) -> str | None:
        """``in``, ``near`` or ``out``; None when the value is NaN (not measured)."""
        if math.isnan(value):
            return None
        if self.lo <= value <= self.hi:
            return "in"
        gap = self.lo - value if value < self.lo else value - self.hi
        return "near" if gap <= self.near else "out"

    def prompt_for(self, value: float) -> str | None:
        return self.prompt_low if value < self.lo else self.prompt_high

    def to_dict(self) -> dict:
        return {"target": self.target, "lo": self.lo, "hi": self.hi}


METRIC_VALUE = {
    "cadence": lambda s: s.cadence_spm,
    "overstride": lambda s: s.shank_angle_deg,
    "strike": lambda s: s.foot_strike_angle_deg,
}


def metric_value(metric: str, step: Step) -> float:
    """The step's value of a targeted metric (NaN when unmeasured)."""
    value = METRIC_VALUE[metric](step)
    return float("nan") if value is None else float(value)


def resolve(targets: Targets, baseline: Baseline | None,
            gait: GaitSettings | None = None) -> tuple[dict[str, Band], dict[str, str]]:
    """The band of each target (priority order) and, for targets that cannot be resolved, why;
    ``gait`` gives the strike classes' thresholds (the defaults when None)."""
    gait = gait or GaitSettings()
    bands: dict[str, Band] = {}
    missing: dict[str, str] = {}
    if targets.cadence is not None:
        c = targets.cadence
        if c.absolute_spm is not None:
            target = c.absolute_spm
        elif baseline is not None and not math.isnan(baseline.cadence_spm):
            target = round(baseline.cadence_spm * (1 + c.increase_pct / 100.0), 1)
        else:
            target = None
            missing["cadence"] = "no baseline cadence from the warm-up"
        if target is not None:
            tol = c.tolerance_spm
            bands["cadence"] = Band("cadence", target, target - tol, target + tol, tol, "quick_feet", "follow_the_beat")
    if targets.overstride is not None:
        o = targets.overstride
        limit = o.max_shank_deg
        if o.baseline_margin_deg is not None and baseline is not None and not math.isnan(baseline.shank_angle_deg):
            limit = min(limit, baseline.shank_angle_deg + o.baseline_margin_deg)
        bands["overstride"] = Band("overstride", limit, -90.0, limit, 3.0, None, "shorter_steps")
    if targets.strike is not None:
        s = targets.strike
        base = gait.rearfoot_above_deg if s.aim == "midfoot" else gait.forefoot_below_deg
        limit = base + s.tolerance_deg
        prompt = "land_softer" if s.aim == "midfoot" else "land_ball_of_foot"
        bands["strike"] = Band("strike", limit, -90.0, limit, 4.0, None, prompt)
    if targets.frontal is not None:
        f = targets.frontal
        base = baseline.frontal_deg.get(f.measure, float("nan")) if baseline is not None else float("nan")
        if math.isnan(base):
            missing["frontal"] = "no frontal baseline from the warm-up (is the rear camera running?)"
        else:
            limit = round(base - f.reduction_deg + f.tolerance_deg, 1)
            bands["frontal"] = Band("frontal", limit, -90.0, limit, 3.0, None, FRONTAL_PROMPTS[f.measure])
    return bands, missing
