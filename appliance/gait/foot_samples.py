"""One foot track's per-frame samples in belt coordinates, and reading them over a time window."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass
class FootSample:
    """One frame of one foot track. Heights are above that landmark's own stance level on the belt,
    in leg lengths; NaN (and ``observed`` False) in a frame without the foot."""

    t: float
    frame: int
    points: np.ndarray  # [5, 2] hip, knee, ankle, heel, toe (px)
    vis: np.ndarray  # [5]
    observed: bool
    ambiguous: bool
    g: float  # lowest landmark's height (heel or toe)
    toe_h: float
    heel_h: float
    fwd: float  # foot centre (mid heel-toe) along the belt, forward positive, px
    ankle_h: float  # ankle height above the heel's stance level
    held: tuple | None = None  # (g, toe_h, heel_h, fwd, ankle_h) while set aside as implausible


def observed_between(hist: deque[FootSample], t0: float, t1: float) -> list[FootSample]:
    """The observed samples of ``hist`` (oldest first) with ``t0 <= t <= t1``."""
    out = []
    for x in reversed(hist):
        if x.t < t0:
            break
        if x.t <= t1 and x.observed:
            out.append(x)
    out.reverse()
    return out


def height_slopes(samples: list[FootSample]) -> dict[str, float]:
    """Least-squares rate of change (leg lengths/s) of heel, toe and ankle heights over
    ``samples``, for each of them seen throughout."""
    if len(samples) < 2:
        return {}
    tt = np.array([x.t for x in samples])
    dtt = tt - tt.mean()
    span = float((dtt * dtt).sum())
    if span <= 0:
        return {}
    slopes = {}
    for name in ("heel_h", "toe_h", "ankle_h"):
        h = np.array([getattr(x, name) for x in samples])
        if np.isfinite(h).all():
            slopes[name] = float((dtt * (h - h.mean())).sum()) / span
    return slopes
