"""The belt line, found from the stance-phase foot path.

On a treadmill the stance foot slides backwards along the belt, so the lowest positions of the heel
and of the toe over the last few seconds lie on parallel lines: the belt seen through each
landmark of each foot. Their common slope is the camera's roll. Each landmark keeps its own line
("stance level") because the heel landmark sits above the sole and the toe landmark at it, and
each foot its own because the far foot's contact is seen higher in the image than the near one's.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from appliance.gait.tuning import GAIT_TUNING, BeltTuning


@dataclass(frozen=True)
class BeltLine:
    """y = intercept + slope * x (pixels) for each foot track's heel and toe landmark when on the
    belt, and the landmark noise measured on the stance samples (leg lengths, robust std).

    Each foot has its own levels: a camera above the belt sees the far foot's contact higher in
    the image than the near foot's (perspective), by up to a tenth of a leg length.
    """

    slope: float
    intercepts: dict  # (track 0/1, "heel"/"toe") -> intercept px
    noise_leg_lengths: float

    @property
    def roll_rad(self) -> float:
        return math.atan(self.slope)

    @property
    def toe_intercept(self) -> float:
        """The lower (nearer) of the two feet's toe lines: the belt edge for drawing and the panel."""
        return max(self.intercepts[(0, "toe")], self.intercepts[(1, "toe")])

    def height_px(self, point: np.ndarray, which: str, track: int) -> float:
        """Distance of ``point`` above this foot's landmark stance line, in pixels (positive up)."""
        a = self.intercepts[(track, which)]
        return (a + self.slope * point[0] - point[1]) * math.cos(self.roll_rad)

    def y_at(self, x: float) -> float:
        """The belt (near toe line) at image column ``x``: for drawing."""
        return self.toe_intercept + self.slope * x


def half_sample_mode(values: np.ndarray) -> float:
    """Robust mode (Bickel's half-sample mode): the densest value of a sample.

    The stance samples of a landmark form a dense cluster at its belt level with a one-sided tail
    of feet rolling on or off the belt; the mode sits on the cluster where a median would be pulled
    towards the tail.
    """
    v = np.sort(np.asarray(values, dtype=np.float64))
    while v.size > 3:
        h = (v.size + 1) // 2
        widths = v[h - 1:] - v[: v.size - h + 1]
        i = int(np.argmin(widths))
        v = v[i:i + h]
    return float(np.median(v))


