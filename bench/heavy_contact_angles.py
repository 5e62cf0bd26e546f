"""The foot's angle at each labelled contact read by heavy, by full, and from the sole line.

The pose engine (full) runs over the clip as the appliance would, and every frame with the region
it used goes into a ``ContactFrames`` buffer (0.5 s of real time). Once a labelled contact's
mid-stance window has been captured, ``read_contact`` runs heavy (one thread, in this thread) on
the frames ``plan_contact`` picks from the buffer: the label frame as the contact instant and two
frames before it over about 30 ms, and three frames over the mid-stance window. The same frames
are read from full's own landmarks (``reading_from_landmarks``), and the shoe's lower edge is
fitted in the pixels where heavy put heel and toe (``sole_line_angle``). The landing foot is the
one whose heel and toe are nearest the shoe centre, taken here from full's landmarks at the label
frame (the foot further forward; the foot stage is not run).

Per contact: the foot angle at contact (heavy, full, sole line), the flat reference (median
mid-stance foot angle) and the strike angle and class of each; then the spread of the flat
reference over the steps (IQR and max-min: a real foot is flat in mid-stance to within a few
degrees, so the spread is the reading's noise), how many landings each reads toe-first (foot angle
at contact below 0: toe lower than heel) and as labelled, and heavy's cost per contact.

    .venv/bin/python bench/heavy_contact_angles.py                      # slow-motion clip (labels: forefoot)
    .venv/bin/python bench/heavy_contact_angles.py --clip ../shared/data/phone_side_60fps.mp4 \\
        --labels bench/labels/running_form_img5396.json --time-scale 1 --mid 4 7

Slow motion: ``--time-scale 0.125`` real seconds per clip second (a 240 fps capture played at 30,
as bench/gait_real_clip.py assumes); a step is about 102 clip frames and mid-stance is taken as
label +35..+55 frames. Phone clip (60 fps, real time): stance is about 0.7 x 21 frames, so
mid-stance is label +4..+7 frames; its labels carry no strike class.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from appliance.config import GaitSettings, Settings
from appliance.feet.contact_look import (
    ContactFrames,
    ContactReading,
    classify_strike,
    plan_contact,
    read_contact,
    reading_from_landmarks,
)
from appliance.feet.tuning import FEET_TUNING
from appliance.gait.geometry import HEEL, TOE, leg_points
from appliance.pose.engine import PoseEngine
from appliance.pose.heavy import HeavyPose
from appliance.pose.model_files import ModelError, verify_heavy, verify_model_dir
from appliance.sources.video import VideoFileSource
from appliance.types import Frame

LOOK = FEET_TUNING.contact_look

REPO = Path(__file__).resolve().parents[1]
SLOWMO = REPO.parent / "shared" / "data" / "treadmill_side_slowmo.mp4"
SLOWMO_LABELS = REPO.parent / "shared" / "data" / "treadmill_side_slowmo.labels.json"


def load_contacts(path: Path) -> tuple[list[int], list[str | None], float]:
    """(contact frames, strike labels or None, facing sign) from either label format."""
    data = json.loads(path.read_text())
    sign = -1.0 if "left" in str(data.get("faces", data.get("view", "faces right"))).split("faces")[-1][:8] else 1.0
    if "events" in data:
        ics = [e for e in data["events"] if e.get("type") == "IC"]
        return [int(e["frame"]) for e in ics], [e.get("strike") for e in ics], sign
    frames = [int(math.floor(x + 0.5)) for x in data["ic"]]  # fractional: the nearest frame
    return frames, [None] * len(frames), sign


def forward_foot_centre(landmarks: np.ndarray, sign: float) -> tuple[float, float]:
    """The midpoint of heel and toe of the foot further forward (the landing foot at a contact)."""
    mids = [leg_points(landmarks, s)[0][[HEEL, TOE]].mean(axis=0) for s in ("left", "right")]
    m = max(mids, key=lambda p: sign * p[0])
    return float(m[0]), float(m[1])


def spread(values: list[float]) -> tuple[float, float]:
    v = np.array([x for x in values if math.isfinite(x)])
    if len(v) < 2:
        return math.nan, math.nan
    q1, q3 = np.percentile(v, [25, 75])
    return float(q3 - q1), float(np.ptp(v))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=SLOWMO)
    ap.add_argument("--labels", type=Path, default=SLOWMO_LABELS)
    ap.add_argument("--time-scale", type=float, default=0.125, help="real seconds per clip second")
    ap.add_argument("--mid", type=int, nargs=2, default=[35, 55], help="mid-stance window, frames after the label")
    ap.add_argument("--threads", type=int, default=1, help="heavy's interpreter threads")
    ap.add_argument("--before", type=int, default=LOOK.contact_frames_before, help="contact frames read before the instant")
    ap.add_argument("--mid-frames", type=int, default=LOOK.mid_stance_frames, help="mid-stance frames read")
    args = ap.parse_args()
    for p in (args.clip, args.labels):
        if not p.is_file():
            sys.exit(f"not found: {p} (../shared/data is needed for this benchmark)")
    model_dir = Settings().pose.model_dir
    try:
        verify_model_dir(model_dir)
        verify_heavy(model_dir)
    except ModelError as e:
        sys.exit(str(e))
    contacts, strikes, sign = load_contacts(args.labels)
    settings = GaitSettings()
    engine = PoseEngine(model_dir, threads=2)
    heavy = HeavyPose(model_dir, threads=args.threads)
    buffer = ContactFrames(max_age_s=LOOK.buffer_s)
    full_lm: dict[int, np.ndarray] = {}
    due = {c + args.mid[1]: c for c in contacts}
    rows: list[tuple[int, str | None, ContactReading, ContactReading]] = []
    warmed = False
    t_start = time.perf_counter()

    def read(c: int) -> None:
        nonlocal warmed
        pairs = list(buffer)
        at = next((p for p in pairs if p[0].index == c), None)
        if at is None or c not in full_lm:
            print(f"contact {c}: not in the buffer (no pose at it)")
            return
        t_c = at[0].t
        dt = float(np.median(np.diff([p[0].t for p in pairs])))
        window = (t_c + args.mid[0] * dt - 1e-9, t_c + args.mid[1] * dt + 1e-9)
        centre = forward_foot_centre(full_lm[c], sign)
        if not warmed:  # the first invokes allocate and pack weights: keep them out of the cost
            heavy.landmarks(at[0].image, at[1])
            warmed = True
        kw = dict(before=args.before, mid_frames=args.mid_frames)
        h = read_contact(pairs, t_c, window, sign, heavy, shoe_centre=centre, settings=settings, sole_line=True, **kw)
        plan = plan_contact(pairs, t_c, window, **kw)
        full = reading_from_landmarks(plan, [full_lm.get(p[0].index) for p in plan.contact],
                                      [full_lm.get(p[0].index) for p in plan.mid], sign,
                                      shoe_centre=centre, settings=settings, sole_line=True)
        rows.append((c, strikes[contacts.index(c)], h, full))

    last = -1
    for f in VideoFileSource(args.clip, max_frames=max(due) + 1):
        last = f.index
        frame = Frame(f.t * args.time_scale, f.index, f.image)  # real time
        pose = engine.process(frame)
        if pose is not None:
            full_lm[f.index] = pose.landmarks
        buffer.add(frame, engine.last_roi)
        if f.index in due:
            read(due.pop(f.index))
    for c in sorted(due.values()):  # the clip ended inside their mid-stance window: read what there is
        if c <= last:
            read(c)
    wall = time.perf_counter() - t_start
    print(f"{args.clip.name}: {len(rows)} of {len(contacts)} contacts, facing {'right' if sign > 0 else 'left'}, "
          f"time scale {args.time_scale:g}; mid-stance = label +{args.mid[0]}..+{args.mid[1]} frames; "
          f"thresholds rearfoot > {settings.rearfoot_above_deg:g}, forefoot < {settings.forefoot_below_deg:g} deg")
    print("angles in deg, runner's frame, toe up positive; FSA = foot angle at contact - flat reference (median mid-stance)")
    print("sole = the shoe's lower edge fitted in the pixels, guided by heavy's heel/toe (sole/h) or full's (sole/f)")
    print()
    print("frame label    |  heavy: foot  flat   FSA class     n   rej  ms |  full: foot  flat   FSA class    "
          "| sole/h: foot  flat   FSA class    | sole/f:  FSA class    | heavy shank knee")
    for c, label, h, full in rows:
        print(f"{c:5d} {label or '-':8s} | {h.foot_angle_deg:11.1f} {h.flat_reference_deg:5.1f} {h.strike_angle_deg:5.1f} "
              f"{h.strike[:8]:8s} {len(h.contact_samples)}+{len(h.mid_samples)} {h.rejected:3d} {h.model_ms:4.0f} "
              f"| {full.foot_angle_deg:10.1f} {full.flat_reference_deg:5.1f} {full.strike_angle_deg:5.1f} {full.strike:8s} "
              f"| {h.sole_angle_deg:12.1f} {h.sole_flat_reference_deg:5.1f} {h.sole_strike_angle_deg:5.1f} "
              f"{_cls(h.sole_strike_angle_deg, settings):8s} "
              f"| {full.sole_strike_angle_deg:11.1f} {_cls(full.sole_strike_angle_deg, settings):8s} "
              f"| {h.shank_angle_deg:11.1f} {h.knee_flexion_deg:4.1f}")
    print()
    print("over the steps      flat ref IQR  max-min | one mid frame IQR max-min |  FSA IQR max-min | toe-first | classes")
    readers = (
        ("heavy", lambda r: r[2].flat_reference_deg, lambda r: r[2].foot_angle_deg, lambda r: r[2].strike,
         lambda r: r[2].mid_samples),
        ("full", lambda r: r[3].flat_reference_deg, lambda r: r[3].foot_angle_deg, lambda r: r[3].strike,
         lambda r: r[3].mid_samples),
        ("sole/heavy", lambda r: r[2].sole_flat_reference_deg, lambda r: r[2].sole_angle_deg,
         lambda r: _cls(r[2].sole_strike_angle_deg, settings), None),
        ("sole/full", lambda r: r[3].sole_flat_reference_deg, lambda r: r[3].sole_angle_deg,
         lambda r: _cls(r[3].sole_strike_angle_deg, settings), None),
    )
    whole = [r for r in rows if len(r[2].mid_samples) >= 3]  # the clip may end inside a mid-stance
    if len(whole) < len(rows):
        print(f"(spreads over the {len(whole)} contacts with 3+ mid-stance frames read; left out: "
              f"{', '.join(str(r[0]) for r in rows if r not in whole)})")
    for name, get_flat, get_foot, get_cls, get_mid in readers:
        iqr, rng = spread([get_flat(r) for r in whole])
        one = "        -      -"
        if get_mid is not None:  # the middle mid-stance frame alone: what a single-frame reading spreads
            o_iqr, o_rng = spread([get_mid(r)[len(get_mid(r)) // 2][1] for r in whole])
            one = f"{o_iqr:9.1f} {o_rng:6.1f}"
        fsa_iqr, fsa_rng = spread([get_foot(r) - get_flat(r) for r in whole])
        feet = [get_foot(r) for r in rows]
        toe_first = sum(1 for a in feet if math.isfinite(a) and a < 0)
        labelled = [(r[1], get_cls(r)) for r in rows if r[1]]
        agree = f"; as labelled {sum(a == b for a, b in labelled)}/{len(labelled)}" if labelled else ""
        classes = " ".join(f"{k} {n}" for k in ("forefoot", "midfoot", "rearfoot", "unknown")
                           if (n := sum(1 for r in rows if get_cls(r) == k)))
        print(f"{name:10s} {iqr:17.1f} {rng:8.1f} | {one}           | {fsa_iqr:8.1f} {fsa_rng:7.1f} | "
              f"{toe_first:4d}/{len(rows):<4d} | {classes}{agree}")
    diff = np.array([r[2].sole_strike_angle_deg - r[2].strike_angle_deg for r in rows])
    diff = diff[np.isfinite(diff)]
    if len(diff):
        print(f"sole/heavy FSA - heavy FSA: median {np.median(diff):+.1f}, median |diff| {np.median(np.abs(diff)):.1f}, "
              f"max |diff| {np.max(np.abs(diff)):.1f} deg over {len(diff)} contacts")
    ms = [r[2].model_ms for r in rows]
    n = [len(r[2].contact_samples) + len(r[2].mid_samples) + r[2].rejected for r in rows]
    print(f"heavy cost per contact: median {np.median(ms):.0f} ms (max {max(ms):.0f}) for {np.median(n):.0f} frames "
          f"({np.median(ms) / np.median(n):.1f} ms/frame, {args.threads} thread); at 3 contacts/s "
          f"{np.median(ms) * 3 / 10:.0f} % of one core. Whole run {wall:.1f} s.")


def _cls(fsa: float, settings: GaitSettings) -> str:
    return classify_strike(fsa, settings)


if __name__ == "__main__":
    main()
