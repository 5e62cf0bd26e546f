"""The foot stage: the pixels around each foot, between the pose engine and the gait tracker.

Per frame, for each of the pose's two feet: the shoe's motion since the last frame from the
pixels (motion.py), its velocity relative to the belt's (belt_motion.py) and, from that, the
contact events touch, belt lock and release (events.py). The two feet are followed by continuity
of their shoes' positions, not by the pose model's left/right labels, so a label swap does not move
a foot's history onto the other foot.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from appliance.feet.belt_motion import BeltMotion
from appliance.feet.events import FootContactDetector, FootEvent
from appliance.feet.motion import FootMotion, measure_foot_motion
from appliance.feet.shoe_track import Shoe, ShoeTrack, assign
from appliance.feet.tuning import FEET_TUNING, FeetTuning
from appliance.landmarks import LEG_LANDMARKS
from appliance.types import Frame, Pose

TRACKS = ("A", "B")


@dataclass(frozen=True, slots=True)
class FootReading:
    """One foot track's reading in one frame: the shoe's centre (px) in the earlier frame of the
    pair, its motion (None: not measured) and its slip against the belt (NaN: unknown): the
    fastest point's of the shoe, translation and rotation (0: the whole shoe moves with the belt)."""

    centre: tuple[float, float] | None
    motion: FootMotion | None
    slip: float
    locked: bool
    side: str | None  # the pose's label for the leg read on this track in this frame
    sole_slip: float = math.nan  # the slip of the shoe's lowest point (the sole where it meets the belt)


@dataclass(frozen=True, slots=True)
class FootEvidence:
    """What the pixels say about the feet at one frame: ``belt_velocity`` (px/s, None until known),
    one reading per foot track, and the contact events confirmed at this frame (their times may
    lie a few frames back)."""

    t: float
    frame_index: int
    belt_velocity: tuple[float, float] | None
    feet: tuple[FootReading, FootReading]
    events: tuple[FootEvent, ...]


def _leg_points(lm: np.ndarray, side: str):
    hip, knee, ankle, heel, toe = (lm[int(i)] for i in LEG_LANDMARKS[side])
    return hip, knee, ankle, heel, toe


