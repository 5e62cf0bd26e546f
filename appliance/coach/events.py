"""Coach events: every decision the coach makes, as a plain value the store can keep.

An event is ``CoachEvent(kind, t, payload)``: ``t`` is the capture time it refers to (a step's
initial contact, or the tick time of a phase change), ``payload`` a JSON-able dict. ``to_dict()``
gives ``{"kind", "t", **payload}``.

Kinds and their payloads:

- ``session_started``: session, run_minutes, feedback_share, blocks [{kind, start_s, end_s}]
- ``block_started``: index, block (warmup | feedback_on | feedback_off | retention), start_s, end_s
- ``baseline_measured``: steps, cadence_spm, shank_angle_deg, foot_strike_angle_deg (None if unmeasured),
  ok (False with ``reason`` when too few valid steps)
- ``targets_set``: per metric {target, lo, hi} (cadence in spm, angles in degrees)
- ``metronome``: bpm (None: silent)
- ``lights``: feedback (bool): light cues on or dark
- ``light_band``: metric, band (in | near | out)
- ``light_flag``: step_index, metrics (flagged step: flash)
- ``announce``: prompt (a spoken phase prompt: session_start, warmup, feedback_on, ...)
- ``cue_given``: prompt, metric, value, target, lo, hi, band, step_index
- ``cue_withheld``: reason, step_index, and metric/value/prompt when a cue was a candidate.
  Reasons: ``invalid_step`` (never cue a misdetected step), ``rate_limited`` (a spoken cue less
  than ``min_cue_interval_s`` ago), ``feedback_off`` (a faded block), ``retention``,
  ``not_measured`` (the metric is NaN on this step), ``no_target`` (no baseline for a relative target),
  ``lower_priority`` (another metric of the same step got the cue), ``block_start_grace`` (the first
  ``block_grace_s`` of a feedback block: time to find the beat), ``strike_unsteady`` (the foot's
  mid-stance angle wanders ``strike_max_spread_deg`` or more between steps: strike angles are noise)
- ``paused`` / ``resumed``
- ``session_ended``: reason (completed | ended_early)
- ``summary``: sentences [str], text, figures {...}
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SESSION_STARTED = "session_started"
BLOCK_STARTED = "block_started"
BASELINE_MEASURED = "baseline_measured"
TARGETS_SET = "targets_set"
METRONOME = "metronome"
LIGHTS = "lights"
LIGHT_BAND = "light_band"
LIGHT_FLAG = "light_flag"
ANNOUNCE = "announce"
CUE_GIVEN = "cue_given"
CUE_WITHHELD = "cue_withheld"
PAUSED = "paused"
RESUMED = "resumed"
SESSION_ENDED = "session_ended"
SUMMARY = "summary"


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 4)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class CoachEvent:
    """One decision or state change of the coach at capture time ``t``."""

    kind: str
    t: float
    payload: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: NaN becomes None, floats are rounded to 4 decimals."""
        return {"kind": self.kind, "t": round(self.t, 6), **_jsonable(self.payload)}
