"""The belt's velocity in the image, from the feet it carries.

A belt moves at constant speed, and a foot on it moves with it for most of its stance (~35-40 % of
each foot's samples in running), while in swing a foot's velocity sweeps through a wide range.
So the belt's velocity is where the feet's velocities dwell: the densest cluster of the recent
samples, among those moving at least a slow walking belt's speed, backwards. A swinging foot's
velocity dwells too, at its forward peak (about the belt's speed the other way), so only samples
moving from toe to heel count: the belt carries the feet backwards.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from appliance.feet.tuning import FEET_TUNING, BeltMotionTuning


class BeltMotion:
    """The belt's image velocity (px/s, as (vx, vy)) from foot velocities.

    >>> belt = BeltMotion()
    >>> belt.add(t, (vx, vy), shoe_len_px)   # every foot motion measured
    >>> belt.velocity(t)                      # None until it is clear
    """

    def __init__(self, tuning: BeltMotionTuning = FEET_TUNING.belt_motion):
        self.tuning = tuning
        self.window_s = tuning.window_s
        self._samples: deque[tuple[float, float, float, float, float]] = deque()  # t, vx, vy, shoe length, forward
        self._cache: tuple[float, np.ndarray | None] = (-math.inf, None)

    def add(self, t: float, velocity: tuple[float, float], shoe_len_px: float, forward: float = 0.0) -> None:
        """``forward``: the shoe's heel-to-toe direction along the image's x (its toe's x minus its
        heel's; 0: unknown)."""
        self._samples.append((t, velocity[0], velocity[1], shoe_len_px, forward))
        while self._samples and self._samples[0][0] < t - self.window_s:
            self._samples.popleft()

    def velocity(self, now: float) -> np.ndarray | None:
        """The belt's (vx, vy) in px/s, or None while too few feet have been seen on it."""
        if now - self._cache[0] < self.tuning.refresh_s:
            return self._cache[1]
        self._cache = (now, self._estimate())
        return self._cache[1]

    def _estimate(self) -> np.ndarray | None:
        min_samples = self.tuning.min_samples
        if len(self._samples) < min_samples:
            return None
        a = np.asarray(self._samples)
        v, shoe = a[:, 1:3], float(np.median(a[:, 3]))
        speed = np.hypot(v[:, 0], v[:, 1])
        # A belt runs along the image's horizontal, give or take a camera's tilt, from toe to heel.
        keep = (speed >= self.tuning.min_shoe_per_s * shoe) & (np.abs(v[:, 1]) < 0.5 * np.abs(v[:, 0]))
        facing = np.sign(np.median(a[:, 4]))
        if facing:
            keep &= v[:, 0] * facing < 0
        v = v[keep]
        if len(v) < min_samples // 2:
            return None
        # The densest velocity: each sample's neighbours within the cluster radius of its speed.
        d = np.hypot(v[:, None, 0] - v[None, :, 0], v[:, None, 1] - v[None, :, 1])
        radius = self.tuning.cluster_radius * np.hypot(v[:, 0], v[:, 1])
        counts = (d <= radius[:, None]).sum(axis=1)
        best = int(np.argmax(counts))
        members = d[best] <= radius[best]
        if members.sum() < min_samples // 2:
            return None
        return np.median(v[members], axis=0)
