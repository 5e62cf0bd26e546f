"""A learned touch (initial contact) over one foot track's per-sample motion: an experiment.

Not used by the foot stage or the runtime (bench/feet_learned_touch.py trains and measures it).

The foot stage measures, per frame and foot track, the shoe's motion between two frames
(appliance/feet/motion.py): its centre's and its lowest point's (the sole's) image velocity, its
rotation and the share of its points that fit a rigid motion, and the belt's image velocity. Here
each such sample is made scale-free (velocities in belt speeds, along the belt's image direction
(+ forwards, against the belt) and across it (+ down, towards the belt); the rotation times the
shoe's length over the belt's speed, signed by the runner's facing), and a touch is picked, for a
contact the stage has found (its belt lock), as the best-scoring candidate instant in the contact's
window (from the swing's fastest sole sample, at most ``window_s`` before the lock, to the lock):
each candidate is scored by a small network (one tanh layer) on the channels interpolated at fixed
offsets in seconds around it (the same in seconds at any frame rate), the sole's height above its
position at the window's end (in shoe lengths, integrated from its across-belt velocity) and the
candidate's time before the lock and after the swing's peak. Training (the bench) maximises the
window's softmax likelihood of the candidates nearest the true touch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Per-sample raw columns, as the bench records them from the foot stage.
RAW = ("t", "dt", "vx", "vy", "low_vx", "low_vy", "omega", "texture", "slip", "shoe_px", "belt_vx", "belt_vy")
CHANNELS = ("sole_fwd", "sole_down", "centre_fwd", "centre_down", "rotation", "texture", "slip")
OFFSETS_S = (-0.08, -0.06, -0.04, -0.03, -0.02, -0.01, 0.0, 0.01, 0.02, 0.03, 0.04, 0.06, 0.08)
HEIGHT_OFFSETS_S = (-0.04, -0.02, 0.0, 0.02, 0.04)
CLIP = 5.0  # belt speeds: larger readings are mismeasurements


@dataclass(frozen=True)
class Window:
    """One contact's candidate instants (s) and their feature rows."""

    t: np.ndarray  # [n] candidate times (the samples' midpoint times)
    x: np.ndarray  # [n, D] features
    t_lock: float
    t_peak: float


