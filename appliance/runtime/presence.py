"""Is someone on the belt, and what are they doing: absent, standing, walking or running.

Decided from what the loop already has each tick: the gait tracker's own classification
(``GaitState.moving``, which tells walking from running by the flight phase) when given, else
whether the pose engine found a person and the steps the gait tracker emitted. A person seen without steps for ``still_after_s`` is standing;
with steps, the cadence and (when measured) the duty factor separate walking from running: walking
has a double-support phase (duty factor >= 0.5) and a low step rate, running has a flight phase.
Nobody seen for ``absent_after_s`` is absent, so one missed detection does not end anything.
All times are capture times.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from appliance.types import Step


@dataclass(frozen=True)
class PresenceSettings:
    absent_after_s: float = 1.0  # no pose for this long: the runner left the belt or the camera lost them
    still_after_s: float = 1.5  # a pose but no step for this long: standing
    running_min_cadence_spm: float = 140.0  # walking is ~100-130 steps/min on a treadmill, running ~150-190
    window_s: float = 3.0  # steps considered for the cadence and duty factor


class PresenceDetector:
    """Feed it every tick; ``state`` is one of absent, standing, walking, running."""

    def __init__(self, settings: PresenceSettings | None = None):
        self.settings = settings or PresenceSettings()
        self.state = "absent"
        self.since: float | None = None  # capture time the current state began
        self._last_pose_t: float | None = None
        self._steps: deque[Step] = deque()

    def update(self, t: float, pose_seen: bool, steps: list[Step] = (), gait_moving: str | None = None) -> str:
        """The state at capture time ``t``; ``gait_moving`` is the tracker's ``state.moving`` if known."""
        s = self.settings
        if pose_seen:
            self._last_pose_t = t
        for step in steps:
            self._steps.append(step)
        while self._steps and self._steps[0].t_ic < t - s.window_s:
            self._steps.popleft()
        if self._last_pose_t is None or t - self._last_pose_t >= s.absent_after_s:
            new = "absent"
            self._steps.clear()
        elif gait_moving in ("standing", "walking", "running"):
            new = gait_moving
        elif gait_moving == "absent" and self.state != "absent":
            new = self.state  # a short gap: hold until our own absence delay has passed
        elif not self._steps or t - self._steps[-1].t_ic >= s.still_after_s:
            new = "standing"
        else:
            new = "running" if self._looks_like_running() else "walking"
        if new != self.state or self.since is None:
            self.state = new
            self.since = t
        return self.state

    def held_for(self, t: float) -> float:
        """Seconds the current state has lasted at capture time ``t``."""
        return 0.0 if self.since is None else t - self.since

    def _looks_like_running(self) -> bool:
        steps = list(self._steps)
        if len(steps) < 2:
            # one step: go by its own cadence estimate
            cadence = steps[0].cadence_spm if steps else float("nan")
        else:
            dt = (steps[-1].t_ic - steps[0].t_ic) / (len(steps) - 1)
            cadence = 60.0 / dt if dt > 0 else float("nan")
        duties = [st.duty_factor for st in steps if math.isfinite(st.duty_factor)]
        if duties:
            duties.sort()
            if duties[len(duties) // 2] >= 0.5:
                return False
        return math.isfinite(cadence) and cadence >= self.settings.running_min_cadence_spm
