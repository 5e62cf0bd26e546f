"""Which landmark signals mark the labelled initial contacts of the real slow-motion clip?

A measurement, not a detector: it uses the hand labels (and the whole clip, non-causally) to show
where candidate timing signals sit relative to each labelled contact, in video frames, so that a
detector is chosen by measurement. It prints:

1. The body's vertical position (hip centre, shoulders, nose) folded over the labelled step period
   with phase 0 at each labelled contact: where the body is highest, lowest, and falls fastest.
   (The "pelvis is braked at contact" idea needs the downward-velocity peak near phase 0.)
2. For each labelled contact, the landing foot (the model's leg whose ankle is the more anterior at
   the contact, then followed through the window by continuity): the frame offsets at which its
   toe and heel reach their post-contact level, where its ankle is most anterior, and when it first
   moves backwards at half the belt speed (belt speed: median backward ankle speed of the rear
   foot in mid-stance).

3. With ``--video``, a check that needs no pose model: the landing shoe's image (a template cut
   at 20 frames after the contact, where the foot is flat) is matched in the frames around the
   contact, and its horizontal offset printed: a foot on the belt can only move backwards with it.

    .venv/bin/python bench/gait_real_clip_signals.py --landmarks /tmp/slowmo_ours/landmarks.npz \
        --video ../shared/data/treadmill_side_slowmo.mp4
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from appliance.landmarks import L

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LABELS = REPO.parent / "shared" / "data" / "treadmill_side_slowmo.labels.json"
WINDOW = 30  # frames either side of a labelled contact (a third of a step on this clip)
JUMP_LEG_LENGTHS = 0.08
SMOOTH = 5  # frames: a centred moving average for the velocity estimates (offline, diagnostic)
LEGS = {
    "left": [int(L.LEFT_ANKLE), int(L.LEFT_HEEL), int(L.LEFT_FOOT_INDEX)],
    "right": [int(L.RIGHT_ANKLE), int(L.RIGHT_HEEL), int(L.RIGHT_FOOT_INDEX)],
}


def smooth(x: np.ndarray, n: int = SMOOTH) -> np.ndarray:
    """Centred moving average with edge padding (same length)."""
    pad = np.pad(x, n // 2, mode="edge")
    return np.convolve(pad, np.ones(n) / n, mode="valid")


def folded_body(lm: np.ndarray, ics: list[int], period: float, leg_px: float) -> None:
    """Print the body's height folded over the step, phase 0 at the labelled contacts."""
    n = len(lm)
    signals = {
        "hip centre": lm[:, [int(L.LEFT_HIP), int(L.RIGHT_HIP)], 1].mean(axis=1),
        "shoulders": lm[:, [int(L.LEFT_SHOULDER), int(L.RIGHT_SHOULDER)], 1].mean(axis=1),
        "nose": lm[:, int(L.NOSE), 1],
    }
    phase = (np.arange(n) - ics[0]) % period
    bins = np.arange(0, int(period), 3)
    print(f"1. body height over the step (leg lengths, up positive; phase 0 = labelled contact; period {period:.1f} frames)")
    for name, y in signals.items():
        up = -(y - np.nanmean(y)) / leg_px
        prof = np.array([np.nanmean(up[(phase >= b) & (phase < b + 3)]) for b in bins])
        vel = np.gradient(smooth(prof, 3))
        hi, lo, fall = bins[np.argmax(prof)], bins[np.argmin(prof)], bins[np.argmin(vel)]
        wrap = lambda p: p if p <= period / 2 else p - period  # noqa: E731
        print(f"   {name:10s} range {prof.max() - prof.min():.3f}  highest at {wrap(hi):+4.0f}  lowest at {wrap(lo):+4.0f}  "
              f"fastest fall at {wrap(fall):+4.0f} frames from contact")