def channels(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample times [n], scale-free channels [n, len(CHANNELS)] and the sole's height rate in shoe
    lengths per second [n] (+ down) from raw samples [n, len(RAW)] (rows without a belt or a shoe
    length are dropped)."""
    r = {name: raw[:, i] for i, name in enumerate(RAW)}
    belt = np.stack([r["belt_vx"], r["belt_vy"]], axis=1)
    speed = np.hypot(belt[:, 0], belt[:, 1])
    ok = np.isfinite(speed) & (speed > 0) & np.isfinite(r["shoe_px"]) & np.isfinite(r["vx"])
    belt, speed = belt[ok], speed[ok]
    r = {k: v[ok] for k, v in r.items()}
    u = belt / speed[:, None]  # the belt's image direction
    n = np.stack([-u[:, 1], u[:, 0]], axis=1)
    n *= np.where(n[:, 1] < 0, -1.0, 1.0)[:, None]  # across the belt, image-down
    facing = np.where(u[:, 0] < 0, 1.0, -1.0)  # the belt moves against the runner's facing
    low = np.stack([r["low_vx"], r["low_vy"]], axis=1) - belt
    cen = np.stack([r["vx"], r["vy"]], axis=1) - belt
    sole_down = np.sum(low * n, axis=1) / speed

    def along(v):
        return -np.sum(v * u, axis=1) / speed

    ch = np.stack([along(low), sole_down, along(cen), np.sum(cen * n, axis=1) / speed,
                   r["omega"] * facing * r["shoe_px"] / speed, r["texture"], r["slip"]], axis=1)
    ch = np.clip(np.nan_to_num(ch, nan=0.0), -CLIP, CLIP)
    height_rate = np.clip(sole_down, -CLIP, CLIP) * speed / r["shoe_px"]
    return r["t"], ch, height_rate


def contact_window(t: np.ndarray, ch: np.ndarray, t_lock: float, window_s: float = 0.25,
                   approach_s: float = 0.3, after_s: float = 0.02) -> tuple[np.ndarray, float]:
    """Indices of the candidate samples of the contact locked at ``t_lock``, and the swing peak's
    time (the fastest sole sample relative to the belt within ``approach_s`` before the lock)."""
    before = np.nonzero((t >= t_lock - approach_s) & (t <= t_lock))[0]
    if len(before) == 0:
        return before, t_lock
    speed = np.hypot(ch[before, 0], ch[before, 1])
    t_peak = float(t[before[int(np.argmax(speed))]])
    idx = np.nonzero((t >= max(t_peak, t_lock - window_s)) & (t <= t_lock + after_s))[0]
    return idx, t_peak


def window_features(t: np.ndarray, ch: np.ndarray, height_rate: np.ndarray, t_lock: float,
                    **window_kw) -> Window | None:
    """The candidates and their features for the contact locked at ``t_lock`` (None: no samples)."""
    idx, t_peak = contact_window(t, ch, t_lock, **window_kw)
    if len(idx) < 2:
        return None
    tc = t[idx]
    # The sole's height above its place at the window's end: its descent integrated back from there.
    dtt = np.diff(t, prepend=t[0])
    depth = np.cumsum(height_rate * dtt)  # sole's downward travel since the first sample (shoe lengths)
    end_depth = float(np.interp(tc[-1], t, depth))
    cols = []
    for off in OFFSETS_S:
        q = tc + off
        cols += [np.interp(q, t, ch[:, j]) for j in range(ch.shape[1])]
    for off in HEIGHT_OFFSETS_S:
        cols.append(end_depth - np.interp(tc + off, t, depth))
    cols += [tc - t_lock, tc - t_peak]
    return Window(tc, np.stack(cols, axis=1), float(t_lock), t_peak)


def feature_columns(kept: tuple[str, ...] = CHANNELS, height: bool = True, timing: bool = True) -> np.ndarray:
    """Indices of the feature columns that use only the ``kept`` channels (and the sole's height,
    and the candidate's times from the lock and the swing's peak, when asked)."""
    names = feature_names()
    keep = [i for i, name in enumerate(names)
            if name.split("@")[0] in kept or (height and name.startswith("height@"))
            or (timing and name in ("to_lock_s", "from_peak_s"))]
    return np.asarray(keep, int)


def feature_names() -> list[str]:
    names = [f"{c}@{1000 * o:+.0f}ms" for o in OFFSETS_S for c in CHANNELS]
    names += [f"height@{1000 * o:+.0f}ms" for o in HEIGHT_OFFSETS_S]
    return names + ["to_lock_s", "from_peak_s"]


@dataclass
class TouchModel:
    """The feature ``columns`` used, standardised; one tanh layer (``w1`` [D, H]; H = 0: linear);
    a score per candidate."""

    columns: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: float = 0.0

    def scores(self, x: np.ndarray) -> np.ndarray:
        z = (x[:, self.columns] - self.mean) / self.std
        if self.w1.shape[1] == 0:
            return z @ self.w2 + self.b2
        return np.tanh(z @ self.w1 + self.b1) @ self.w2 + self.b2

    def touch(self, window: Window) -> float:
        """The window's touch: the best candidate, refined by a parabola through its neighbours."""
        return pick(window.t, self.scores(window.x))

    def save(self, path: Path) -> None:
        np.savez(path, columns=self.columns, mean=self.mean, std=self.std, w1=self.w1, b1=self.b1, w2=self.w2, b2=np.float64(self.b2))

    @classmethod
    def load(cls, path: Path) -> TouchModel:
        d = np.load(path)
        return cls(d["columns"], d["mean"], d["std"], d["w1"], d["b1"], d["w2"], float(d["b2"]))


def pick(t: np.ndarray, s: np.ndarray) -> float:
    """The instant of the highest score, refined between its neighbours by a parabola."""
    i = int(np.argmax(s))
    if 0 < i < len(s) - 1:
        d = s[i - 1] - 2 * s[i] + s[i + 1]
        if d < 0:
            f = float(np.clip(0.5 * (s[i - 1] - s[i + 1]) / d, -0.5, 0.5))
            return float(t[i] + f * (t[i + 1] - t[i] if f > 0 else t[i] - t[i - 1]))
    return float(t[i])
