"""An ``appliance analyze`` report against a clip's hand labels: the issue's figures.

Reads report.json (the contacts' sub-frame instants ``t_ic`` in real seconds, their strike
classes, the flat-foot reference's spread) and the labels, and prints: labelled contacts with a
contact within the tolerance, extra contacts between the first and last label, timing errors,
the strike classes of the matched contacts against the labelled ones, and what timed and read them.

    .venv/bin/appliance analyze ../shared/data/treadmill_side_slowmo.mp4 --time-scale 0.125 --out /tmp/slow
    .venv/bin/python bench/report_vs_labels.py /tmp/slow/report.json
    .venv/bin/appliance analyze ../shared/data/phone_side_60fps.mp4 --out /tmp/phone
    .venv/bin/python bench/report_vs_labels.py /tmp/phone/report.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
LABELS = {
    "phone_side_60fps.mp4": REPO / "bench" / "labels" / "running_form_img5396.json",
    "treadmill_side_slowmo.mp4": REPO.parent / "shared" / "data" / "treadmill_side_slowmo.labels.json",
}
TOLERANCE = {"phone_side_60fps.mp4": 1.5, "treadmill_side_slowmo.mp4": 5.0}  # the issue's, in frames


def labels_of(path: Path) -> tuple[list[float], list[str | None]]:
    data = json.loads(path.read_text())
    if "ic" in data:
        return [float(x) for x in data["ic"]], [None] * len(data["ic"])
    ics = [e for e in data["events"] if e["type"] == "IC"]
    return [float(e["frame"]) for e in ics], [e.get("strike") for e in ics]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path)
    ap.add_argument("--labels", type=Path, default=None, help="default: the clip's known labels")
    args = ap.parse_args()
    if not args.report.is_file():
        print(f"not found: {args.report}", file=sys.stderr)
        return 2
    report = json.loads(args.report.read_text())
    clip = Path(report["clip"]).name
    labels_path = args.labels or LABELS.get(clip)
    if labels_path is None or not labels_path.is_file():
        print(f"no labels for {clip} (give --labels)", file=sys.stderr)
        return 2
    labels, strikes = labels_of(labels_path)
    tol = TOLERANCE.get(clip, 1.5)
    per_frame = report["fps"] / report["time_scale"]  # clip frames per real second
    steps = report["steps"]
    at = [s["t_ic"] * per_frame for s in steps]
    matched, used = [], set()
    for label, strike in zip(labels, strikes, strict=True):
        near = [(abs(a - label), i) for i, a in enumerate(at) if i not in used]
        d, i = min(near, default=(np.inf, -1))
        if d <= tol:
            used.add(i)
            matched.append((label, strike, steps[i], at[i] - label))
    extra = [round(at[i], 1) for i in range(len(at)) if i not in used and labels[0] - tol <= at[i] <= labels[-1] + tol]
    print(f"{clip}: {len(matched)}/{len(labels)} labelled contacts within ±{tol:g} frames, {len(extra)} extra {extra}")
    if matched:
        err = np.array([m[3] for m in matched])
        print(f"  timing error (frames): median {np.median(err):+.2f}, max |e| {np.max(np.abs(err)):.2f}")
    print(f"  strikes of all contacts: {dict(Counter(s['strike'] for s in steps))}")
    labelled = [(m[1], m[2]["strike"]) for m in matched if m[1]]
    if labelled:
        print(f"  matched contacts' strike as labelled: {sum(a == b for a, b in labelled)}/{len(labelled)}")
    ref = report.get("flat_foot_reference", {})
    print(f"  flat-foot reference: {ref.get('source')}, spread {ref.get('spread_deg')} deg; strike_unsteady "
          f"{report.get('strike_unsteady')}")
    print(f"  contacts timed by {report.get('contacts_timed_by')}, angles read by {report.get('strikes_read_by')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
