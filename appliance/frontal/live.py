"""What the mirror page shows: the rear camera's newest pose with the pelvis and legs, each side's
last stance, and the frontal target's band; nothing of the runner's identity.

``frontal_live`` builds it from the rear camera and the running coach; the panel serves it at
``/api/frontal`` to the mirror page (a tablet or TV in front of the treadmill, the screen
feedback of the hip-adduction trials). While the coach's feedback is off, ``feedback`` is False
and the page shows the runner no figures: the mirror fades with the schedule.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from appliance.coach.targets import FRONTAL_FIELDS
from appliance.landmarks import LEG_LANDMARKS

POINTS = ("hip", "knee", "ankle")


class FrontalSide(BaseModel):
    """One side: its hip, knee and ankle in image pixels (None: not seen), and its last stance."""

    points: dict[str, tuple[float, float]] | None = None
    last_value: float | None = Field(None, description="The target measure of this side's last stance (deg)")
    in_band: bool | None = Field(None, description="That value within the band; None without a band")


class FrontalLive(BaseModel):
    """The mirror page's view (see the module docstring)."""

    available: bool = Field(description="A rear camera is running")
    message: str | None = None
    view: str = "rear"
    t: float | None = Field(None, description="Capture time of the newest rear frame (s)")
    image_size: tuple[int, int] | None = None
    measure: str = Field("hip_adduction", description="The frontal target's measure (hip_adduction by default)")
    limit_deg: float | None = Field(None, description="The band's upper limit; None without a frontal target")
    feedback: bool = Field(False, description="The coach's feedback is on: show the figures")
    left: FrontalSide = Field(default_factory=FrontalSide)
    right: FrontalSide = Field(default_factory=FrontalSide)


NO_REAR_CAMERA = FrontalLive(available=False, message="No rear camera: set \"Rear camera\" (rear_camera.source) in Settings and restart.")


def frontal_live(rear: Any, coach: Any = None) -> FrontalLive:
    """The mirror's view from a ``RearCamera`` (None: none running) and the session's ``Coach``
    (None: no session)."""
    if rear is None:
        return NO_REAR_CAMERA
    view = rear.latest()
    measure, limit, feedback = "hip_adduction", None, False
    if coach is not None:
        target = getattr(coach.targets, "frontal", None)
        if target is not None:
            measure = target.measure
        band = coach.bands.get("frontal")
        limit = band.hi if band is not None else None
        block = coach.block
        feedback = block is not None and block.kind == "feedback_on" and not coach.paused and not coach.ended
    if view is None:
        return FrontalLive(available=True, message="Waiting for the rear camera's first frame.", view=rear.view,
                           measure=measure, limit_deg=limit, feedback=feedback)
    sides = {}
    for side in ("left", "right"):
        points = None
        if view.angles is not None and view.landmarks is not None:
            idx = LEG_LANDMARKS[view.angles.labels[side]][:3]  # the runner's side, not the model's label
            points = {name: (float(view.landmarks[i, 0]), float(view.landmarks[i, 1])) for name, i in zip(POINTS, idx, strict=True)}
        step = view.last_steps.get(side)
        value = float(getattr(step, FRONTAL_FIELDS[measure])) if step is not None else None
        sides[side] = FrontalSide(points=points, last_value=value,
                                  in_band=None if limit is None or value is None else value <= limit)
    return FrontalLive(available=True, view=rear.view, t=view.t, image_size=view.image_size, measure=measure,
                       limit_deg=limit, feedback=feedback, **sides)
