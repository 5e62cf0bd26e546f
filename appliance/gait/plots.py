"""One PNG per gait metric over the steps of a report, for the clinician.

Each plot shows the metric step by step for each foot (valid steps filled, low-confidence steps
hollow), the clinical bands where DOMAIN.md defines them (strike classes, the overstride flag),
and the per-foot median in the legend. matplotlib (the ``video`` extra; Debian's
python3-matplotlib on the Pi) is imported only here, so the live appliance never loads it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from appliance.config import GaitSettings

# (report key, title, unit, reference lines [(value, label)], shaded bands [(lo, hi, label)])
PLOTS = (
    ("foot_strike_angle_deg", "Foot-strike angle at initial contact", "deg", [], []),  # bands: the report's thresholds
    ("shank_angle_deg", "Shank angle at initial contact (+ = ankle ahead of knee)", "deg",
     [(10.0, "overstride flag 10 deg")], []),
    ("heel_to_hip_leg_lengths", "Heel ahead of hip at initial contact", "leg lengths", [(0.0, "")], []),
    ("knee_flexion_deg", "Knee flexion at initial contact", "deg", [], []),
    ("contact_time_s", "Ground contact time", "s", [], []),
    ("cadence_spm", "Cadence (rolling; dots: step by step)", "steps/min", [], []),
    ("duty_factor", "Duty factor (contact / stride time)", "", [(0.5, "walking above")], []),
    ("vertical_oscillation_leg_lengths", "Vertical oscillation of the pelvis", "leg lengths", [], []),
    ("trunk_lean_deg", "Trunk lean (+ = forward)", "deg", [], []),
)
FOOT_COLOURS = {"left": "#1f77b4", "right": "#d62728", "A": "#1f77b4", "B": "#d62728"}
BAND_COLOURS = {"rearfoot": "#fde0c5", "midfoot": "#e5f5e0", "forefoot": "#deebf7"}


def plot_gait(report: dict, out_dir: Path) -> list[Path]:
    """Write ``gait_<metric>.png`` for every metric with at least one measured step; returns the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = report.get("steps") or []
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    x_key = "t_ic"
    thresholds = report.get("strike_thresholds_deg") or {}
    fore = float(thresholds.get("forefoot_below", GaitSettings().forefoot_below_deg))
    rear = float(thresholds.get("rearfoot_above", GaitSettings().rearfoot_above_deg))
    for key, title, unit, lines, bands in PLOTS:
        if key == "foot_strike_angle_deg":
            bands = [(rear, 90.0, "rearfoot"), (fore, rear, "midfoot"), (-90.0, fore, "forefoot")]
        if not any(s.get(key) is not None for s in steps):
            continue
        fig, ax = plt.subplots(figsize=(8, 4.2), dpi=100)
        vals_all = []
        for foot in sorted({s["foot"] for s in steps}):
            mine = [s for s in steps if s["foot"] == foot and s.get(key) is not None and s.get(x_key) is not None]
            if not mine:
                continue
            x = np.array([s[x_key] for s in mine], dtype=float)
            y = np.array([s[key] for s in mine], dtype=float)
            ok = np.array([bool(s.get("valid")) for s in mine])
            colour = FOOT_COLOURS.get(foot, "#555555")
            median = float(np.median(y[ok])) if ok.any() else float("nan")
            label = f"{foot} (median {median:.3g})" if np.isfinite(median) else f"{foot}"
            ax.plot(x[ok], y[ok], "o-", color=colour, ms=4, lw=0.8, label=label)
            if (~ok).any():
                ax.plot(x[~ok], y[~ok], "o", mfc="none", color=colour, ms=5, label=f"{foot}: low confidence")
            if key == "cadence_spm":
                inst = np.array([s.get("instant_cadence_spm") or np.nan for s in mine], dtype=float)
                ax.plot(x, inst, ".", color=colour, alpha=0.35, ms=3)
            vals_all.extend(y.tolist())
        if vals_all:
            # Reference lines stay in view: the clinician reads the steps against them.
            refs = [v for v, _ in lines]
            lo, hi = float(np.nanmin(vals_all + refs)), float(np.nanmax(vals_all + refs))
            pad = max(0.1 * (hi - lo), 1e-3 if unit in ("s", "", "leg lengths") else 1.0)
            ax.set_ylim(lo - pad, hi + pad)
        for b_lo, b_hi, name in bands:
            ax.axhspan(b_lo, b_hi, color=BAND_COLOURS.get(name, "#eeeeee"), zorder=0)
            ylo, yhi = ax.get_ylim()
            mid = min(max((b_lo + b_hi) / 2, ylo), yhi)
            if ylo <= mid <= yhi and (b_lo < yhi and b_hi > ylo):
                ax.text(1.0, (max(b_lo, ylo) + min(b_hi, yhi)) / 2, f" {name}", transform=ax.get_yaxis_transform(),
                        va="center", ha="left", fontsize=8, color="#555555")
        for value, name in lines:
            ax.axhline(value, color="#888888", lw=0.8, ls="--")
            if name:
                ax.text(0.0, value, f" {name}", transform=ax.get_yaxis_transform(), va="bottom", fontsize=8,
                        color="#555555")
        ax.set_title(title)
        ax.set_xlabel("time of initial contact (s)")
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
        fig.tight_layout()
        path = out_dir / f"gait_{key}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written
