"""What a pose model gets wrong on a side view of a runner, injected into the simulated runner's
noise-free landmarks: Gaussian noise, dropouts, left/right label swaps, legs misplaced for a few
milliseconds (glitches), the far leg drawn straight out ahead (ghost legs), the stance leg drawn
onto the passing swing leg, and steps with low visibility. Rates and sizes are ``RunnerParams``'."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from appliance.landmarks import LEG_LANDMARKS, NUM_LANDMARKS

if TYPE_CHECKING:
    from appliance.sim.runner import RunnerParams

LEFT_LEG = LEG_LANDMARKS["left"]
RIGHT_LEG = LEG_LANDMARKS["right"]
LOW_VISIBILITY_S = 0.12  # a low-visibility step's legs are barely visible this long around its contact


class PoseErrors:
    """The pose model's errors over time, drawn from ``rng`` (shared with the runner's schedule, so a
    seed gives one recording); ``leg_px`` is the leg length in pixels."""

    def __init__(self, params: RunnerParams, rng: np.random.Generator, leg_px: float) -> None:
        self.params = params
        self.rng = rng
        self.leg_px = leg_px
        self._drop_until = -1.0
        self._swap_until = -1.0
        self._ghost_until = -1.0
        self._glitches: dict[tuple[int, ...], tuple[float, np.ndarray]] = {}

    def dropped(self, t: float, dt: float) -> bool:
        """Whether the frame at ``t`` has no pose (dropouts come in runs of 1-5 frames)."""
        if t < self._drop_until:
            return True
        if self.params.dropout_fraction > 0 and self.rng.random() < self.params.dropout_fraction / 3.0:
            self._drop_until = t + self.rng.integers(1, 6) * dt - 1e-9
            return True
        return False

    def apply(self, lm: np.ndarray, t: float, dt: float, contacts: list) -> None:
        """Turn the noise-free [33, 5] landmarks ``lm`` of the frame at ``t`` into what the pose
        model reports, in place; ``contacts`` are the runner's scheduled contacts."""
        p = self.params
        rng = self.rng
        lm[:, :2] += rng.normal(0.0, p.noise_leg_lengths * self.leg_px, (NUM_LANDMARKS, 2))
        lm[:, 3] = np.clip(lm[:, 3] + rng.normal(0, 0.01, NUM_LANDMARKS), 0, 1)
        for c in contacts:
            if c.low_visibility and abs(t - c.t_ic) < LOW_VISIBILITY_S:
                lm[list(LEFT_LEG[1:] + RIGHT_LEG[1:]), 3] = 0.25
        if p.swaps_per_min > 0 and t >= self._swap_until and rng.random() < p.swaps_per_min / 60.0 * dt:
            self._swap_until = t + rng.integers(2, 11) * dt - 1e-9
        if p.ghost_legs_per_min > 0 and t >= self._ghost_until and rng.random() < p.ghost_legs_per_min / 60.0 * dt:
            self._ghost_until = t + rng.uniform(0.03, 0.1)
        if t < self._ghost_until:
            self._draw_ghost_leg(lm)
        if p.leg_glitches_per_s > 0:
            self._glitch_legs(lm, t, dt)
        if p.stance_loss_fraction > 0:
            self._lose_stance_foot(lm, t, contacts)
        if t < self._swap_until:
            lm[list(LEFT_LEG) + list(RIGHT_LEG)] = lm[list(RIGHT_LEG) + list(LEFT_LEG)]

    def _glitch_legs(self, lm: np.ndarray, t: float, dt: float) -> None:
        """Shift a leg below the hip by one offset while it is glitched, starting glitches at
        ``leg_glitches_per_s`` per leg."""
        rng = self.rng
        for leg in (LEFT_LEG, RIGHT_LEG):
            until, offset = self._glitches.get(leg, (-1.0, None))
            if t >= until and rng.random() < self.params.leg_glitches_per_s * dt:
                # Started at a random instant since the previous frame: at 30 fps most glitches
                # end unseen between frames, as a time process does.
                angle = rng.uniform(0.0, 2 * math.pi)
                offset = rng.uniform(0.05, 0.3) * self.leg_px * np.array([math.cos(angle), math.sin(angle)])
                until = t - rng.uniform(0.0, dt) + rng.uniform(0.003, 0.025)
                self._glitches[leg] = (until, offset)
            if t < until:
                lm[list(leg[1:]), :2] += offset

    @staticmethod
    def _lose_stance_foot(lm: np.ndarray, t: float, contacts: list) -> None:
        """Draw the stance leg part of the way onto the swing leg while its contact's loss lasts."""
        for c in contacts:
            if c.lost is not None and c.lost[0] <= t < c.lost[1]:
                stance, swing = list(LEFT_LEG[1:]), list(RIGHT_LEG[1:])
                if c.foot == "right":
                    stance, swing = swing, stance
                lm[stance, :2] += c.lost[2] * (lm[swing, :2] - lm[stance, :2])

    def _draw_ghost_leg(self, lm: np.ndarray) -> None:
        """Replace the far leg's knee, ankle, heel and toe with a leg held straight out ahead of the
        hip at knee height (shank ~90 deg forward: a pose no runner takes)."""
        fwd = 1.0 if self.params.direction == "right" else -1.0
        leg = self.leg_px
        hip_i, knee, ankle, heel, toe = LEFT_LEG if self.params.direction == "left" else RIGHT_LEG
        hip = lm[hip_i, :2]
        lm[knee, :2] = hip + np.array([0.45 * fwd, 0.25]) * leg
        lm[ankle, :2] = lm[knee, :2] + np.array([0.45 * fwd, -0.02]) * leg
        lm[heel, :2] = lm[ankle, :2] + np.array([0.0, 0.05]) * leg
        lm[toe, :2] = lm[ankle, :2] + np.array([0.2 * fwd, -0.08]) * leg
