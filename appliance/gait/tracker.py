"""The causal gait tracker: poses in, steps out, one call per frame.

Per frame: the two labelled legs are assigned to two foot tracks by continuity (identity.py); the
runner's facing direction is voted from toe-ahead-of-heel and nose-ahead-of-ears; the belt line
(belt.py) gives every foot landmark a height above its own stance level. Each foot runs a small
state machine on the height of its lowest landmark (heel or toe):

* swing -> stance (initial contact): the lowest point comes within the contact height of the belt
  while that foot is the front one. The contact instant is where the foot's descent, fitted over the
  last 60 ms before it, meets the belt (sub-frame, landing.py), so a 30 fps camera does not quantise
  contacts to 33 ms; the step's measures are read at that instant (step_measures.py). The step is
  emitted (for the cue) once the next frames (12.5 ms, at least two) are on the belt too; a foot that skimmed
  the belt through its swing (a shuffle) shows its landing only in the belt's pull, so it waits
  until the belt carries it backwards (or 300 ms on the belt). Once the belt carries the foot, the
  contact is re-timed by the onset of that pull, which landmark noise at 120-240 fps does not move
  as it moves the height, and the step is re-measured there: the final emission carries the re-timed
  contact. The first emission comes 2-3 frames after the contact it reports; at 120-240 fps under
  landmark noise the height often shows a contact only 4-5 frames later (bench/gait_lookahead.py).
* stance -> swing (toe-off): the toe rises above the contact height, confirmed the same way; the
  instant is where the rise, extrapolated back, leaves the belt. In stance the foot stands still on
  the belt, and can leave it only from rest: a sample further from where the belt has carried it
  than a lifting foot could be is the pose model drawing the stance leg elsewhere (on the passing
  swing foot), and is set aside, for at most 200 ms.
* a foot must rise above the airborne height after toe-off, or be carried forwards by a footprint's
  length (which a foot on the belt cannot be: a shuffling jogger's feet may never rise clearly
  above the landmark noise; the toe-off is then where the foot was rearmost), before its next
  contact counts, and the same foot cannot land twice within two of the shortest plausible steps.

This is Zeni et al.'s coordinate method turned around for a treadmill: rather than the most anterior
heel position (which in running comes before contact because the foot retracts), contact is the
moment the foot reaches the belt, which is what the clinical definition says.

A step is emitted when its contact is confirmed (metrics at IC) and again, with the same index and
``final=True``, when its toe-off is confirmed (contact time, TO, duty factor; the contact re-timed
by the belt's pull and the metrics at IC re-measured there).

With the foot stage's evidence (appliance/feet/, ``update(..., feet=)``), the pixels time the
contacts: a belt lock after a touch, on the foot the landmarks put at that shoe, re-times the
landmarks' contact nearest it (sending its final step again if it went out already) or is a
contact of its own; while the stage sees the runner's landings, a contact only the landmarks
found is reported but not valid. Heavy's look at a contact (``look_request`` / ``apply_look``)
re-reads its angles before the toe-off.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from appliance.config import GaitSettings
from appliance.feet.contact_look import classify_strike, reading_from_landmarks
from appliance.feet.events import FootEvent
from appliance.feet.looks import Look, LookRequest
from appliance.feet.stage import FootEvidence
from appliance.gait.belt import BeltEstimator, BeltLine
from appliance.gait.belt_speed import BeltSpeedEstimator, moving_with_belt
from appliance.gait.cadence import CadenceEstimator
from appliance.gait.calibration import Calibration
from appliance.gait.facing import FacingVote
from appliance.gait.foot_samples import FootHistory, FootSample, TimeWindow, observed_between
from appliance.gait.geometry import (
    ANKLE,
    HEEL,
    HIPS,
    KNEE,
    SHOULDERS,
    TOE,
    belt_components,
    foot_angle_image_deg,
    leg_length_px,
    leg_points,
)
from appliance.gait.identity import FootIdentity
from appliance.gait.landing import belt_onset, descent_speed, event_time
from appliance.gait.rhythm import RhythmEstimator
from appliance.gait.step_measures import contact_measures, pelvis_metrics
from appliance.gait.tuning import GAIT_TUNING, GaitTuning
from appliance.landmarks import L
from appliance.types import Pose, Step


@dataclass(frozen=True)
class GaitState:
    """A snapshot for the runtime and the panel. ``moving`` is absent, standing, walking or running."""

    t: float
    direction: str | None
    belt_slope: float | None
    belt_intercept_px: float | None
    leg_length_px: float | None
    moving: str
    cadence_spm: float
    last_step: Step | None
    calibrated: bool

    @property
    def running(self) -> bool:
        return self.moving == "running"


@dataclass
class _FootState:
    phase: str = "unknown"  # unknown | swing | stance | lifted (after TO, not yet airborne)
    ic_candidate: int | None = None  # absolute sample number of the first frame on the belt
    refine_from: int | None = None  # the same, for a contact still to be re-timed by the belt's pull
    above_from: int | None = None  # first sample back above the contact height since the candidate
    to_candidate: int | None = None
    last_ic_t: float = -math.inf
    last_to_t: float = -math.inf
    step: Step | None = None  # the step of the current/last stance
    stance_mid_angles: list | None = None
    rearmost_fwd: float = math.inf  # rearmost position along the belt since the last swing (px)
    rearmost_at: int | None = None  # the absolute sample number where it was rearmost
    on_belt: tuple[float, float] | None = None  # (t, position along the belt px) last seen on the belt in stance
    holding: bool = False  # its samples are being set aside as not the stance foot


class GaitTracker:
    """Causal gait analysis of a side-view treadmill runner; see the module docstring.

    Example::

        tracker = GaitTracker(settings.gait, calibration)
        for pose, t, i in frames:
            for step in tracker.update(pose, t, i):
                ...  # step.final False: just landed; True: the same step with its toe-off
    """

    def __init__(self, settings: GaitSettings | None = None, calibration: Calibration | None = None,
                 replay_warm_up: bool = False, tuning: GaitTuning = GAIT_TUNING):
        self.settings = settings or GaitSettings()
        self.tuning = tuning
        self._tune = tuning.tracker
        # Offline analysis keeps the frames seen until the belt line has settled and then replays
        # them, so a clip's first contacts are found too (live, they would come too late to cue).
        self._warming_up = replay_warm_up
        self._warm_up = TimeWindow(self._tune.warm_up_s)  # update()'s arguments, to replay
        self._line_since = math.inf  # when the belt line first existed while warming up
        self.calibration = calibration
        self.identity = FootIdentity(tuning.identity)
        self.rhythm = RhythmEstimator(60.0 / self.settings.max_cadence_spm, 60.0 / self.settings.min_cadence_spm,
                                      tuning.rhythm)
        self.belt = BeltEstimator(tuning.belt)
        self.belt_speed = BeltSpeedEstimator(tuning.belt_speed)
        self.cadence = CadenceEstimator(
            self.settings.cadence_window_s, 60.0 / self.settings.max_cadence_spm, 60.0 / self.settings.min_cadence_spm,
            tuning.rhythm,
        )
        history_s = self._tune.history_s
        self._history = [FootHistory(history_s, tuning.foot_samples), FootHistory(history_s, tuning.foot_samples)]
        self._feet = [_FootState(), _FootState()]
        self._legs_px: deque[float] = deque(maxlen=self._tune.leg_length_samples)
        self._pelvis = TimeWindow(history_s)  # (t, pelvis up, lean, frame)
        self.facing = FacingVote(calibration.direction if calibration is not None else None, tuning.facing)
        self._dt = 1 / 30
        self._last_t: float | None = None
        self._last_pose_t = -math.inf
        self._step_index = 0
        self._flat_angles: deque[float] = deque(maxlen=self._tune.flat_reference_stances)
        self._last_step: Step | None = None
        self._recent_flight: deque[float] = deque(maxlen=8)
        self._leg_cache: float | None = None
        self._last_footprint = (math.nan, math.nan)  # (t, position along the belt px) of the last contact
        self._pending_footprint = (math.nan, math.nan)
        self._t = 0.0
        self._pixel_landings: deque[float] = deque(maxlen=8)  # the foot stage's recent touches
        self._pixels_since = math.inf  # when the foot stage first knew the belt's speed
        self._shoe_at_contact: dict[int, tuple[float, float]] = {}  # step index -> the stage's shoe (px)
        self._contact_times: deque[float] = deque(maxlen=8)
        self._heavy_flat: deque[float] = deque(maxlen=self._tune.flat_reference_stances)  # heavy's mid-stance angles
        self.late_looks = 0  # heavy looks that came back after their step's toe-off

    # --- public ------------------------------------------------------------------------------
    @property
    def state(self) -> GaitState:
        line = self.belt.line
        return GaitState(
            self._t, self.facing.direction, line.slope if line else None, line.toe_intercept if line else None,
            self._leg_px(), self._moving(), self._cadence_spm(), self._last_step, self.calibration is not None,
        )

    @property
    def flat_reference(self) -> dict:
        """The flat-foot angle the strike angles are measured from: ``source`` (``heavy
        mid-stance``: heavy's median mid-stance foot angle over its last looks, ``calibration``,
        ``mid-stance``: the median foot angle at 25-45 % of the last stances, or ``none`` yet),
        ``angle_deg``, and for mid-stance its ``spread_deg`` (interquartile range over
        ``stances``). A real foot is flat in mid-stance within a few degrees; a spread of 10 deg
        or more is the pose model's foot landmarks wandering, and then single steps' strike angles
        are that uncertain too (a calibration fixes the reference, not that wander, so the spread
        is given with a calibration too)."""
        if len(self._heavy_flat) >= 3:
            # Heavy's own mid-stance angles are the reference for the angles heavy reads (a
            # standing calibration measured the per-frame model's feet).
            q25, q50, q75 = np.percentile(self._heavy_flat, [25, 50, 75])
            return {"source": "heavy mid-stance", "angle_deg": float(q50), "spread_deg": float(q75 - q25),
                    "stances": len(self._heavy_flat)}
        stances = len(self._flat_angles)
        q25, q50, q75 = np.percentile(self._flat_angles, [25, 50, 75]) if stances >= 3 else (np.nan,) * 3
        spread = float(q75 - q25) if stances >= 3 else None
        if self.calibration is not None:
            return {"source": "calibration", "angle_deg": self.calibration.flat_foot_angle_deg,
                    "spread_deg": spread, "stances": stances}
        if stances < 3:
            return {"source": "none", "angle_deg": None, "spread_deg": None, "stances": stances}
        return {"source": "mid-stance", "angle_deg": float(q50), "spread_deg": spread, "stances": stances}

    def update(self, pose: Pose | None, t: float, frame_index: int, feet: FootEvidence | None = None) -> list[Step]:
        """Feed one frame (``pose`` None: nobody seen) and, when the foot stage runs, what the
        pixels say about the feet in it (``feet``: its touches time the contacts); returns the steps
        confirmed at this frame."""
        pixels = tuple(feet.events) if feet is not None and feet.belt_velocity is not None else None
        if pixels is not None and not math.isfinite(self._pixels_since):
            self._pixels_since = t
        if self._last_t is not None:
            if t <= self._last_t:
                raise ValueError(f"frame times must increase: got t={t} after {self._last_t}")
            # Frame interval: a slowly adapting median-like estimate, robust to dropped frames.
            dt = t - self._last_t
            if dt < 1.5 * self._dt:
                self._dt += 0.1 * (dt - self._dt)
        self._last_t = t
        self._t = t
        if pose is None or not np.isfinite(pose.landmarks[[int(L.LEFT_HIP), int(L.RIGHT_HIP)], :2]).all():
            return []
        self._last_pose_t = t
        lm = pose.landmarks
        self._observe_rhythm(lm, t)
        legs = {side: leg_points(lm, side) for side in ("left", "right")}
        self._observe_scale(legs)
        leg_px = self._leg_px()
        if leg_px is None:
            return []
        self.facing.add(lm, legs, self._dt)
        if self.facing.direction is not None:
            legs = {side: self._plausible(pv) for side, pv in legs.items()}
        obs = self.identity.assign(t, legs, leg_px)
        for k, o in enumerate(obs):
            if o.observed and min(o.visibility[HEEL], o.visibility[TOE]) >= self.settings.min_visibility:
                self.belt.add(t, o.points[HEEL], o.points[TOE], k)
        line = self.belt.update(t, leg_px)
        if line is None or self.facing.direction is None or (self._warming_up and not self.belt.settled):
            if self._warming_up:
                self._warm_up.append((t, frame_index, lm, obs, pixels))
                if line is not None and self.facing.direction is not None and not math.isfinite(self._line_since):
                    self._line_since = t
            return []
        out = self.end_warm_up() if self._warming_up else []
        out.extend(self._measure(t, frame_index, lm, obs, pixels, line, leg_px))
        return out

    def end_warm_up(self) -> list[Step]:
        """Replay the frames kept while the belt line settled (``replay_warm_up``) with the line
        as it is now, and stop keeping them; returns the steps found in them. Called by itself
        once the line has settled; call it at the end of a clip shorter than that, when only the
        frames since the first line are replayed (what a live tracker would have measured: the
        very first fit is too rough for the contacts before it)."""
        self._warming_up = False
        if not self.belt.settled:
            while self._warm_up and self._warm_up[0][0] < self._line_since:
                self._warm_up.popleft()
        line, leg_px = self.belt.line, self._leg_px()
        if line is None or leg_px is None or self.facing.direction is None:
            self._warm_up.clear()
            return []
        out: list[Step] = []
        while self._warm_up:
            out.extend(self._measure(*self._warm_up.popleft(), line, leg_px))
        return out

    def look_request(self, step: Step) -> LookRequest:
        """What the heavy model should look at for ``step`` (just landed): the frames around its
        contact and over its mid-stance, 25-45 % of the contact (the recent contact times, else 0.7
        of a step period, else 0.25 s), where the foot is flat on the belt."""
        period = self._step_period()
        contact = (float(np.median(self._contact_times)) if self._contact_times
                   else 0.7 * period if math.isfinite(period) else 0.25)
        lo, hi = self._tune.mid_stance
        return LookRequest(step.index, step.t_ic, (step.t_ic + lo * contact, step.t_ic + hi * contact),
                           self._shoe_at_contact.pop(step.index, None))

    def apply_look(self, look: Look) -> None:
        """Re-read the strike, shank and knee angles of the step ``look`` was asked for from
        heavy's landmarks, while that step is still in stance (its final emission carries them);
        heavy's mid-stance foot angle joins the flat reference. A look back after the toe-off is
        counted in ``late_looks``."""
        k = next((k for k in (0, 1) if self._feet[k].step is not None and self._feet[k].step.index == look.request.key), None)
        line = self.belt.line
        if k is None or self._feet[k].step.final or line is None or self.facing.direction is None:
            self.late_looks += 1
            return
        sign = 1.0 if self.facing.direction == "right" else -1.0
        reading = reading_from_landmarks(look.plan, look.contact, look.mid, sign, shoe_centre=look.request.shoe_centre,
                                         settings=self.settings, roll_rad=line.roll_rad)
        if math.isfinite(reading.flat_reference_deg):
            self._heavy_flat.append(reading.flat_reference_deg)
        if not (math.isfinite(reading.foot_angle_deg) and self._heavy_flat):
            return
        ref = self.flat_reference
        fsa = reading.foot_angle_deg - (ref["angle_deg"] if ref["source"] == "heavy mid-stance" else reading.flat_reference_deg)
        step = replace(self._feet[k].step, foot_strike_angle_deg=fsa, strike=classify_strike(fsa, self.settings),
                       shank_angle_deg=reading.shank_angle_deg, knee_flexion_deg=reading.knee_flexion_deg,
                       strike_read_by="heavy",
                       strike_spread_deg=ref["spread_deg"] if ref["spread_deg"] is not None else math.nan)
        if self._last_step is self._feet[k].step:
            self._last_step = step
        self._feet[k].step = step

    def _measure(self, t: float, frame_index: int, lm: np.ndarray, obs: list, pixels: tuple[FootEvent, ...] | None,
                 line: BeltLine, leg_px: float) -> list[Step]:
        """Append one frame's pelvis and foot samples, advance both feet's state machines on their
        heights, and take the foot stage's events (``pixels``; None while it does not run or knows
        no belt speed yet): its landings time the contacts."""
        self._t = t
        sign = 1.0 if self.facing.direction == "right" else -1.0
        pelvis = lm[HIPS, :2].astype(np.float64).mean(axis=0)  # hips were checked finite above
        shoulders = lm[SHOULDERS, :2].astype(np.float64)
        shoulders = shoulders.mean(axis=0) if np.isfinite(shoulders).all() else pelvis + np.array([0.0, -leg_px])
        _, pelvis_up = belt_components(pelvis - np.array([0.0, line.toe_intercept]), sign, line.roll_rad)
        fwd, up = belt_components(shoulders - pelvis, sign, line.roll_rad)
        self._pelvis.append((t, pelvis_up / leg_px, math.degrees(math.atan2(fwd, up)), frame_index))
        for k, o in enumerate(obs):
            self._append_sample(k, t, frame_index, o, line, leg_px, sign)
        out: list[Step] = []
        for k in (0, 1):
            out.extend(self._advance(k, line, leg_px, sign, pelvis))
        if pixels is not None:
            out.extend(self._pixel_contacts(pixels, line, leg_px, sign))
        return out

    # --- per-frame measurements ----------------------------------------------------------------
    def _observe_scale(self, legs) -> None:
        best = max(legs.values(), key=lambda pv: float(pv[1][:3].min()) if np.isfinite(pv[1][:3]).all() else -1.0)
        pts, vis = best
        if np.isfinite(pts[:3]).all() and vis[:3].min() >= self.settings.min_visibility:
            self._legs_px.append(leg_length_px(pts))
            if len(self._legs_px) >= 3 and (self._leg_cache is None or len(self._legs_px) % 8 == 0):
                self._leg_cache = float(np.median(self._legs_px))

    def _observe_rhythm(self, lm: np.ndarray, t: float) -> None:
        """Feed the trunk's height (mean image y of hips and shoulders) to the rhythm estimator."""
        trunk = lm[np.concatenate([HIPS, SHOULDERS]), 1].astype(np.float64)
        if np.isfinite(trunk).all():
            self.rhythm.add(t, float(trunk.mean()), self._dt)

    def _cadence_spm(self) -> float:
        """Rolling cadence from the contacts, else from the trunk's rhythm (NaN before either)."""
        c = self.cadence.rolling_spm
        return c if math.isfinite(c) else self.rhythm.cadence_spm

    def _step_period(self) -> float:
        """The step period (s): from the trunk's rhythm, else from the contacts (NaN before either)."""
        p = self.rhythm.period_s
        return p if math.isfinite(p) else self.cadence.period_s()

    def _leg_px(self) -> float | None:
        if self.calibration is not None and len(self._legs_px) < 5:
            return self.calibration.leg_length_px
        return self._leg_cache

    def _plausible(self, leg: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The leg unchanged, or with no points when its shank points impossibly far forward."""
        pts, vis = leg
        sign = 1.0 if self.facing.direction == "right" else -1.0
        line = self.belt.line
        fwd, up = belt_components(pts[ANKLE] - pts[KNEE], sign, line.roll_rad if line else 0.0)
        if math.degrees(math.atan2(fwd, -up)) > self._tune.max_shank_forward_deg:
            return np.full_like(pts, np.nan), np.zeros_like(vis)
        return leg

    def _append_sample(self, k: int, t: float, frame: int, o, line: BeltLine, leg_px: float, sign: float) -> None:
        if o.observed:
            hh = line.height_px(o.points[HEEL], "heel", k) / leg_px
            ht = line.height_px(o.points[TOE], "toe", k) / leg_px
            g = min(hh, ht)
            fwd, _ = belt_components(0.5 * (o.points[HEEL] + o.points[TOE]), sign, line.roll_rad)
            ha = line.height_px(o.points[ANKLE], "heel", k) / leg_px
        else:
            g = ht = hh = fwd = ha = float("nan")
        self._history[k].append(FootSample(t, frame, o.points, o.visibility, o.observed, o.ambiguous, g, ht, hh, fwd, ha))

    def _contact_height(self, line: BeltLine) -> float:
        return max(self.settings.contact_height_leg_lengths, self._tune.noise_multiplier * line.noise_leg_lengths)

    def _airborne_height(self, line: BeltLine) -> float:
        return max(self.settings.airborne_height_leg_lengths, 2 * self._contact_height(line))

    def _confirm_frames(self) -> int:
        """Frames on the belt after an event before it is confirmed: ``confirm_s`` at the measured
        frame interval, at least ``min_confirm_samples``."""
        return int(max(self._tune.min_confirm_samples, round(self._tune.confirm_s / self._dt)))

    # --- event state machine -------------------------------------------------------------------
    def _advance(self, k: int, line: BeltLine, leg_px: float, sign: float, pelvis: np.ndarray) -> list[Step]:
        hist = self._history[k]
        foot = self._feet[k]
        s = hist[-1]
        if not s.observed:
            return []
        thr = self._contact_height(line)
        air = self._airborne_height(line)
        n_conf = self._confirm_frames()
        now = hist.newest_number
        out: list[Step] = []
        if foot.phase == "stance" and not self._stance_plausible(k, s, line, leg_px):
            return out
        # The belt's speed from feet it carries: in stance, flat on the belt, and past the landing
        # (a landing foot may still slide forwards; a foot of unknown phase may be anywhere).
        if foot.phase == "stance" and foot.refine_from is None and max(s.heel_h, s.toe_h) < thr:
            self.belt_speed.add(self._history[k], thr, self._dt)
        if foot.phase != "swing" and s.fwd < foot.rearmost_fwd:
            foot.rearmost_fwd, foot.rearmost_at = s.fwd, now
        # A foot on the belt only moves backwards: one carried forwards by a footprint's length
        # from where it was rearmost is in swing, even if it never rose above the contact or the
        # airborne height (a shuffling jogger's foot skims the belt).
        spacing = self._tune.min_footprint_spacing * leg_px
        swinging_forwards = s.fwd - foot.rearmost_fwd > spacing and hist.persists(lambda x: x.fwd - foot.rearmost_fwd > spacing)
        if foot.phase in ("unknown", "lifted"):
            if swinging_forwards or (s.g > air and hist.persists(lambda x: x.g > air)):
                self._start_swing(foot)
            return out
        if foot.phase == "swing":
            if foot.ic_candidate is None:
                if s.g < thr and self._may_land(k, s, sign, line):
                    foot.ic_candidate = now
            else:
                if s.g >= thr:
                    if foot.above_from is None:
                        foot.above_from = now
                    if hist.persists(lambda x: x.g >= thr):
                        foot.ic_candidate = foot.above_from = None  # a dip, not a landing
                else:
                    if foot.above_from is not None:
                        if not hist.drop_spike(hist.index(foot.above_from), thr):
                            foot.ic_candidate = now  # it rose and came down again: land from here
                        foot.above_from = None
                    first = hist.index(foot.ic_candidate)
                    t_ic = self._height_contact_time(k, first, line, n_conf)
                    # Confirmed from the height alone once n_conf frames have been seen on the belt
                    # after the contact instant, so the step goes out within the look-ahead bound;
                    # its time is refined from the belt's pull while the foot is on the belt. A
                    # foot that skimmed the belt through its swing (a shuffle) shows its landing
                    # only in that pull, so it is confirmed once the belt carries it (or after
                    # 300 ms within the contact height, longer than any landing approach).
                    if s.t >= t_ic + (n_conf - 0.5) * self._dt and (
                            self._carried_since(k, first) or self._was_airborne(k, first, air)):
                        landed, foot.ic_candidate = foot.ic_candidate, None
                        if not self._new_footprint(k, first, self._belt_speed(), leg_px):
                            # The belt already carries a foot here: this track has picked up the
                            # stance foot (an identity mix-up), not a new landing.
                            foot.phase = "unknown"
                            return out
                        if self._pixels_landed_near(t_ic):
                            # The foot stage took this landing already (it times it better).
                            foot.phase = "unknown"
                            return out
                        out.append(self._initial_contact(k, first, t_ic, line, leg_px, sign))
                        foot.refine_from = landed
            return out
        # stance
        if s.g >= thr:
            if foot.above_from is None:
                foot.above_from = now
        elif foot.above_from is not None:
            # Back on the belt: a foot thrown up for a few frames was a pose-model glitch.
            hist.drop_spike(hist.index(foot.above_from), thr)
            foot.above_from = None
        if foot.refine_from is not None and foot.above_from is None:
            self._refine_contact(k, line, leg_px, sign, at_toe_off=False)
        if swinging_forwards and foot.rearmost_at is not None:
            # Toe-off went unseen in the height: the foot left the belt where it was rearmost
            # (Zeni et al.'s toe-off).
            step = self._toe_off(k, max(0, hist.index(foot.rearmost_at)), line, leg_px, sign)
            self._start_swing(foot)
            return [step] if step is not None else []
        if foot.to_candidate is None:
            # The heel is up well before the toe leaves the belt: with the heel down, a rising toe
            # marker is a forefoot landing flat (the marker then sits on the top of the shoe).
            if min(s.toe_h, s.heel_h) >= thr and s.t - foot.last_ic_t >= self._tune.min_contact_s:
                foot.to_candidate = now
        else:
            if s.toe_h < thr:
                if hist.persists(lambda x: x.toe_h < thr):
                    foot.to_candidate = None
            elif now - foot.to_candidate >= n_conf and hist.persists(lambda x: x.toe_h >= thr):
                step = self._toe_off(k, hist.index(foot.to_candidate), line, leg_px, sign)
                foot.to_candidate = None
                if step is not None:
                    out.append(step)
        return out

    def _stance_plausible(self, k: int, s: FootSample, line: BeltLine, leg_px: float) -> bool:
        """Whether the newest sample of a foot in stance can be that foot: on the belt where the
        belt has carried it, or lifting off from there. In belt coordinates a stance foot stands
        still, and after toe-off it starts from rest: within tau of last being seen on the belt it
        is at most ``stance_slack`` (+ 3 x the landmark noise) + ``lift_accel`` tau^2 / 2 from
        where the belt has carried that spot; further away is the pose model drawing the stance
        leg on the passing swing foot or in the air. An implausible sample is set aside as
        unobserved, and so is every later one until the foot is seen back at the carried spot.
        After ``stance_loss_s`` without that, the samples set aside are restored and believed: the
        foot did leave, and its toe-off is looked for among them."""
        foot = self._feet[k]
        belt_v = self._belt_speed()
        thr = self._contact_height(line)
        ahead = slack = math.nan
        if foot.on_belt is None or not math.isfinite(belt_v):
            plausible = True
        else:
            t0, fwd0 = foot.on_belt
            tau = s.t - t0
            ahead = (s.fwd - (fwd0 - belt_v * tau)) / leg_px  # of where the belt has carried it
            slack = self._tune.stance_slack + self._tune.noise_multiplier * line.noise_leg_lengths
            if tau >= self._tune.stance_loss_s:
                plausible = True
                self._restore_held(k, t0, thr)
                foot.on_belt = None
            elif foot.holding:
                plausible = s.g < thr and abs(ahead) <= slack  # back on the belt where it was carried
            elif s.g < thr:
                # On the belt it may be anywhere ahead (a shuffling foot skims it in swing), but
                # never behind where the belt took it.
                plausible = ahead >= -slack
            else:
                plausible = math.hypot(ahead, s.g) <= slack + 0.5 * self._tune.lift_accel_leg_per_s2 * tau * tau
        if not plausible:
            s.held = (s.g, s.toe_h, s.heel_h, s.fwd, s.ankle_h)
            s.observed = False
            s.g = s.toe_h = s.heel_h = s.fwd = s.ankle_h = math.nan
            foot.holding = True
            return False
        foot.holding = False
        if s.g < thr and (foot.on_belt is None or not math.isfinite(belt_v) or abs(ahead) <= slack):
            foot.on_belt = (s.t, s.fwd)  # standing on the belt (not skimming it forwards in swing)
        return True

    def _restore_held(self, k: int, since: float, thr: float) -> None:
        """Believe the samples of track ``k`` set aside after time ``since``; the first of them off
        the belt becomes the toe-off candidate."""
        foot = self._feet[k]
        for i, x in enumerate(self._history[k]):
            if x.held is not None and x.t > since:
                x.g, x.toe_h, x.heel_h, x.fwd, x.ankle_h = x.held
                x.held, x.observed = None, True
                if foot.to_candidate is None and min(x.toe_h, x.heel_h) >= thr:
                    foot.to_candidate = self._history[k].number(i)

    @staticmethod
    def _start_swing(foot: _FootState) -> None:
        foot.phase = "swing"
        foot.ic_candidate = foot.to_candidate = foot.above_from = foot.refine_from = None
        foot.rearmost_fwd, foot.rearmost_at = math.inf, None
        foot.on_belt, foot.holding = None, False

    def _was_airborne(self, k: int, first: int, air: float) -> bool:
        """Whether the foot was clearly airborne (above ``air``) in the step period before history
        index ``first``: its landing then shows in its height. The whole swing counts, not only its
        end: a shallow landing stays below ``air`` for its last ~100 ms (the labelled clip), yet it
        is a landing, not a shuffle."""
        t1 = self._history[k][first].t
        period = self._step_period()
        span = period if math.isfinite(period) else self._tune.swing_lookback_s
        return self._history[k].airborne_between(t1 - span, t1, air)

    def _height_timing_spread(self, k: int, first: int, noise: float) -> float:
        """How far (s) the landmark noise can shift a contact timed from the height alone: the
        noise over the foot's descent speed, at least a frame."""
        t1 = self._history[k][first].t
        pts = observed_between(self._history[k], t1 - max(self.tuning.landing.event_fit_s, 2.5 * self._dt), t1)
        speed = descent_speed(pts, t1 + self._dt, self._dt)
        return max(self._dt, noise / max(speed or 0.0, self._tune.slow_landing_leg_per_s))

    def _height_contact_time(self, k: int, first: int, line: BeltLine, n_conf: int) -> float:
        """The contact instant from the foot's height alone, for a landing whose first frame on the
        belt is history index ``first``."""
        t_ic = event_time(self._history[k], first, self._dt, line.noise_leg_lengths, rising=False,
                          tuning=self.tuning.landing)
        # The height cannot put the contact much after the first frame in which the foot is on the
        # belt to within the landmark noise: a foot that low lands within noise / descent speed
        # (or half a frame at low frame rates).
        noise = line.noise_leg_lengths
        down = self._history[k].first_on_belt(first, noise, max(n_conf, math.ceil(self._tune.on_belt_run_s / self._dt)))
        if down is not None:
            t_ic = min(t_ic, down + max(0.5 * self._dt, noise / self._tune.slow_landing_leg_per_s))
        return t_ic

    def _refine_contact(self, k: int, line: BeltLine, leg_px: float, sign: float, at_toe_off: bool) -> None:
        """Re-time the contact of the current stance from the belt's pull, and re-measure its step
        at the new instant, once the belt visibly carries the foot backwards (or 300 ms after it
        came down, or at its toe-off). Under landmark noise at 120-240 fps the height alone puts
        contacts a few frames early or late; the moment the belt takes the foot does not move
        with the noise. The re-timed step goes out with the toe-off (the final emission)."""
        foot = self._feet[k]
        first = self._history[k].index(foot.refine_from)
        belt_v = self._belt_speed()
        if first < 0 or foot.step is None or not math.isfinite(belt_v):
            foot.refine_from = None
            return
        if not (at_toe_off or self._carried_since(k, first)):
            return
        foot.refine_from = None
        t_ic = self._height_contact_time(k, first, line, self._confirm_frames())
        onset = belt_onset(self._history[k], first, self._dt, belt_v, self.tuning.landing)
        if onset is not None:
            # The belt's pull refines a clear landing only within the height's own timing
            # uncertainty: a foot may slide or stand still for tens of ms after touching down
            # before the belt carries it (the labelled clip: 15-30 frames of a 102-frame step),
            # and the contact is the touch. A shuffle is timed by the pull alone.
            late = onset - t_ic
            if self._was_airborne(k, first, self._airborne_height(line)):
                late = min(late, self._height_timing_spread(k, first, line.noise_leg_lengths))
            t_ic += max(0.0, late)
        if t_ic != foot.step.t_ic:
            self._retime_contact(k, first, t_ic, line, leg_px, sign)

    def _belt_speed(self) -> float:
        return self.belt_speed.speed(self._t, self._leg_px() or 1.0)

    def _carried_since(self, k: int, first: int) -> bool:
        """Whether the foot on the belt since history index ``first`` is now carried backwards by
        it, or has been within the contact height for ``candidate_timeout_s`` (longer than any
        landing approach). True while the belt speed is not yet known."""
        hist = self._history[k]
        belt_v = self._belt_speed()
        if not math.isfinite(belt_v) or hist[-1].t - hist[first].t > self._tune.candidate_timeout_s:
            return True
        return moving_with_belt(hist, belt_v, self._dt, self.tuning.belt_speed)

    def _new_footprint(self, k: int, first: int, belt_v: float, leg_px: float) -> bool:
        """Whether the contact that came down at history index ``first`` lands ahead of the
        previous footprint on the belt.

        In belt coordinates (position along the belt plus belt speed x time) a stance foot stands
        still and successive footprints are a step length apart, each ahead of the last. A "contact"
        at the previous footprint is the stance foot seen by the wrong track.
        """
        here = self._history[k][first]
        self._pending_footprint = (here.t, here.fwd)
        prev_t, prev_fwd = self._last_footprint
        if not (math.isfinite(belt_v) and math.isfinite(prev_fwd) and math.isfinite(here.fwd)):
            return True
        # Where the previous footprint has been carried by now, and how far ahead of it this one is.
        carried = prev_fwd - belt_v * (here.t - prev_t)
        return here.fwd - carried >= self._tune.min_footprint_spacing * leg_px

    def _may_land(self, k: int, s: FootSample, sign: float, line: BeltLine) -> bool:
        """Physiological gate for a contact: the landing foot is the front one, and the same foot
        does not land twice within two of the shortest plausible steps."""
        foot = self._feet[k]
        min_step = 60.0 / self.settings.max_cadence_spm
        if s.t - foot.last_ic_t < 2 * min_step:
            return False
        other = self._history[1 - k][-1] if self._history[1 - k] else None
        if other is not None and other.observed and other.t == s.t:
            ahead, _ = belt_components(s.points[TOE] - other.points[TOE], sign, line.roll_rad)
            if ahead < 0:
                return False
        return True

    def _initial_contact(self, k: int, first: int, t_ic: float, line: BeltLine, leg_px: float, sign: float) -> Step:
        """The step of a contact just confirmed at ``t_ic``; puts the foot in stance."""
        foot = self._feet[k]
        other = self._feet[1 - k]
        rolling, instant = self.cadence.add(t_ic, k, self.rhythm.period_s)
        period = self._step_period()
        flight = float("nan")
        if other.last_to_t > other.last_ic_t:
            flight = t_ic - other.last_to_t
            self._recent_flight.append(flight)
        elif np.isfinite(other.last_ic_t) and t_ic - other.last_ic_t < 2 * (period if np.isfinite(period) else 1.0):
            flight = 0.0  # the other foot is still on the belt: double support, no flight
            self._recent_flight.append(-1.0)
        osc, lean = pelvis_metrics(self._pelvis, max(other.last_ic_t, foot.last_ic_t), t_ic)
        step = Step(
            index=self._step_index, foot=self.identity.foot_name(k), cadence_spm=rolling,
            instant_cadence_spm=instant, flight_time_s=flight, vertical_oscillation_leg_lengths=osc,
            trunk_lean_deg=lean, **self._contact_measures(k, first, t_ic, line, leg_px, sign, instant),
        )
        self._step_index += 1
        self._last_footprint = self._pending_footprint
        foot.phase = "stance"
        foot.last_ic_t = t_ic
        foot.to_candidate = None
        foot.step = step
        self._last_step = step
        return step

    def _retime_contact(self, k: int, first: int, t_ic: float, line: BeltLine, leg_px: float, sign: float) -> None:
        """Move the current stance's contact to ``t_ic`` and re-measure its step there."""
        foot = self._feet[k]
        old = foot.step
        rolling, instant = self.cadence.retime(old.t_ic, t_ic, self.rhythm.period_s)
        # The flight ends at the contact; a double support (0) stays one.
        flight = old.flight_time_s + (t_ic - old.t_ic) if old.flight_time_s != 0.0 else 0.0
        step = replace(old, cadence_spm=rolling, instant_cadence_spm=instant, flight_time_s=flight,
                       **self._contact_measures(k, first, t_ic, line, leg_px, sign, instant))
        foot.last_ic_t = t_ic
        foot.step = step
        if self._last_step is old:
            self._last_step = step

    def _contact_measures(self, k: int, first: int, t_ic: float, line: BeltLine, leg_px: float, sign: float,
                          instant_spm: float) -> dict:
        """The step's measurements at its contact instant ``t_ic`` (step_measures.py)."""
        return contact_measures(self._history[k], first, t_ic, self._dt, line, leg_px, sign, k, self.settings,
                                self.flat_reference, self._step_period(), instant_spm, self.tuning.step_measures)

    def _pixel_contacts(self, events: tuple[FootEvent, ...], line: BeltLine, leg_px: float, sign: float) -> list[Step]:
        """Contacts from the foot stage's events: a belt lock after a touch is a landing, timed at
        the touch. It times the contact the landmarks found for it (within a shortest step), or
        is a contact of its own that they missed, on the foot track whose landmarks put a foot at
        its shoe; a landing no track's foot supports is dropped."""
        out: list[Step] = []
        min_step = 60.0 / self.settings.max_cadence_spm
        for event in events:
            if event.kind != "lock":
                continue
            touch = next((e.t for e in events if e.kind == "touch" and e.foot == event.foot), None)
            k = self._foot_at(event.centre, leg_px)
            if touch is None or k is None:
                continue  # a shoe first seen on the belt (no landing), or where the pose has no foot
            foot = self._feet[k]
            self._pixel_landings.append(touch)
            near = [j for j in (0, 1) if abs(touch - self._feet[j].last_ic_t) < min_step]
            if near:
                # The landmarks already took this landing: the pixels time it (the final emission
                # carries the new instant, or is sent again if it went out already), unless the
                # pixels timed it already.
                j = min(near, key=lambda j: abs(touch - self._feet[j].last_ic_t))
                retimed = self._time_by_pixels(j, touch, event.t, line, leg_px, sign)
                if retimed is not None:
                    out.append(retimed)
                continue
            step = self._initial_contact(k, self._first_at(k, touch), touch, line, leg_px, sign)
            step = replace(step, timed_by="pixels", t_touch=touch, t_lock=event.t)
            self._shoe_at_contact[step.index] = event.centre
            if len(self._shoe_at_contact) > 8:  # a look was not asked for (heavy off): forget the oldest
                del self._shoe_at_contact[next(iter(self._shoe_at_contact))]
            foot.step = self._last_step = step
            foot.refine_from = None
            out.append(step)
        return out

    def _time_by_pixels(self, k: int, touch: float, lock: float, line: BeltLine, leg_px: float,
                        sign: float) -> Step | None:
        """Re-time foot track ``k``'s landmark-timed contact at the foot stage's ``touch``; returns
        the step to send again when its final emission went out already (else None)."""
        foot = self._feet[k]
        old = foot.step
        if old is None or old.timed_by != "landmarks":
            return None
        self._retime_contact(k, self._first_at(k, touch), touch, line, leg_px, sign)
        step = replace(foot.step, timed_by="pixels", t_touch=touch, t_lock=lock)
        if old.final:
            contact = old.t_to - touch
            step = replace(step, contact_time_s=contact, duty_factor=old.duty_factor * contact / old.contact_time_s,
                           valid=step.valid and contact >= self._tune.min_contact_s)
        if self._last_step is old:
            self._last_step = step
        foot.step = step
        return step if old.final else None

    def _pixels_deny(self, step: Step) -> bool:
        """Whether the foot stage, running and seeing this runner's landings (one within
        ``pixel_trust_steps`` of the slowest steps), saw no landing at this landmark-timed contact: a
        contact needs both, so the step is reported but not valid (a landmark glitch)."""
        if step.timed_by == "pixels" or step.t_ic < self._pixels_since or not self._pixel_landings:
            return False
        slowest = 60.0 / self.settings.min_cadence_spm
        return step.t_ic - self._pixel_landings[-1] < self._tune.pixel_trust_steps * slowest

    def _pixels_landed_near(self, t: float) -> bool:
        """Whether the foot stage found a landing within a shortest step of ``t``."""
        min_step = 60.0 / self.settings.max_cadence_spm
        return any(abs(t - touch) < min_step for touch in self._pixel_landings)

    def _foot_at(self, centre: tuple[float, float] | None, leg_px: float) -> int | None:
        """The foot track whose newest landmarks put its foot nearest ``centre`` (px), if within
        ``pixel_match_leg_lengths``."""
        if centre is None:
            return None
        best, best_d = None, self._tune.pixel_match_leg_lengths * leg_px
        for k, hist in enumerate(self._history):
            if not hist or not hist[-1].observed:
                continue
            d = float(np.hypot(*(0.5 * (hist[-1].points[HEEL] + hist[-1].points[TOE]) - np.asarray(centre))))
            if d <= best_d:
                best, best_d = k, d
        return best

    def _first_at(self, k: int, t: float) -> int:
        """The history index of foot track ``k``'s first sample at or after ``t``."""
        hist = self._history[k]
        return next((i for i, x in enumerate(hist) if x.t >= t - 1e-9), len(hist) - 1)

    def _toe_off(self, k: int, first: int, line: BeltLine, leg_px: float, sign: float) -> Step | None:
        hist = self._history[k]
        foot = self._feet[k]
        if foot.refine_from is not None:
            self._refine_contact(k, line, leg_px, sign, at_toe_off=True)
        t_to = event_time(hist, first, self._dt, line.noise_leg_lengths, rising=True)
        foot.phase = "lifted"
        foot.last_to_t = t_to
        step = foot.step
        if step is None or step.final or t_to <= step.t_ic:
            return None
        # Foot angle while flat (25-45 % of contact: after the heel or forefoot has come down,
        # before the heel rises): the automatic flat-foot reference when there is no calibration.
        contact = t_to - step.t_ic
        lo, hi = (step.t_ic + f * contact for f in self._tune.mid_stance)
        mid = observed_between(hist, lo, hi) or observed_between(hist, lo - self._dt, hi + self._dt)
        if mid:
            self._flat_angles.append(float(np.mean([foot_angle_image_deg(x.points[HEEL], x.points[TOE], sign) for x in mid])))
        self._contact_times.append(contact)
        period = self._step_period()
        duty = contact / (2 * period) if np.isfinite(period) else float("nan")
        frame_to = next((x.frame for x in hist if x.t >= t_to - 1e-9), hist[first].frame)
        # No running contact is shorter than min_contact_s: the contact or the toe-off was a
        # misreading (the stance foot's landmarks thrown onto the other leg, or a late re-timing),
        # so the step's measurements are not to be trusted.
        valid = step.valid and contact >= self._tune.min_contact_s and not self._pixels_deny(step)
        final = replace(step, frame_to=frame_to, t_to=t_to, contact_time_s=contact, duty_factor=duty, valid=valid,
                        final=True)
        foot.step = final
        self._last_step = final
        return final

    def _moving(self) -> str:
        if self._t - self._last_pose_t > self._tune.absent_s:
            return "absent"
        last_ic = max(f.last_ic_t for f in self._feet)
        period = self._step_period()
        limit = 3 * period if np.isfinite(period) else self._tune.standing_contact_s
        if self._t - last_ic > max(limit, 60.0 / self.settings.min_cadence_spm * 1.5):
            return "standing"
        if self._recent_flight and float(np.median(self._recent_flight)) < 0:
            return "walking"
        return "running"