class BeltEstimator:
    """Collects each foot track's heel and toe positions over the last ``tuning.window_s`` and
    refits the belt lines every ``tuning.refit_s`` seconds: one common slope, a level per foot and
    landmark."""

    def __init__(self, tuning: BeltTuning = GAIT_TUNING.belt):
        self.tuning = tuning
        self.window_s = tuning.window_s
        self.refit_s = tuning.refit_s
        self.min_samples = tuning.min_samples
        self._samples: deque[tuple[float, float, float, float, float, int]] = deque()
        self._last_fit_t = -math.inf
        self._job = None  # a refit in progress (generator), advanced one stage per update
        self._fits: deque[tuple[BeltLine, float]] = deque(maxlen=tuning.published_fits)  # (line, feet's x px)
        self.line: BeltLine | None = None

    @property
    def settled(self) -> bool:
        """Whether the line is the median of several fits (a single early fit can be far off)."""
        return len(self._fits) >= self.tuning.settled_fits

    def add(self, t: float, heel: np.ndarray, toe: np.ndarray, track: int) -> None:
        self._samples.append((t, heel[0], heel[1], toe[0], toe[1], track))
        while self._samples and self._samples[0][0] < t - self.window_s:
            self._samples.popleft()

    def update(self, t: float, leg_px: float) -> BeltLine | None:
        """Refit when due; returns the current lines (None until enough samples).

        While the belt is being found (the first ``settled_s`` seconds of samples), refits run at
        once (nothing can be measured without the line, and each early refit improves it a lot);
        later refits run in stages, one per call, on a snapshot of the samples, and replace the line when complete.
        A refit in one go costs 1.5-2 ms, more than the whole tracker's 1 ms per-frame budget;
        in stages it costs ~0.1-0.2 ms per frame, and the line (an average over seconds) is
        at most ~16 frames older.
        """
        if self._job is not None:
            self._step_job()
            return self.line
        if t - self._last_fit_t < self.refit_s or len(self._samples) < self.min_samples:
            return self.line
        if t - self._samples[0][0] < self.tuning.min_duration_s:
            return self.line
        self._last_fit_t = t
        self._job = self._fit(np.asarray(self._samples), t - self._samples[0][0], leg_px)
        if self.line is None or t - self._samples[0][0] < self.tuning.settled_s:
            while self._job is not None:
                self._step_job()
        else:
            self._step_job()
        return self.line

    def _step_job(self) -> None:
        """Run the pending refit's next stage; publish its line when it completes."""
        try:
            next(self._job)
        except StopIteration as done:
            self._job = None
            if done.value is not None:
                self._fits.append(done.value)
                self.line = self._median_line()

    def _median_line(self) -> BeltLine:
        """The median of the latest fits: slope and each level taken separately, the levels
        compared where the feet are (at x = 0 a small change of slope would move them)."""
        x_feet = float(np.median([x for _, x in self._fits]))
        lines = [line for line, _ in self._fits]
        slope = float(np.median([line.slope for line in lines]))
        intercepts = {
            key: float(np.median([line.intercepts[key] + line.slope * x_feet for line in lines])) - slope * x_feet
            for key in lines[-1].intercepts
        }
        return BeltLine(slope, intercepts, float(np.median([line.noise_leg_lengths for line in lines])))

    def _fit(self, a: np.ndarray, span_s: float, leg_px: float):
        """The belt lines from samples ``a`` spanning ``span_s`` seconds: a generator that yields
        between stages and returns the BeltLine and the feet's median x (None when the samples do
        not allow a fit)."""
        tuning = self.tuning
        if len(a) > tuning.max_fit_samples:
            # At 60-240 fps every n-th sample of each foot keeps the fit cheap. Per foot: the two
            # feet's samples alternate, so every n-th of the whole would, for an even n, keep one
            # foot only.
            step = int(np.ceil(len(a) / tuning.max_fit_samples))
            a = np.concatenate([a[a[:, 5] == k][::step] for k in (0, 1)])
        a = a[np.isfinite(a).all(axis=1)]
        if len(a) < self.min_samples:
            return None
        groups = {}
        for k in (0, 1):
            mine = a[a[:, 5] == k]
            if len(mine) < self.min_samples // 3:
                mine = a  # a foot seen too little yet: share the other's samples
            groups[(k, "heel")] = (mine[:, 1], mine[:, 2])
            groups[(k, "toe")] = (mine[:, 3], mine[:, 4])
        # Every fit starts level (a side camera is mounted roughly level) rather than from the last
        # slope, so one bad early fit cannot anchor the later ones.
        slope = 0.0
        # Start from the lowest positions of each landmark, then alternate: stance level per foot
        # and landmark (the dense cluster of stance samples; feet just lifting or landing, which sit
        # above it, are trimmed away) and a common slope fitted to the kept samples.
        sel = {}
        for key, (x, y) in groups.items():
            r = y - slope * x
            sel[key] = r >= np.quantile(r, tuning.low_quantile) - tuning.stance_band * leg_px
        # The first slope comes from this broad selection: near a level fitted with the belt taken
        # as level, a tilted belt's stance path is cut short, too short to show its tilt.
        broad = dict(sel)
        intercepts: dict = {}
        sigmas: dict = {}
        settled = False
        for rnd in range(tuning.max_fit_rounds):
            for key, (x, y) in groups.items():
                yield
                r = y - slope * x
                if sel[key].sum() < tuning.min_level_samples:
                    return None
                level = half_sample_mode(r[sel[key]])
                # Noise from the side below the level only: the side above also holds feet rolling
                # onto or off the belt. Stance samples are then re-selected within an asymmetric
                # band of that noise around the level (belt_side_cut, air_side_cut).
                below = r[sel[key] & (r >= level)] - level
                sigma = max(1.4826 * float(np.median(below)) if below.size else 0.0, 0.005 * leg_px)
                # Re-selected from all samples each round, so a first guess made with the belt
                # taken as level can still take in the whole stance path of a tilted belt.
                near = (r - level <= tuning.belt_side_cut * sigma) & (level - r <= tuning.air_side_cut * sigma)
                if near.sum() >= tuning.min_level_samples:
                    sel[key] = near
                intercepts[key] = level
                sigmas[key] = sigma
            if settled:  # the levels are now those of the final slope
                break
            fit_sel = broad if rnd == 0 else sel
            xs = np.concatenate([groups[g][0][fit_sel[g]] for g in groups])
            if span_s < tuning.roll_duration_s or (np.quantile(xs, 0.9) - np.quantile(xs, 0.1)) / leg_px < tuning.min_span:
                if rnd >= 2:  # level belt: three rounds of re-selection settle the levels
                    break
                continue
            num = den = 0.0
            for key, (x, y) in groups.items():
                fx, fy = x[fit_sel[key]], y[fit_sel[key]]
                num += float(((fx - fx.mean()) * (fy - fy.mean())).sum())
                den += float(((fx - fx.mean()) ** 2).sum())
            if den <= 0 or abs(math.degrees(math.atan(num / den))) > tuning.max_roll_deg:
                break
            settled = abs(num / den - slope) < tuning.slope_settled
            slope = num / den
        noise = float(np.median([v / leg_px for v in sigmas.values()]))
        return BeltLine(slope, intercepts, noise), float(np.median(a[:, [1, 3]]))
