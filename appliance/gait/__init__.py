"""Gait analysis of a side-view treadmill runner: pure numpy, no I/O, causal.

Public API (what the runtime, the panel, the coach and ``appliance analyze`` build on):

``GaitTracker(settings: GaitSettings | None = None, calibration: Calibration | None = None, tuning=GAIT_TUNING)``
    ``tracker.update(pose: Pose | None, t: float, frame_index: int) -> list[Step]`` once per frame
    at the camera rate (``pose`` None: nobody seen; ``t`` capture time in real seconds). Returns the
    steps confirmed at this frame: 2-3 frames after the contact at 30-60 fps, often 4-5 at
    120-240 fps under landmark noise, later for a shuffle (which shows only once the belt carries
    the foot; measured by ``bench/gait_lookahead.py``).
    Each step is emitted twice with the same ``index``: at its initial contact (``final=False``;
    IC metrics, cadence, flight time, confidence and ``valid``; contact time NaN, ``frame_to``
    None) and after its toe-off (``final=True``; ``frame_to``, ``t_to``, ``contact_time_s``,
    ``duty_factor`` filled, and the contact re-timed by the belt's pull with the IC metrics
    re-measured there). Cue on the first emission; store or replace by index on the second.
    ``tracker.state`` -> ``GaitState`` (immutable): ``direction`` ('left'/'right'/None),
    ``belt_slope``/``belt_intercept_px`` (y = intercept + slope * x), ``leg_length_px``,
    ``moving`` (absent/standing/walking/running), ``running``, ``cadence_spm``, ``last_step``,
    ``calibrated``.

``calibrate(poses, direction=None, settings=None) -> Calibration``
    From 1-3 s of quiet standing, side-on: flat-foot angle and leg length (legs less visible than
    ``settings.min_visibility`` left out). Raises
    ``CalibrationError`` with what to do when the poses do not allow it. Without a calibration
    the tracker uses the median mid-stance foot angle of recent steps as the flat reference
    (DOMAIN.md's fallback) and marks steps ``calibrated=False``.

``appliance.gait.report.gait_report(t, landmarks, image_size, time_scale=1.0, settings=None) -> dict``
    The offline report of ``appliance analyze`` (direction, cadence_spm, steps, summary), computed
    by this same tracker. ``appliance.gait.plots.plot_gait(report, out_dir) -> list[Path]`` draws it.

The tuning (``tuning.GAIT_TUNING``: a frozen section per estimator, each value with its unit, reason
and source) is not a setting: ``bench/gait_tuning_sweep.py`` shows which values matter.

Cost: ``bench/gait_cost.py`` prints the time per frame.
"""

from appliance.gait.calibration import Calibration, CalibrationError, calibrate
from appliance.gait.tracker import GaitState, GaitTracker

__all__ = ["Calibration", "CalibrationError", "GaitState", "GaitTracker", "calibrate"]