class FootStage:
    """Feet seen sharply: contact evidence from the pixels around both feet.

    >>> stage = FootStage()
    >>> for frame, pose in frames:
    ...     evidence = stage.update(frame, pose)
    ...     for event in evidence.events: ...
    """

    def __init__(self, tuning: FeetTuning = FEET_TUNING) -> None:
        self.tuning = tuning
        self._tune = tuning.stage
        self.belt = BeltMotion(tuning.belt_motion)
        self._detectors = [FootContactDetector(name, tuning.events) for name in TRACKS]
        self._tracks = [ShoeTrack(tuning.shoe_track, tuning.motion.still_shoe_per_s) for _ in TRACKS]
        self._recent: deque[tuple[Frame, list[Shoe]]] = deque(maxlen=self._tune.recent_frames)  # frames, pose's shoes
        self._legs: deque[float] = deque(maxlen=self._tune.leg_length_samples)
        self._last_velocity: list[tuple[float, np.ndarray] | None] = [None, None]  # per track: t, px/s

    def update(self, frame: Frame, pose: Pose | None) -> FootEvidence:
        prev = self._baseline(frame.t)
        now_seen = self._shoes(pose.landmarks) if pose is not None else []
        self._recent.append((frame, now_seen))
        readings = [FootReading(None, None, math.nan, d.locked, None) for d in self._detectors]
        if prev is None:
            return FootEvidence(frame.t, frame.index, self._belt(frame.t), tuple(readings), ())
        prev_frame, seen = prev
        followed = [track.followed(prev_frame.index, prev_frame.t) for track in self._tracks]
        matched = assign(followed, seen)
        belt = self.belt.velocity(frame.t)
        events: list[FootEvent] = []
        for k, track in enumerate(self._tracks):
            shoe = track.choose(frame.t, followed[k], matched[k])
            motion = None
            if shoe is not None:
                motion = measure_foot_motion(prev_frame.image, frame.image, prev_frame.t, frame.t,
                                             shoe.heel, shoe.toe, shoe.ankle, shoe.length,
                                             self._predictions(k, frame.t, belt),
                                             self._landmark_motion(matched[k], now_seen, frame.t - prev_frame.t),
                                             self.tuning.motion)
                self._last_velocity[k] = (frame.t, np.asarray(motion.velocity)) if motion else self._last_velocity[k]
            slip, sole = math.nan, None
            if motion is not None:
                self.belt.add(motion.t, motion.velocity, shoe.length, float(shoe.toe[0] - shoe.heel[0]))
                if belt is not None:
                    speed = max(float(np.hypot(*belt)), 1e-9)
                    # The shoe's fastest point relative to the belt: its centre's slip plus its
                    # rotation's speed at a half shoe length from the centre.
                    slip = float(np.hypot(*(np.asarray(motion.velocity) - belt))
                                 + 0.5 * shoe.length * abs(motion.angular_velocity)) / speed
                    sole = (np.asarray(motion.low_velocity) - belt) / speed
                track.record(frame.index, frame.t, shoe.moved(np.asarray(motion.velocity) * (frame.t - prev_frame.t)), True,
                             motion.velocity)
            else:
                track.record(frame.index, frame.t, shoe, False)
            found = self._detectors[k].add(motion.t if motion else frame.t, slip, sole,
                                           motion.dt if motion else 0.0)
            if shoe is not None:
                c = shoe.centre
                found = [replace(e, centre=(float(c[0]), float(c[1]))) for e in found]
                readings[k] = FootReading((float(c[0]), float(c[1])), motion, slip, self._detectors[k].locked, shoe.side,
                                          math.nan if sole is None else float(np.hypot(*sole)))
            events += found
        return FootEvidence(frame.t, frame.index, self._belt(frame.t), tuple(readings), tuple(events))

    def _predictions(self, k: int, t: float, belt: np.ndarray | None) -> list[tuple[float, float]]:
        """Velocities track ``k``'s shoe may be moving at: its last one (if recent: a foot's velocity
        changes completely within a swing's quarter, ``predict_s``) and the belt's."""
        out = []
        last = self._last_velocity[k]
        if last is not None and t - last[0] <= self._tune.predict_s:
            out.append((float(last[1][0]), float(last[1][1])))
        if belt is not None:
            out.append((float(belt[0]), float(belt[1])))
        return out

    @staticmethod
    def _landmark_motion(seen: Shoe | None, now_seen: list[Shoe], dt: float) -> list[tuple[float, float]]:
        """The landmarks' own displacement of the ``seen`` shoe's leg between the two frames, as a
        velocity: coarse (a third of a shoe length off), but it sees a swinging foot move most of a
        shoe length between 25-30 fps frames, where neither its last velocity nor the belt's does."""
        same = [s for s in now_seen if seen is not None and s.side == seen.side]
        if not same or dt <= 0:
            return []
        v = (same[0].centre - seen.centre) / dt
        return [(float(v[0]), float(v[1]))]

    def _baseline(self, t: float) -> tuple[Frame, Pose | None] | None:
        """The latest recent frame at least ``baseline_s`` before ``t`` (else the oldest kept)."""
        for item in reversed(self._recent):
            if t - item[0].t >= self._tune.baseline_s * 0.999:
                return item
        return self._recent[0] if self._recent else None

    def _belt(self, t: float) -> tuple[float, float] | None:
        v = self.belt.velocity(t)
        return None if v is None else (float(v[0]), float(v[1]))

    def _shoes(self, lm: np.ndarray) -> list[Shoe]:
        """The visible shoes of a pose."""
        out = []
        for side in ("left", "right"):
            hip, knee, ankle, heel, toe = _leg_points(lm, side)
            pts = np.stack([hip, knee, ankle, heel, toe])
            if not np.isfinite(pts[:, :2]).all() or min(ankle[3], heel[3], toe[3]) < self._tune.min_visibility:
                continue
            self._legs.append(float(np.hypot(*(knee[:2] - hip[:2])) + np.hypot(*(ankle[:2] - knee[:2]))))
            out.append((side, heel[:2].astype(np.float64), toe[:2].astype(np.float64), ankle[:2].astype(np.float64)))
        if not out:
            return []
        length = self._tune.shoe_per_leg * float(np.median(self._legs))
        return [Shoe(heel, toe, ankle, length, side) for side, heel, toe, ankle in out]
