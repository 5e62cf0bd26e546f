"""Where each shoe is, followed by its own pixels and checked against the pose's landmarks.

The pose model loses the feet now and then on real side views: it draws the far leg on the near
one, swaps left and right, or puts a foot at knee height for tens of frames. A shoe's box placed by
such landmarks would measure the wrong pixels. So each of the two tracks follows its shoe by the
shoe's measured motion, and takes the landmarks' placement only where they agree with it (within
``gate`` shoe lengths: ``ShoeTrackTuning``); landmarks that disagree for ``reacquire_s`` on end,
or a track whose shoe cannot be measured for ``lost_s``, start the track afresh from the
landmarks. So does a track whose pixels stand still for ``still_s``: a shoe on a running treadmill never does (it is carried by the
belt or swings, and passes through standing still only at a swing's turn, for ~10-20 ms), so such a
track has slipped off its shoe onto the static scene (the treadmill's frame, the wall), which the
pixels follow perfectly well.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from appliance.feet.tuning import FEET_TUNING, ShoeTrackTuning


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

    def __init__(self, tuning: ShoeTrackTuning = FEET_TUNING.shoe_track,
                 still_shoe_per_s: float = FEET_TUNING.motion.still_shoe_per_s) -> None:
        """``still_shoe_per_s``: slower than this, a shoe's pixels stand still (MotionTuning)."""
        self.tuning = tuning
        self.still_shoe_per_s = still_shoe_per_s
        self._at: deque[tuple[int, float, Shoe, np.ndarray | None]] = deque(maxlen=tuning.keep_frames)  # + velocity px/s
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
        if seen is not None and t - self._still_since >= self.tuning.still_s:
            self._still_since = self._disagree_since = math.inf
            return seen
        if seen is not None and followed.distance(seen) <= self.tuning.gate * followed.length:
            self._disagree_since = math.inf
            return seen
        if seen is not None:
            self._disagree_since = min(self._disagree_since, t)
            if t - self._disagree_since >= self.tuning.reacquire_s:
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
            still = shoe is not None and speed < self.still_shoe_per_s * shoe.length
            self._still_since = min(self._still_since, t) if still else math.inf
        elif shoe is not None:
            self._unmeasured_since = min(self._unmeasured_since, t)
            if t - self._unmeasured_since >= self.tuning.lost_s:
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
