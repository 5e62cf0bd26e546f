"""Gait events on the labelled real slow-motion clip, in video frames.

Runs the gait report (the live tracker, replayed) over a landmarks.npz of the clip (arrays ``t``
[N] clip seconds and ``landmarks`` [N, 33, 4]: x px, y px, z, visibility; NaN rows = no pose) and
compares with the hand labels: every labelled initial contact found within +-5 frames or not,
extra contacts, the step period against the measured 102 +- 2 frames, strike agreement, and the
contact time of the valid steps (not labelled; by eye a stance lasts about 115-130 frames on this
clip: the contacts at 403 and 607 leave the belt at about 520 and 722).

The clip's capture rate is unknown, so real time is only assumed for the tracker's physiological
limits (``--time-scale``, default 0.125: a 240 fps phone slow motion played at 30 fps, which makes
the 102-frame step 0.43 s, i.e. 141 steps/min, a plausible jog); every figure here is in frames.

    .venv/bin/python bench/gait_real_clip.py --landmarks /tmp/slowmo_ours/landmarks.npz
    .venv/bin/python bench/gait_real_clip.py --landmarks /tmp/slowmo_mediapipe_landmarks.npz
    .venv/bin/python bench/gait_real_clip.py --landmarks /tmp/slowmo_ours/landmarks.npz --every 2 4 10

``--every N ...`` also runs the tracker on every N-th frame (each of the N offsets in turn): the same
real runner at a tenth of the rate is a 30 fps clip of a few seconds, which is what a phone or
a Pi camera gives. A contact then counts as found within +-max(5, N) clip frames (one frame of
the thinned clip).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from appliance.gait.report import gait_report

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LABELS = REPO.parent / "shared" / "data" / "treadmill_side_slowmo.labels.json"
MATCH_FRAMES = 5  # the tolerance: about a twentieth of a step on this clip
MEASURED_STEP_FRAMES = (102.0, 2.0)
VALID_NEAR_FRAMES = 10  # a tenth of a step: a valid step timed worse than this measures the wrong instant


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--landmarks", type=Path, required=True, help="landmarks.npz (t, landmarks)")
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    ap.add_argument("--time-scale", type=float, default=0.125, help="real seconds per clip second (assumed)")
    ap.add_argument("--size", type=int, nargs=2, default=(480, 360), metavar=("W", "H"))
    ap.add_argument("--json", type=Path, default=None, help="also write the gait report here")
    ap.add_argument("--every", type=int, nargs="*", default=[], help="also on every N-th frame (lower rates)")
    args = ap.parse_args()
    for path in (args.landmarks, args.labels):
        if not path.is_file():
            print(f"not found: {path}", file=sys.stderr)
            return 2
    data = np.load(args.landmarks)
    if "t" not in data or "landmarks" not in data:
        print(f"{args.landmarks} must hold arrays 't' and 'landmarks'", file=sys.stderr)
        return 2
    labels = json.loads(args.labels.read_text())
    label_ics = [e for e in labels["events"] if e["type"] == "IC"]
    rep = gait_report(data["t"], data["landmarks"], tuple(args.size), time_scale=args.time_scale)
    if args.json:
        args.json.write_text(json.dumps(rep, indent=1) + "\n")
    steps = rep["steps"]
    found = np.array([s["frame_ic"] for s in steps])
    print(f"landmarks: {args.landmarks}  frames: {len(data['t'])}  time scale (assumed): {args.time_scale}")
    print(f"direction: {rep['direction']} (labelled: faces right)   steps found: {len(steps)}   labelled ICs: {len(label_ics)}")
    used: set[int] = set()
    hits, errors, strike_ok, strike_n = 0, [], 0, 0
    print("\n label  found  error  foot   strike     FSA deg  valid")
    for e in label_ics:
        f = e["frame"]
        cand = [i for i in range(len(found)) if abs(found[i] - f) <= MATCH_FRAMES and i not in used]
        if not cand:
            print(f" {f:5d}      -      -  (not found within +-{MATCH_FRAMES} frames)")
            continue
        i = min(cand, key=lambda j: abs(found[j] - f))
        used.add(i)
        s = steps[i]
        hits += 1
        errors.append(found[i] - f)
        strike_n += 1
        strike_ok += s["strike"] == e["strike"]
        fsa = s["foot_strike_angle_deg"]
        print(f" {f:5d}  {found[i]:5d}  {found[i] - f:+5d}  {s['foot']:5s}  {s['strike']:9s}  "
              f"{fsa if fsa is None else round(fsa, 1)!s:>7}  {s['valid']}")
    lo, hi = label_ics[0]["frame"] - MATCH_FRAMES, label_ics[-1]["frame"] + MATCH_FRAMES
    extra = [steps[i]["frame_ic"] for i in range(len(steps)) if i not in used and lo - 97 <= steps[i]["frame_ic"] <= hi + 97]
    print(f"\nlabelled ICs found within +-{MATCH_FRAMES} frames: {hits}/{len(label_ics)}")
    if errors:
        err = np.array(errors)
        print(f"timing error (frames): median {np.median(err):+.1f}, median |error| {np.median(np.abs(err)):.1f}, max |error| {np.max(np.abs(err))}")
    print(f"extra ICs (not matching a label): {len(extra)} {extra}")
    if len(found) >= 2:
        d = np.diff(np.sort(found))
        period = float(np.median(d))
        m, tol = MEASURED_STEP_FRAMES
        print(f"step period: median {period:.1f} frames over {len(d)} intervals (measured {m:.0f} +- {tol:.0f}): "
              f"{'agrees' if abs(period - m) <= tol else 'DISAGREES'}")
        valid = sorted(s["frame_ic"] for s in steps if s["valid"])
        if len(valid) >= 2:
            dv = np.diff(valid)
            k = np.maximum(1, np.round(dv / m))
            print(f"step period from valid steps (missed steps allowed for): {dv.sum() / k.sum():.1f} frames")
    if rep["step_period_s"] is not None:
        frames = rep["step_period_s"] / args.time_scale / float(np.median(np.diff(data["t"])))
        m, tol = MEASURED_STEP_FRAMES
        print(f"step period from the trunk's rhythm: {frames:.1f} frames (measured {m:.0f} +- {tol:.0f}): "
              f"{'agrees' if abs(frames - m) <= tol else 'DISAGREES'}; report cadence_spm {rep['cadence_spm']} ({rep['cadence_source']})")
    print(f"strike agreement with labels (matched ICs): {strike_ok}/{strike_n}")
    classes = [s["strike"] for s in steps if s["valid"]]
    print(f"strike classes of all valid steps: { {c: classes.count(c) for c in sorted(set(classes))} }")
    ref = rep["flat_foot_reference"]
    if ref["source"] == "mid-stance":
        print(f"flat-foot reference: {ref['angle_deg']:.1f} deg, spread (IQR) {ref['spread_deg']:.1f} deg over "
              f"{ref['stances']} mid-stances (a flat foot: a few degrees; more is the foot landmarks wandering)")
    print(contact_time_line(steps, float(np.median(np.diff(data["t"]))), args.time_scale))
    for every in args.every:
        print_thinned(data["t"], data["landmarks"], [e["frame"] for e in label_ics], every, args)
    return 0


def print_thinned(t: np.ndarray, landmarks: np.ndarray, label_frames: list[int], every: int, args) -> None:
    """Contacts found on every ``every``-th frame, over all offsets, against the labels."""
    dt = float(np.median(np.diff(t)))
    tol = max(MATCH_FRAMES, every)
    hits = extra = 0
    errors, valid_errors, all_steps = [], [], []
    for offset in range(every):
        idx = np.arange(offset, len(t), every)
        rep = gait_report(t[idx], landmarks[idx], tuple(args.size), time_scale=args.time_scale)
        all_steps += rep["steps"]
        found = [s["t_ic"] / args.time_scale / dt for s in rep["steps"]]  # in clip frames
        used: set[int] = set()
        for f in label_frames:
            cand = [i for i in range(len(found)) if abs(found[i] - f) <= tol and i not in used]
            if cand:
                i = min(cand, key=lambda j: abs(found[j] - f))
                used.add(i)
                hits += 1
                errors.append(found[i] - f)
        extra += len(found) - len(used)
        valid_errors += [min(abs(f - g) for g in label_frames) for f, s in zip(found, rep["steps"], strict=True) if s["valid"]]
    fps = 1.0 / (dt * every * args.time_scale)
    err = np.abs(errors) if errors else np.array([np.nan])
    print(f"every {every:2d}th frame ({fps:.0f} fps real, {every} offsets): found within +-{tol} clip frames "
          f"{hits}/{len(label_frames) * every}, extra {extra}, median |error| {np.median(err):.1f} clip frames "
          f"({np.median(err) * dt * args.time_scale * 1000:.0f} ms)")
    near = sum(e <= VALID_NEAR_FRAMES for e in valid_errors)
    print(f"          valid steps (the ones cues use) within +-{VALID_NEAR_FRAMES} clip frames of a label: "
          f"{near}/{len(valid_errors)}")
    print("          " + contact_time_line(all_steps, dt, args.time_scale))


def contact_time_line(steps: list[dict], dt: float, time_scale: float) -> str:
    """The median contact time of the valid steps that have a toe-off, in clip frames."""
    frames = [s["contact_time_s"] / time_scale / dt for s in steps if s["valid"] and s["contact_time_s"] is not None]
    if not frames:
        return "contact time of valid steps: none measured"
    q = np.percentile(frames, [25, 50, 75])
    return (f"contact time of valid steps: median {q[1]:.0f} clip frames (IQR {q[0]:.0f}-{q[2]:.0f}, "
            f"{len(frames)} steps; by eye ~115-130)")


if __name__ == "__main__":
    raise SystemExit(main())
