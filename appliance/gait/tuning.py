"""The gait stage's tuning, in one typed set: a frozen section per estimator.

Every field carries its value, its unit, why it has that value and where the value comes from (a
paper, a physiological figure, or the ``bench/`` script that measured it): ``param(value, unit,
why, source)``. Each estimator takes its section in its constructor (``GaitTracker(tuning=...)``
passes the whole set down), with the defaults here as its default, so a test or a bench can vary
one value (``GAIT_TUNING.replaced("belt.stance_band", 0.06)``) and see what it changes
(``bench/gait_tuning_sweep.py``).

Durations are in seconds and converted with the measured frame interval, whatever the camera's
rate. Where a value was once a frame count, its seconds are the frame count at the rate it was
tuned at (the field says which), so that results at that rate did not move. What stays a count is
a number of samples a fit or a vote needs (a line needs three points whatever the rate): windows
given in seconds widen at low frame rates to hold them.

The thresholds a clinician may change (strike classes, contact and airborne heights, visibility,
confidence, cadence limits) are settings, not tuning: ``appliance.config.GaitSettings``.

The README's parameter table is generated from these fields (appliance/gait/tuning_table.py)::

    .venv/bin/python -m appliance.gait.tuning_table --write-readme
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from appliance.feet.tuning import param

LABELLED_CLIP = "labelled slow-motion clip (bench/gait_real_clip.py)"
# A design value with no measurement of its own: the sweep shows how much it matters.
SWEPT = "design; sensitivity in bench/gait_tuning_sweep.py"


@dataclass(frozen=True)
class TrackerTuning:
    """The per-foot contact and toe-off state machine (tracker.py)."""

    confirm_s: float = param(
        0.0125, "s",
        "Look-ahead after an event before it is confirmed: a landing foot stays down >= 80 ms, so this tells a "
        "contact from a noisy dip and gives the joint angles frames on both sides of it, while bounding the "
        "cue's latency. 3 frames at 240 fps (it was 20 ms capped at 3 frames, which is 3 frames at 240 fps).",
        "bench/gait_lookahead.py")
    min_confirm_samples: int = param(
        2, "samples", "Frames on the belt after a contact before it is confirmed, at low frame rates.",
        "bench/gait_lookahead.py")
    swing_lookback_s: float = param(
        0.4, "s", "How far back the swing before a landing is looked for while the step period is unknown: "
                  "a slow jog's step.", "physiology: a slow jog's step period")
    candidate_timeout_s: float = param(
        0.3, "s", "A foot within the contact height this long has landed even if the belt is not yet seen to "
                  "carry it: longer than any landing approach.", SWEPT)
    slow_landing_leg_per_s: float = param(
        0.6, "leg lengths/s", "A landing foot comes down at ~0.5-1 m/s (0.6-1.1 leg lengths/s); the slow end "
                              "bounds how long a foot already within the landmark noise of the belt can still "
                              "take to land.", "physiology: foot landing speed 0.5-1 m/s")
    on_belt_run_s: float = param(
        0.04, "s", "A foot counts as on the belt once it stays within the noise this long: at high frame "
                   "rates a few noisy samples of a foot still coming down fall that low by chance.", SWEPT)
    min_footprint_spacing: float = param(
        0.3, "leg lengths", "Successive footprints on the belt are a step length apart, >= ~0.5 m (0.55 leg "
                            "lengths) even in slow walking; half of that tells a new contact from the foot "
                            "already on the belt, and a foot carried forwards this far is in swing.",
        "physiology: step length")
    min_contact_s: float = param(
        0.08, "s", "Shortest ground contact in running (elite sprinting): a shorter one is a misreading.",
        "physiology: elite sprint contact ~0.08 s")
    stance_slack: float = param(
        0.1, "leg lengths", "How far a stance foot may be from where the belt has carried it (plus 3 x the "
                            "landmark noise): a landing foot's forward slide between frames, ~0.2 leg lengths "
                            "over ~25 frames on the labelled clip.", LABELLED_CLIP)
    lift_accel_leg_per_s2: float = param(
        60.0, "leg lengths/s²", "A foot leaving the belt accelerates at ~50 m/s² (from rest to ~2x running "
                                "speed in the first ~0.15 s of swing); further from its spot is the pose model "
                                "drawing the stance leg elsewhere.", "physiology: swing-foot acceleration")
    stance_loss_s: float = param(
        0.2, "s", "The pose model draws the stance leg on the passing swing foot for up to ~130 ms on real side "
                  "views; after this long the foot is believed gone.", LABELLED_CLIP)
    standing_contact_s: float = param(
        1.5, "s", "A foot down this long without a step (before the step period is known): the person is "
                  "standing.", "physiology: slowest walking step")
    absent_s: float = param(1.0, "s", "No pose for this long: nobody on the treadmill.", "design")
    noise_multiplier: float = param(
        3.0, "noise σ", "Landmark heights are trusted to this many times their measured noise: with Gaussian "
                        "noise a stance foot then crosses the contact height by chance in < 0.2 % of frames.",
        "Gaussian tail")
    max_shank_forward_deg: float = param(
        60.0, "deg", "A shank pointing further forward does not occur in running (at contact it is within "
                     "~40° of vertical even in overstriding sprinters): it is the pose model's ghost of the far "
                     "leg, drawn ahead of the body at knee height for tens of frames on real side views.", "Souza 2016; " + LABELLED_CLIP)
    pixel_match_leg_lengths: float = param(
        0.5, "leg lengths", "A foot stage event belongs to the foot track whose landmarks put a foot this near "
                            "its shoe: about two shoe lengths, wider than the landmarks' error on a foot they "
                            "see.", "design (foot stage)")
    pixel_trust_steps: float = param(
        2.0, "slowest steps", "The foot stage is believed to see this runner's landings while its last one is "
                              "at most this many of the slowest steps old: a landing it misses now and then "
                              "does not switch it off.", "design (foot stage)")
    history_s: float = param(
        512 / 240, "s", "Each foot's sample history: the longest look-back is a slow step period plus the "
                        "candidate timeout (~1 s). 512 frames at 240 fps, the rate it bounded most tightly.",
        "bench/gait_real_clip.py (240 fps)")
    warm_up_s: float = param(
        2048 / 240, "s", "Offline, the frames kept until the belt line settles (~1.5-3 s) and then replayed. "
                         "2048 frames at 240 fps, the rate it was sized for.", "bench/gait_real_clip.py")
    leg_length_samples: int = param(
        61, "samples", "The leg length is the median of this many latest leg observations (a pose that draws "
                       "a leg bent or on the other foot is outvoted).", "robust median")
    flat_reference_stances: int = param(
        20, "stances", "The mid-stance flat-foot reference (without a calibration) is the median over this "
                       "many latest stances.", SWEPT)
    mid_stance: tuple = param(
        (0.25, 0.45), "fraction of contact", "Where the foot lies flat: after the heel or forefoot has come "
                                             "down, before the heel rises. The flat-foot reference and heavy's "
                                             "mid-stance look read it there.", "physiology: foot flat between heel strike and heel rise")


@dataclass(frozen=True)
class BeltTuning:
    """The belt line from the stance-phase foot path (belt.py)."""

    window_s: float = param(6.0, "s", "Foot samples the belt line is fitted from: a few strides of both feet.",
                            SWEPT)
    refit_s: float = param(0.5, "s", "How often the line is refitted (the camera and belt do not move).",
                           "bench/gait_cost.py")
    min_samples: int = param(30, "samples", "Foot samples before a first fit (a third of them per foot).",
                             SWEPT)
    stance_band: float = param(
        0.04, "leg lengths", "Samples within this band of the lowest ones start as stance: a stance foot rolls "
                             "a few centimetres, a swing foot is well above (>= 8 %).", SWEPT)
    low_quantile: float = param(
        0.8, "quantile", "The lowest 20 % of a landmark's positions are stance even with noise: in running "
                         "the foot is on the belt for 30-45 % of the time (duty factor).", "physiology: duty factor")
    min_span: float = param(
        0.3, "leg lengths", "A roll fit needs the stance samples spread this far along the belt (a stance foot "
                            "travels ~0.6-0.9 leg lengths); otherwise the belt is taken as level.", SWEPT)
    min_duration_s: float = param(0.35, "s", "The first fit waits for about half a stride, so that a stance "
                                             "phase is in it.", "physiology: stride period")
    roll_duration_s: float = param(
        1.5, "s", "The roll is fitted from this much data on (two strides: both feet's whole stance paths); "
                  "before, the belt is taken as level, which a side camera roughly is. Twice this, refits "
                  "change the line only a little and are spread over frames.", "bench/gait_belt_roll.py")
    max_roll_deg: float = param(
        15.0, "deg", "A side camera is never mounted more crooked than this; a larger fit is noise.", "design (camera mounting)")
    max_fit_samples: int = param(
        400, "samples", "At 60-240 fps every n-th sample of each foot keeps the fit cheap.", "bench/gait_cost.py")
    max_fit_rounds: int = param(
        10, "rounds", "The alternating fit repeats until the slope settles: each round recovers only part of "
                      "the remaining tilt (3 rounds left a 3° roll at ~65 % and contacts up to ~30 ms early at "
                      "120 fps).", "bench/gait_belt_roll.py")
    belt_side_cut: float = param(
        3.0, "noise σ", "Stance samples are re-selected within this many sigmas below a landmark's level: on "
                        "the belt side there is only noise.", "bench/gait_sim_noise.py")
    air_side_cut: float = param(
        1.5, "noise σ", "... and this many above it: that side also holds feet rolling on or off the belt, "
                        "which at 3 % noise pulled the heel's level up by half a sigma with a symmetric cut and "
                        "timed contacts ~5 frames early at 240 fps (1.5: a third less).",
        "bench/gait_sim_noise.py (3 % noise, 240 fps)")
    min_level_samples: int = param(
        5, "samples", "A level needs this many stance samples; with fewer, the noise measured around the "
                      "densest cluster can be far below the true noise, and the wider selection is kept.", SWEPT)
    slope_settled: float = param(0.0005, "slope", "The fit has settled when the slope moves less (~0.03°).", SWEPT)
    published_fits: int = param(
        5, "fits", "The published line is the median of this many latest fits (2.5 s of refits): a single fit "
                   "that took a cluster of swing samples for a level is outvoted, a real change shows in "
                   "1.5 s.", SWEPT)
    settled_fits: int = param(3, "fits", "The line counts as settled (offline warm-up ends) from this many fits.", SWEPT)

    @property
    def settled_s(self) -> float:
        """Once the samples span this long (two roll fits' worth), refits run in stages."""
        return 2 * self.roll_duration_s


@dataclass(frozen=True)
class BeltSpeedTuning:
    """The belt's speed in the image from the feet it carries (belt_speed.py)."""

    base_s: float = param(0.02, "s", "A foot's speed is measured over at least this long.", SWEPT)
    window_s: float = param(5.0, "s", "The belt's speed is the median over this long.", SWEPT)
    min_samples: int = param(20, "samples", "Foot speeds before the belt's speed is given.", SWEPT)
    refresh_s: float = param(0.25, "s", "A treadmill's speed changes over seconds.", "treadmill acceleration")
    min_leg_per_s: float = param(0.3, "leg lengths/s", "Slowest walking belt, ~0.3 m/s: slower is no belt.",
                                 "treadmill minimum speed")
    carried_s: float = param(0.03, "s", "A foot is carried by the belt when it moved backwards over this long "
                                        "at ...", SWEPT)
    carried_fraction: float = param(0.5, "of belt speed", "... at least this fraction of the belt's speed.", SWEPT)


@dataclass(frozen=True)
class IdentityTuning:
    """Foot identity by continuity (identity.py)."""

    swap_margin: float = param(
        0.02, "leg lengths", "Swap the model's labels only when that explains the frame better by this much "
                             "(mean point distance): twice a good model's landmark noise, so jitter while the "
                             "feet cross never flips identities.", "landmark noise ~1 % (bench/gait_sim_accuracy.py)")
    max_speed_leg_per_s: float = param(
        10.0, "leg lengths/s", "Largest plausible foot speed relative to the camera (9 m/s, above the swing "
                               "foot's peak even sprinting): a faster jump is the model misplacing the leg.",
        "physiology: swing-foot peak speed")
    gate_slack: float = param(0.15, "leg lengths", "Landmark error allowed on top of that speed.", SWEPT)
    max_coast_s: float = param(0.25, "s", "A track not seen this long restarts from the model's labels.", SWEPT)
    velocity_tau_s: float = param(
        0.03, "s", "Velocity smoothing time constant: per-frame differences are mostly noise at 120+ fps.", SWEPT)
    max_extrapolation_s: float = param(
        0.05, "s", "A track's velocity is extrapolated at most this long while it is not seen; beyond, the "
                   "track holds still.", SWEPT)
    label_memory_s: float = param(
        3.0, "s", "The model's label votes fade over this long: a track that picked up the other foot after "
                  "an occlusion is renamed within seconds, swaps lasting a few frames never outvote it.", SWEPT)
    reacquire_observations: int = param(
        3, "observations", "A track that rejected this many consecutive observations, each a plausible move "
                           "from the one before, has itself gone wrong and restarts from them (at 120-240 fps "
                           "it would otherwise reject the real foot for 30-60 frames). A count of consistent "
                           "observations, not a duration: 3 frames are 100 ms at 30 fps and 12.5 ms at 240.", "design (120-240 fps)")
    gap_uncertainty_leg_per_s: float = param(
        12.0, "leg lengths/s", "Two feet moving apart at up to ~6 m/s: a prediction across a gap is off by "
                               "that much per second, and the labels are trusted more in proportion.",
        "physiology: swing-foot speed")
    max_predictable_s: float = param(
        0.1, "s", "Beyond this gap a foot can have swung past the other unseen (a swing lasts ~0.3-0.4 s): "
                  "the labels decide.", "physiology: swing duration")


@dataclass(frozen=True)
class LandingTuning:
    """Sub-frame contact and lift-off timing (landing.py)."""

    event_fit_s: float = param(
        0.06, "s", "A landing's (or a lift's) height is fitted over this long: its last ~60 ms are a near-"
                   "straight line (the foot is pre-positioned and moves at ~0.5-1 m/s).", SWEPT)
    rotation_fit_s: float = param(
        0.06, "s", "A foot rotating toe-up into a toe-first landing (~500 deg/s on both real clips): the toe's "
                   "and heel's own descents over this long before the contact are compared with the whole "
                   "foot's, else the toe's contact is timed ~35 ms early.", LABELLED_CLIP)
    rotation_min_samples: int = param(
        3, "samples", "Frames that comparison needs (its window widens at low rates to hold them).", SWEPT)
    rotation_prior: float = param(
        9.0, "noise variances", "A rotation difference is followed at 50 % when three standard errors clear "
                                "of noise, so a foot held still is timed as before.", SWEPT)
    contact_level_prior: float = param(
        0.5, "frames", "The level a hinge finds on the belt is held near 0 by a prior worth this many frames "
                       "(the stance level is itself an estimate).", SWEPT)
    landing_settle_s: float = param(
        0.04, "s", "After a landing the landmark that touched is on the belt and the other above it until the "
                   "foot is flat, at ~15 % of contact (~40 ms).", "physiology: foot flat at ~15 % of contact")
    onset_fit_s: float = param(0.1, "s", "The belt's pull is fitted over the 100 ms before the foot comes "
                                         "within the contact height.", SWEPT)
    onset_max_pre_speed: float = param(
        0.25, "of belt speed", "A foot already pulled back faster than this before (swing retraction) lands "
                               "visibly only in its height.", SWEPT)


@dataclass(frozen=True)
class FacingTuning:
    """The runner's facing direction, voted (facing.py)."""

    memory_s: float = param(
        1.65, "s", "The vote forgets with this time constant. Was a decay of 0.98 per frame at 30 fps "
                   "(~50 frames); per frame it forgot over 0.2 s at 240 fps.", "design (30 fps: 0.98 per frame)")
    min_vote: float = param(3.0, "votes", "A direction is given once the vote is this clear.", SWEPT)
    calibrated_vote: float = param(10.0, "votes", "A standing calibration's direction starts the vote this far.", SWEPT)


@dataclass(frozen=True)
class CalibrationTuning:
    """Standing calibration (calibration.py); its visibility bar is the setting gait.min_visibility."""

    min_standing_poses: int = param(10, "poses", "Poses of quiet standing a calibration needs (1-3 s).", "design")
    max_ankle_spread: float = param(
        0.05, "leg lengths", "Quiet standing: the ankles move less (std) than this; real landmark jitter on a "
                             "still person is ~1 % of leg length, walking or shifting weight far more.",
        "design (landmark jitter ~1 %)")


@dataclass(frozen=True)
class StepMeasureTuning:
    """A step's measures at its contact instant (step_measures.py, at_contact.py)."""

    strike_window_s: float = param(
        0.1, "s", "The foot angle is read from the frames of this long before contact (after it the foot "
                  "rotates fast to flat).", SWEPT)
    strike_fit_min_samples: int = param(
        3, "samples", "Frames the foot-angle line needs (the window widens at low rates to hold them); fewer "
                      "are averaged.", SWEPT)
    strike_slope_prior: float = param(
        9.0, "noise variances", "The foot's rotation rate before contact is shrunk towards zero by its noise "
                                "variance times this (a slope of three standard errors is followed at 50 %; at "
                                "30 fps and 1 % noise a held foot reads as well as by the plain mean).", SWEPT)
    joint_window_s: float = param(
        0.06, "s", "Joint angles are a local parabola through the frames within this long around contact.", SWEPT)
    typical_foot_leg_lengths: float = param(
        0.28, "leg lengths", "Heel to toe, for the flat reference before any mid-stance is seen.",
        "anthropometry: foot ~0.28 leg lengths")
    plausible_shank_deg: tuple = param(
        (-30.0, 50.0), "deg", "Shank angle a runner can have at contact, widely: -5 to +25 (overstriders at "
                              "the top). Outside, the leg was mislocated: reported, never cued on.", "Souza 2016")
    plausible_strike_deg: tuple = param(
        (-40.0, 50.0), "deg", "Foot-strike angle at contact, widely: about -20 (forefoot) to +30 (rearfoot).",
        "Altman & Davis 2012")
    plausible_knee_deg: tuple = param((0.0, 75.0), "deg", "Knee flexion at contact, widely: 5-40.",
                                      "Souza 2016")
    plausible_heel_to_hip: tuple = param(
        (-0.4, 1.0), "leg lengths", "Heel ahead of the hip at contact, widely: up to ~0.5.",
        "Souza 2016; " + LABELLED_CLIP)
    full_visibility: float = param(0.9, "visibility", "Landmark visibility counted as fully seen in the "
                                                      "confidence.", SWEPT)
    ambiguous_factor: float = param(0.8, "confidence ×", "Confidence kept when the feet's identities were "
                                                         "ambiguous around contact.", SWEPT)
    rhythm_tolerance: float = param(0.3, "of step period", "A contact this far off the step rhythm ...", SWEPT)
    off_rhythm_factor: float = param(0.5, "confidence ×", "... keeps this much of its confidence.", SWEPT)


@dataclass(frozen=True)
class RhythmTuning:
    """Step period from the trunk's bounce (rhythm.py) and the rolling cadence (cadence.py)."""

    window_s: float = param(6.0, "s", "The trunk height's autocorrelation is over this long (at least 4 of the "
                                      "slowest steps).", SWEPT)
    min_strength: float = param(0.3, "correlation", "Below this stride correlation the trunk is not moving "
                                                    "rhythmically (standing, or noise).", SWEPT)
    update_s: float = param(0.25, "s", "The period is recomputed this often (a runner's cadence changes over "
                                       "seconds).", "bench/gait_cost.py")
    interval_tolerance: float = param(
        0.25, "of step period", "A contact counts towards the rolling cadence within this of the fitted "
                                "rhythm: step-to-step variability is a few percent, so only false or mistimed "
                                "contacts are left out.", "physiology: step-time variability of a few %")
    min_contacts: int = param(
        4, "contacts", "Contacts before a rolling cadence is given: one interval at 30 fps is up to a frame "
                       "(~9 %) off; the slope over four contacts is about a third of that.", "design: 30 fps timing quantisation")


@dataclass(frozen=True)
class FootSampleTuning:
    """Reading a foot track's samples (foot_samples.py)."""

    glitch_s: float = param(
        0.025, "s", "The pose model misplaces a foot by up to ~0.3 leg lengths for up to ~25 ms (runs of up to "
                    "7 frames on the labelled ~300 fps clip): a phase change is believed once seen this long.",
        LABELLED_CLIP)


@dataclass(frozen=True)
class GaitTuning:
    """All of the gait stage's tuning, a section per estimator."""

    tracker: TrackerTuning = field(default_factory=TrackerTuning)
    belt: BeltTuning = field(default_factory=BeltTuning)
    belt_speed: BeltSpeedTuning = field(default_factory=BeltSpeedTuning)
    identity: IdentityTuning = field(default_factory=IdentityTuning)
    landing: LandingTuning = field(default_factory=LandingTuning)
    facing: FacingTuning = field(default_factory=FacingTuning)
    calibration: CalibrationTuning = field(default_factory=CalibrationTuning)
    step_measures: StepMeasureTuning = field(default_factory=StepMeasureTuning)
    rhythm: RhythmTuning = field(default_factory=RhythmTuning)
    foot_samples: FootSampleTuning = field(default_factory=FootSampleTuning)

    def value(self, path: str) -> Any:
        """The value of ``section.name``."""
        section, name = path.split(".")
        return getattr(getattr(self, section), name)

    def replaced(self, path: str, value: Any) -> GaitTuning:
        """A copy with ``section.name`` set to ``value`` (for tests and the sweep)."""
        section, name = path.split(".")
        if name not in {f.name for f in fields(getattr(self, section))}:
            raise KeyError(f"no tuning field {path!r}")
        return replace(self, **{section: replace(getattr(self, section), **{name: value})})


GAIT_TUNING = GaitTuning()