def landing_foot(lm: np.ndarray, f: int, sign: float, leg_px: float, after: int = WINDOW) -> np.ndarray:
    """[WINDOW+after+1, 3, 2] ankle/heel/toe of the foot that lands at ``f``, followed by continuity
    from the contact outwards (the model's left/right labels swap, so each frame takes the
    model leg nearest to the previous position)."""
    legs = {s: lm[:, idx, :2].astype(np.float64) for s, idx in LEGS.items()}
    start = max(legs, key=lambda s: sign * legs[s][f, 0, 0])
    out = np.full((WINDOW + after + 1, 3, 2), np.nan)
    out[WINDOW] = legs[start][f]
    for direction in (1, -1):
        prev, vel = legs[start][f], np.zeros((3, 2))
        for d in range(1, (after if direction > 0 else WINDOW) + 1):
            i = f + direction * d
            if not 0 <= i < len(lm):
                break
            pred = prev + vel
            best = min(legs.values(), key=lambda p: float(np.abs(p[i] - pred).sum()))
            # A foot moves at most ~0.1 leg lengths per frame even at 30 fps in fast swing; in slow
            # motion far less: samples this far from the prediction are the other (hallucinated)
            # leg, so the foot is coasted on its prediction instead.
            if np.abs(best[i] - pred).max() > JUMP_LEG_LENGTHS * leg_px:
                out[WINDOW + direction * d] = np.nan
                prev = pred
                continue
            out[WINDOW + direction * d] = best[i]
            vel = 0.5 * vel + 0.5 * (best[i] - prev)
            prev = best[i]
    return out


def plateau_onset(y: np.ndarray, level: float, tol: float) -> int | None:
    """Offset (frames from the contact) of the first frame from which ``y`` (image y, down) stays
    within ``tol`` of ``level`` for 5 frames."""
    for i in range(len(y) - 5):
        if np.isfinite(y[i:i + 5]).all() and np.all(np.abs(y[i:i + 5] - level) <= tol):
            return i - WINDOW
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--landmarks", type=Path, required=True)
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    ap.add_argument("--video", type=Path, default=None, help="the clip, for the shoe-template check (3)")
    args = ap.parse_args()
    for path in (args.landmarks, args.labels):
        if not path.is_file():
            print(f"not found: {path}", file=sys.stderr)
            return 2
    data = np.load(args.landmarks)
    lm = data["landmarks"]
    ics = [e["frame"] for e in json.loads(args.labels.read_text())["events"] if e["type"] == "IC"]
    period = float(np.median(np.diff(ics)))
    hip, knee, ankle = lm[:, int(L.LEFT_HIP), :2], lm[:, int(L.LEFT_KNEE), :2], lm[:, int(L.LEFT_ANKLE), :2]
    leg_px = float(np.nanmedian(np.hypot(*(knee - hip).T) + np.hypot(*(ankle - knee).T)))
    sign = 1.0  # the labelled clip faces right
    print(f"{args.landmarks}: {len(lm)} frames, leg length {leg_px:.1f} px, {len(ics)} labelled contacts\n")
    folded_body(lm, ics, period, leg_px)

    # Belt speed: the landing foot in mid-stance (30-60 % of a step after its contact, well clear
    # of landing and push-off) is carried backwards by the belt.
    speeds = []
    for f in ics:
        if f - WINDOW >= 0 and f + int(0.6 * period) < len(lm):
            x = sign * landing_foot(lm, f, sign, leg_px, after=int(0.6 * period))[:, 0, 0]
            seg = x[WINDOW + int(0.3 * period):]
            ok = np.isfinite(seg)
            if ok.sum() >= 10:
                speeds.append(-np.polyfit(np.arange(len(seg))[ok], seg[ok], 1)[0])
    belt_v = float(np.median(speeds))
    print(f"\n2. landing foot around each labelled contact (belt speed {belt_v:.2f} px/frame = "
          f"{belt_v / leg_px:.4f} leg lengths/frame, from the landing foot's ankle in mid-stance)")
    print("   label  toe@level  heel@level  ankle most anterior  moving back at belt/2  toe above level at IC (leg lengths)")
    tol = 0.02 * leg_px  # ~2 cm: twice the landmark noise measured on the stance foot (~1 px here)
    rows = []
    for f in ics:
        if f - WINDOW < 0 or f + 2 * WINDOW >= len(lm):
            continue
        foot = landing_foot(lm, f, sign, leg_px, after=2 * WINDOW)
        toe_y, heel_y, ank_x = foot[:, 2, 1], foot[:, 1, 1], sign * foot[:, 0, 0]
        toe_level = float(np.nanmedian(toe_y[WINDOW + 5:WINDOW + 20]))
        heel_level = float(np.nanmedian(heel_y[WINDOW + 10:WINDOW + 25])) if np.isfinite(heel_y[WINDOW + 10:WINDOW + 25]).any() else np.nan
        toe_on = plateau_onset(toe_y, toe_level, tol)
        heel_on = plateau_onset(heel_y, heel_level, tol)
        anterior = int(np.nanargmax(ank_x[:2 * WINDOW + 1])) - WINDOW
        back = np.where(np.gradient(smooth(ank_x)) <= -0.5 * belt_v)[0]
        back = [b - WINDOW for b in back if b >= WINDOW - 10]
        back_on = back[0] if back else None
        above = (toe_level - toe_y[WINDOW]) / leg_px
        rows.append((toe_on, heel_on, anterior, back_on))
        print(f"   {f:5d}  {toe_on!s:>9}  {heel_on!s:>10}  {anterior:+19d}  {back_on!s:>21}  {above:+.3f}")
    cols = list(zip(*rows, strict=True))
    names = ("toe@level", "heel@level", "ankle most anterior", "moving back")
    meds = [np.median([v for v in c if v is not None]) if any(v is not None for v in c) else float("nan") for c in cols]
    print("   median offsets (frames): " + ", ".join(f"{n} {m:+.0f}" for n, m in zip(names, meds, strict=True)))
    if args.video is not None:
        if not args.video.is_file():
            print(f"not found: {args.video}", file=sys.stderr)
            return 2
        shoe_template_check(args.video, lm, ics, sign)
    return 0


