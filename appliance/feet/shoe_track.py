"""Where each shoe is, followed by its own pixels and checked against the pose's landmarks.

The pose model loses the feet now and then on real side views: it draws the far leg on the near
one, swaps left and right, or puts a foot at knee height for tens of frames. A shoe's box placed by
such landmarks would measure the wrong pixels. So each of the two tracks follows its shoe by the
shoe's measured motion, and takes the landmarks' placement only where they agree with it (within
``GATE`` shoe lengths); landmarks that disagree for ``REACQUIRE_S`` on end, or a track whose shoe
cannot be measured for ``LOST_S``, start the track afresh from the landmarks. So does a track whose
pixels stand still for ``STILL_S``: a shoe on a running treadmill never does (it is carried by the
belt or swings, and passes through standing still only at a swing's turn, for ~10-20 ms), so such a
track has slipped off its shoe onto the static scene (the treadmill's frame, the wall), which the
pixels follow perfectly well.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from appliance.feet.motion import STILL_SHOE_PER_S

GATE = 1.2  # shoe lengths: farther from where its pixels took it is a landmark glitch, not the shoe
REACQUIRE_S = 0.25
LOST_S = 0.15
STILL_S = 0.1  # s: over twice a swing's turn through standing still (its velocity changes by twice the belt's in ~0.1 s)
KEEP = 32


@dataclass(frozen=True, slots=True)
class Shoe:
    """A shoe's heel, toe and ankle points (px) and its length (px); ``side`` is the pose's label
    of the leg it came from (None once followed by pixels alone)."""

    heel: np.ndarray
    toe: np.ndarray
    ankle: np.ndarray
    length: float
    side: str | None = None

    @property
    def centre(self) -> np.ndarray:
        return 0.5 * (self.heel + self.toe)

    def moved(self, shift: np.ndarray) -> Shoe:
        return Shoe(self.heel + shift, self.toe + shift, self.ankle + shift, self.length, None)

    def distance(self, other: Shoe) -> float:
        return float(np.hypot(*(self.centre - other.centre)))


class ShoeTrack:
    """One shoe's positions by frame index, its own pixels first (see the module docstring)."""

    def __init__(self) -> None:
        self._at: deque[tuple[int, float, Shoe, np.ndarray | None]] = deque(maxlen=KEEP)  # + velocity px/s
        self._disagree_since = math.inf
        self._unmeasured_since = math.inf
        self._still_since = math.inf

    def at(self, frame_index: int) -> Shoe | None:
        for index, _, shoe, _ in reversed(self._at):
            if index == frame_index:
                return shoe
        return None

    def followed(self, frame_index: int, t: float) -> Shoe | None:
        """Where the shoe was at ``frame_index`` (time ``t``): the newest placement moved back by
        its measured velocity. At high frame rates the stage measures over a baseline of several
        frames; taking that older frame's own record instead would split the track into one chain
        per residue of the frame index (at 240 fps four, one of them on the scene behind the shoe)."""
        if not self._at:
            return None
        index, t_new, shoe, velocity = self._at[-1]
        if index <= frame_index or velocity is None:
            return self.at(frame_index)
        return shoe.moved(-velocity * (t_new - t))

    def choose(self, t: float, followed: Shoe | None, seen: Shoe | None) -> Shoe | None:
        """The shoe to measure at time ``t``: where this track followed it to, or the landmarks'
        ``seen`` placement where they agree with it or the track has to start afresh."""
        if followed is None:
            return seen
        if seen is not None and t - self._still_since >= STILL_S:
            self._still_since = self._disagree_since = math.inf
            return seen
        if seen is not None and followed.distance(seen) <= GATE * followed.length:
            self._disagree_since = math.inf
            return seen
        if seen is not None:
            self._disagree_since = min(self._disagree_since, t)
            if t - self._disagree_since >= REACQUIRE_S:
                self._disagree_since = math.inf
                return seen
        return followed

    def record(self, frame_index: int, t: float, shoe: Shoe | None, measured: bool,
               velocity: tuple[float, float] | None = None) -> None:
        """Where the shoe is at ``frame_index`` (None: the track is lost); ``velocity`` (px/s) is its
        measured one, when ``measured``."""
        speed = float(np.hypot(*velocity)) if velocity is not None else math.nan
        if measured:
            self._unmeasured_since = math.inf
            still = shoe is not None and speed < STILL_SHOE_PER_S * shoe.length
            self._still_since = min(self._still_since, t) if still else math.inf
        elif shoe is not None:
            self._unmeasured_since = min(self._unmeasured_since, t)
            if t - self._unmeasured_since >= LOST_S:
                shoe, self._unmeasured_since = None, math.inf
        if shoe is None:
            self._at.clear()
            self._disagree_since = self._still_since = math.inf
            return
        self._at.append((frame_index, t, shoe, np.asarray(velocity, np.float64) if measured and velocity else None))


def assign(followed: list[Shoe | None], seen: list[Shoe]) -> list[Shoe | None]:
    """The landmarks' shoes matched to the tracks' followed shoes (two of each at most), by the
    least total distance; a track without a shoe takes what is left."""
    out: list[Shoe | None] = [None, None]
    if not seen:
        return out
    if len(seen) == 1:
        d = [followed[k].distance(seen[0]) if followed[k] is not None else math.inf for k in (0, 1)]
        k = int(np.argmin(d)) if math.isfinite(min(d)) else (0 if followed[0] is None else 1)
        out[k] = seen[0]
        return out
    def cost(a: Shoe | None, b: Shoe) -> float:
        return a.distance(b) if a is not None else 0.0
    straight = cost(followed[0], seen[0]) + cost(followed[1], seen[1])
    swapped = cost(followed[0], seen[1]) + cost(followed[1], seen[0])
    return [seen[0], seen[1]] if straight <= swapped else [seen[1], seen[0]]
