"""Foot identity by continuity: which observed leg is which foot, whatever the model's labels say.

In a side view the pose model often swaps left and right (the far leg is occluded). Two tracks keep
their own path: each frame, the labelled legs are assigned to the tracks by the smaller distance to
each track's constant-velocity prediction (knee, ankle, heel, toe), the model's own labelling being
preferred unless swapping is clearly better. A track's name (left/right) is the label it received
most often, so occasional swaps never rename it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from appliance.gait.geometry import ANKLE, HEEL, KNEE, TOE
from appliance.gait.tuning import GAIT_TUNING, IdentityTuning

DISTAL = [KNEE, ANKLE, HEEL, TOE]


@dataclass
class TrackObservation:
    """One foot track's leg in one frame: points [5, 2] px, visibility [5], and whether it was seen."""

    points: np.ndarray
    visibility: np.ndarray
    observed: bool
    label: str  # the model's label of the observation assigned to this track
    ambiguous: bool  # the assignment was within the swap margin


class _Track:
    def __init__(self, name: str, tuning: IdentityTuning):
        self.name = name
        self.tuning = tuning
        self.pos: np.ndarray | None = None  # [4, 2] distal points
        self.vel = np.zeros((4, 2))
        self.t = -np.inf
        self.vote_t = -math.inf
        self.label_votes = {"left": 0.0, "right": 0.0}
        self.rejected: list[tuple[float, np.ndarray]] = []  # consecutive rejected observations

    def consistent_rejections(self, t: float, distal: np.ndarray, leg_px: float) -> int:
        """Record a rejected observation; returns how many consecutive rejected observations form
        a plausible path ending with this one."""
        if self.rejected:
            t0, d0 = self.rejected[-1]
            if float(np.max(np.hypot(*(distal - d0).T))) > self.gate_px(t - t0, leg_px):
                self.rejected.clear()
        self.rejected.append((t, distal))
        return len(self.rejected)

    def gate_px(self, elapsed: float, leg_px: float) -> float:
        """How far (px) the foot can plausibly have moved in ``elapsed`` seconds."""
        return (self.tuning.gate_slack + self.tuning.max_speed_leg_per_s * max(elapsed, 0.0)) * leg_px

    def predict(self, t: float) -> np.ndarray | None:
        if self.pos is None or t - self.t > self.tuning.max_coast_s:
            return None
        return self.pos + self.vel * min(t - self.t, self.tuning.max_extrapolation_s)

    def accept(self, t: float, distal: np.ndarray) -> None:
        if self.pos is not None and t - self.t <= self.tuning.max_coast_s and t > self.t:
            dt = t - self.t
            v = (distal - self.pos) / dt
            alpha = dt / (dt + self.tuning.velocity_tau_s)
            self.vel = (1 - alpha) * self.vel + alpha * v
        else:
            self.vel = np.zeros((4, 2))
        self.pos = distal
        self.t = t
        self.rejected.clear()


class FootIdentity:
    """Assigns the two labelled legs of each frame to two persistent foot tracks (0 and 1)."""

    def __init__(self, tuning: IdentityTuning = GAIT_TUNING.identity):
        self.tuning = tuning
        self.tracks = [_Track("A", tuning), _Track("B", tuning)]
        self.swaps_detected = 0

    def foot_name(self, k: int) -> str:
        """'left'/'right' by the majority of the model's labels, 'A'/'B' before any vote."""
        v = self.tracks[k].label_votes
        if v["left"] == v["right"]:
            return self.tracks[k].name
        return "left" if v["left"] > v["right"] else "right"

    def assign(self, t: float, legs: dict[str, tuple[np.ndarray, np.ndarray]], leg_px: float) -> list[TrackObservation]:
        """``legs`` maps the model's labels to (points [5,2], visibility [5]); returns one observation per track."""
        obs = {lab: (p, v) for lab, (p, v) in legs.items() if np.isfinite(p[DISTAL]).all()}
        preds = [tr.predict(t) for tr in self.tracks]
        # Which label goes to track 0: by default the label track 0 has received most often.
        first = "left" if self.foot_name(0) != "right" else "right"
        second = "right" if first == "left" else "left"
        order = (first, second)
        ambiguous = False
        if all(p is not None for p in preds) and len(obs) == 2:
            def cost(a: str, b: str) -> float:
                return (float(np.mean(np.hypot(*(obs[a][0][DISTAL] - preds[0]).T)))
                        + float(np.mean(np.hypot(*(obs[b][0][DISTAL] - preds[1]).T)))) / leg_px
            keep, swap = cost(first, second), cost(second, first)
            # A prediction made across a gap is uncertain by up to the feet's relative speed times
            # the gap; the model's labels are trusted more in proportion.
            unseen = t - min(tr.t for tr in self.tracks)
            tuning = self.tuning
            margin = tuning.swap_margin + tuning.gap_uncertainty_leg_per_s * max(0.0, unseen - tuning.max_extrapolation_s)
            if unseen > tuning.max_predictable_s:
                margin = math.inf  # the feet may have crossed unseen: the labels decide
            if swap < keep - margin:
                order = (second, first)
                self.swaps_detected += 1
            ambiguous = abs(swap - keep) < margin
        elif len(obs) == 1:
            # One leg seen: give it to the track whose prediction it fits best.
            (lab, (p, _)), = obs.items()
            d = [np.inf if pr is None else float(np.mean(np.hypot(*(p[DISTAL] - pr).T))) for pr in preds]
            if np.isfinite(d).any():
                k = int(np.argmin(d))
                order = (lab, "none") if k == 0 else ("none", lab)
        out = []
        for k, lab in enumerate(order):
            tr = self.tracks[k]
            if lab not in obs:
                out.append(TrackObservation(np.full((5, 2), np.nan), np.zeros(5), False, lab, ambiguous))
                continue
            p, vis = obs[lab]
            distal = p[DISTAL]
            pred = preds[k]
            if pred is not None and float(np.max(np.hypot(*(distal - pred).T))) > tr.gate_px(t - tr.t, leg_px):
                if tr.consistent_rejections(t, distal, leg_px) < self.tuning.reacquire_observations:
                    # An implausible jump (the model put this leg on the other foot or on the background).
                    out.append(TrackObservation(p, vis, False, lab, ambiguous))
                    continue
                tr.t = -math.inf  # restart: no velocity from the wrong position
            tr.accept(t, distal)
            # Votes fade over ~label_memory_s, so a track that picked up the other foot after a long
            # occlusion is renamed by the model's labels within seconds, while swaps lasting a few
            # frames never outvote the seconds before them.
            fade = math.exp(-max(t - tr.vote_t, 0.0) / self.tuning.label_memory_s) if math.isfinite(tr.vote_t) else 1.0
            for key in tr.label_votes:
                tr.label_votes[key] *= fade
            tr.label_votes[lab] += 1.0
            tr.vote_t = t
            out.append(TrackObservation(p, vis, True, lab, ambiguous))
        return out
