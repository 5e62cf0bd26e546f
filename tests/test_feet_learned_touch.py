"""The learned-touch experiment's maths (appliance/feet/learned_touch.py; not used by the stage)."""

from __future__ import annotations

import numpy as np

from appliance.feet.learned_touch import (
    CHANNELS,
    RAW,
    TouchModel,
    channels,
    feature_columns,
    feature_names,
    pick,
    window_features,
)


def _raw(t, low_v, belt=(-300.0, 0.0), shoe=80.0, omega=0.0):
    rows = []
    for ti, (vx, vy) in zip(t, low_v, strict=True):
        rows.append([ti, 1 / 60, vx, vy, vx, vy, omega, 0.8, 1.0, shoe, *belt])
    return np.asarray(rows, np.float64).reshape(-1, len(RAW))


def test_channels_are_scale_free_and_mirror_invariant():
    t = np.arange(10) / 60
    v = [(150.0, 60.0)] * 10  # forwards (right) and down, the belt moving left at 300 px/s
    _, ch, rate = channels(_raw(t, v))
    assert np.allclose(ch[:, CHANNELS.index("sole_fwd")], 1.5)  # (150 + 300) / 300 forwards relative to the belt
    assert np.allclose(ch[:, CHANNELS.index("sole_down")], 0.2)
    assert np.allclose(rate, 60.0 / 80.0)  # shoe lengths per second
    # The same scene mirrored (runner facing left), twice the scale: the same channels.
    _, ch2, rate2 = channels(_raw(t, [(-300.0, 120.0)] * 10, belt=(600.0, 0.0), shoe=160.0))
    assert np.allclose(ch, ch2) and np.allclose(rate, rate2)


def test_pick_refines_between_samples():
    t = np.arange(5) * 0.01
    s = -((t - 0.023) ** 2)
    assert abs(pick(t, s) - 0.023) < 1e-9
    assert pick(t, np.array([5.0, 1, 0, 0, 0])) == 0.0


def test_window_and_model_shapes():
    t = np.arange(60) / 120
    v = [(300.0, 100.0) if ti < 0.3 else (-300.0, 0.0) for ti in t]
    tt, ch, rate = channels(_raw(t, v))
    w = window_features(tt, ch, rate, t_lock=0.32)
    assert w is not None and w.x.shape == (len(w.t), len(feature_names()))
    assert w.t[0] >= 0.32 - 0.25 - 1e-9 and w.t[-1] <= 0.34 + 1e-9
    cols = feature_columns(("sole_fwd",), height=False, timing=False)
    assert all(feature_names()[i].startswith("sole_fwd@") for i in cols)
    rng = np.random.default_rng(0)
    model = TouchModel(cols, np.zeros(len(cols)), np.ones(len(cols)), rng.normal(size=(len(cols), 4)), np.zeros(4),
                       rng.normal(size=4))
    assert model.scores(w.x).shape == (len(w.t),)
    assert w.t[0] <= model.touch(w) <= w.t[-1]
