"""The retraining programme across sessions, and the block plan within one session.

Default (DOMAIN.md, the Davis-lab protocol with our operationalisation): 8 sessions over about two
weeks, run time growing from 15 to 30 minutes, feedback during 100 % of the retraining time in
sessions 1-4, then 75, 50, 25 and 0 % in sessions 5-8. The clinician may edit every number.

Within a session (``plan_session``): a cue-free warm-up that measures the baseline, then the
retraining time as alternating feedback-on / feedback-off blocks (each at least
``min_block_minutes``, starting with feedback on) whose on-share is the session's feedback share,
then a cue-free retention block. Run time includes warm-up and retention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_RUN_MINUTES = (15, 17, 19, 21, 24, 26, 28, 30)  # linear 15 -> 30, whole minutes (ours)
DEFAULT_FEEDBACK_SHARE = (1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0)
DEFAULT_DAYS = (0, 2, 4, 7, 9, 11, 14, 16)  # about four sessions a week (ours)

BlockKind = Literal["warmup", "feedback_on", "feedback_off", "retention"]


class SessionPlan(BaseModel):
    """One session of a programme."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    number: int = Field(ge=1, le=100, description="1-based session number")
    run_minutes: float = Field(ge=2, le=120, description="Total running time incl. warm-up and retention")
    feedback_share: float = Field(ge=0, le=1, description="Share of the retraining time with feedback on")
    day: int = Field(0, ge=0, le=365, description="Day of the programme (0: first session)")


class Programme(BaseModel):
    """An ordered list of sessions."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    name: str = "default"
    sessions: list[SessionPlan] = Field(min_length=1)

    @model_validator(mode="after")
    def _numbered(self) -> Programme:
        numbers = [s.number for s in self.sessions]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"programme sessions must be numbered 1..{len(numbers)} in order, got {numbers}")
        return self

    def day_order_problem(self) -> tuple[int, str] | None:
        """What is wrong with the order of the sessions' days, for the panel to refuse the programme:
        (index of the first session out of order, the reason in plain words), or None.

        Each session comes on a later day than the one before it: days that go backwards, or two
        sessions on one day, are a typing slip (the protocol spaces sessions a day or more apart).
        A programme whose days are all 0 has no schedule and is accepted: ``day`` defaults to 0 and
        programmes stored before days existed have none. Not part of the model's validation, so
        that such a stored programme still loads; the panel checks it on every change."""
        days = [s.day for s in self.sessions]
        if not any(days):
            return None
        for i in range(1, len(days)):
            if days[i] < days[i - 1]:
                return i, (f"must not be before session {i}'s day ({days[i - 1]}): days count from the first "
                           "session and go forward")
            if days[i] == days[i - 1]:
                return i, f"must be later than session {i}'s day ({days[i - 1]}): one session a day at most"
        return None

    def session(self, number: int) -> SessionPlan:
        """Session ``number`` (1-based); past the end, the last session repeats (maintenance)."""
        if number < 1:
            raise ValueError(f"session number {number} must be >= 1")
        return self.sessions[min(number, len(self.sessions)) - 1]


def default_programme() -> Programme:
    """8 sessions over ~2 weeks, 15 -> 30 min, feedback 100 % x4 then 75/50/25/0 %."""
    return Programme(
        name="default (faded, 8 sessions)",
        sessions=[
            SessionPlan(number=i + 1, run_minutes=m, feedback_share=f, day=d)
            for i, (m, f, d) in enumerate(zip(DEFAULT_RUN_MINUTES, DEFAULT_FEEDBACK_SHARE, DEFAULT_DAYS, strict=True))
        ],
    )


@dataclass(frozen=True, slots=True)
class Block:
    """A stretch of a session, in seconds from its start."""

    kind: BlockKind
    start_s: float
    end_s: float

    @property
    def seconds(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict:
        return {"kind": self.kind, "start_s": self.start_s, "end_s": self.end_s}


class PlanError(ValueError):
    """A session that cannot be laid out (too short for warm-up, retention and one block)."""


def plan_session(session: SessionPlan, warmup_minutes: float = 3.0, retention_minutes: float = 2.0,
                 min_block_minutes: float = 1.0) -> list[Block]:
    """The blocks of one session; boundaries in whole seconds, on-share exact to the second per block.

    The retraining time R is cut into n equal cycles (feedback on, then off) with n as large as
    possible while both parts stay at least ``min_block_minutes`` long.
    """
    warm = round(warmup_minutes * 60)
    keep = round(retention_minutes * 60)
    total = round(session.run_minutes * 60)
    retrain = total - warm - keep
    min_block = min_block_minutes * 60
    if retrain < min_block:
        raise PlanError(
            f"session {session.number}: {session.run_minutes} min leaves {retrain / 60:.1f} min after "
            f"{warmup_minutes} min warm-up and {retention_minutes} min retention; need at least {min_block_minutes} min"
        )
    blocks = [Block("warmup", 0, warm)]
    share = session.feedback_share
    if share >= 1.0 or share <= 0.0:
        blocks.append(Block("feedback_on" if share >= 1.0 else "feedback_off", warm, warm + retrain))
    else:
        cycle_min = min_block / min(share, 1.0 - share)
        n = max(1, math.floor(retrain / cycle_min))
        cycle = retrain / n
        for i in range(n):
            start = warm + round(i * cycle)
            switch = warm + round(i * cycle + share * cycle)
            end = warm + round((i + 1) * cycle)
            blocks.append(Block("feedback_on", start, switch))
            blocks.append(Block("feedback_off", switch, end))
    blocks.append(Block("retention", warm + retrain, total))
    return blocks


def feedback_share_of(blocks: list[Block]) -> float:
    """Share of the retraining time (between warm-up and retention) with feedback on."""
    on = sum(b.seconds for b in blocks if b.kind == "feedback_on")
    off = sum(b.seconds for b in blocks if b.kind == "feedback_off")
    return on / (on + off) if on + off else 0.0