def shoe_template_check(video: Path, lm: np.ndarray, ics: list[int], sign: float) -> None:
    """Print the landing shoe's image offset (px, forward positive) around each labelled contact."""
    import cv2

    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, im = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(im, cv2.COLOR_BGR2GRAY))
    if len(frames) != len(lm):
        print(f"\n3. skipped: {video} has {len(frames)} frames, the landmarks {len(lm)}")
        return
    offsets = list(range(-4, 45, 3))
    print("\n3. landing shoe, image template matched around each labelled contact (no pose model): "
          "forward offset px relative to its position at +20 frames (match score)")
    print("   label  " + " ".join(f"{o:+6d}" for o in offsets))
    for f in ics:
        ref = f + 20
        if f - 4 < 0 or f + offsets[-1] >= len(frames):
            continue
        # The box around the more anterior foot's ankle/heel/toe at the reference frame.
        legs = [[int(L.LEFT_ANKLE), int(L.LEFT_HEEL), int(L.LEFT_FOOT_INDEX)],
                [int(L.RIGHT_ANKLE), int(L.RIGHT_HEEL), int(L.RIGHT_FOOT_INDEX)]]
        pts = max((lm[ref, idx, :2] for idx in legs), key=lambda p: sign * p[0, 0])
        x0, x1 = int(pts[:, 0].min()) - 6, int(pts[:, 0].max()) + 8
        y0, y1 = int(pts[:, 1].min()) - 6, int(pts[:, 1].max()) + 8
        tpl = frames[ref][y0:y1, x0:x1]
        sx0, sy0 = max(0, x0 - 60), max(0, y0 - 25)
        cells, scores = [], []
        for o in offsets:
            res = cv2.matchTemplate(frames[f + o][sy0:y1 + 10, sx0:x1 + 60], tpl, cv2.TM_CCOEFF_NORMED)
            _, score, _, loc = cv2.minMaxLoc(res)
            cells.append(f"{sign * (loc[0] + sx0 - x0):+3.0f}({score:.1f})")
            scores.append(score)
        if min(scores) > 0.97:
            # The same image in every frame: the box is on static background (the far leg's
            # landmarks placed off the shoe, e.g. on the treadmill console), not on a moving shoe.
            print(f"   {f:5d}  (landmark box on static background: the far foot's landmarks are off the shoe)")
            continue
        print(f"   {f:5d}  " + " ".join(f"{c:>6s}" for c in cells))


if __name__ == "__main__":
    raise SystemExit(main())
