"""Heavy's look at each contact: per contact, not per frame, on the frames buffered around it.

The gait tracker asks for a look when it finds a contact (``request``: the contact instant, the
mid-stance window whose foot angle is the flat reference, the shoe the foot stage followed). Once
the frames up to the end of that window are buffered, the look is planned (contact_look.py) and
its frames read by the heavy landmark model: right away on the caller's thread (``runner``: offline
analysis and lock-step replays, where a look must not depend on timing), or by a background
``HeavyWorker`` (``worker``: the live loop, on a spare core), whose results are collected without
ever waiting. ``results`` returns the finished looks, each with heavy's landmarks of its frames.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from appliance.feet.contact_look import ContactFrames, ContactPlan, plan_contact
from appliance.feet.tuning import FEET_TUNING, ContactLookTuning
from appliance.pose.geometry import Roi
from appliance.types import Frame

if TYPE_CHECKING:
    from appliance.pose.heavy import HeavyWorker, LandmarkRunner

@dataclass(frozen=True, slots=True)
class LookRequest:
    """A look wanted at contact ``key`` (the tracker's step index) at ``t_contact``, with its
    mid-stance window (t0, t1) and the foot stage's shoe centre (px) when known."""

    key: int
    t_contact: float
    mid_window: tuple[float, float]
    shoe_centre: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class Look:
    """A finished look: the request, the frames read (``plan``) and heavy's [33, 5] landmarks of
    each (None where the model failed: ``errors`` says why), and the model's time in ms."""

    request: LookRequest
    plan: ContactPlan
    contact: tuple[np.ndarray | None, ...]
    mid: tuple[np.ndarray | None, ...]
    ms: float
    errors: tuple[str, ...] = ()


@dataclass
class _Pending:
    request: LookRequest
    plan: ContactPlan | None = None
    results: dict = field(default_factory=dict)  # ("contact" | "mid", i) -> landmarks or None
    errors: list = field(default_factory=list)
    ms: float = 0.0


class ContactLooks:
    """Looks at contacts with the heavy model (see the module docstring); give exactly one of
    ``runner`` (synchronous) or ``worker`` (background).

    >>> looks = ContactLooks(runner=HeavyPose(model_dir))
    >>> looks.add_frame(frame, engine.last_roi)      # every frame
    >>> looks.request(LookRequest(step.index, step.t_ic, window))
    >>> for look in looks.results(): tracker.apply_look(look)
    """

    def __init__(self, runner: LandmarkRunner | None = None, worker: HeavyWorker | None = None,
                 tuning: ContactLookTuning = FEET_TUNING.contact_look):
        """``tuning``: the frames kept for looks (``look_buffer_s``, in at most ``look_buffer_bytes``)
        and how a look is planned."""
        if (runner is None) == (worker is None):
            raise ValueError("give exactly one of runner (synchronous) or worker (background)")
        self._runner, self._worker = runner, worker
        self.tuning = tuning
        self._frames: ContactFrames | None = None  # sized by the first frame's bytes
        self._waiting: list[_Pending] = []  # until their mid-stance window is buffered
        self._reading: dict[int, _Pending] = {}  # submitted to the worker
        self._now = -np.inf

    def add_frame(self, frame: Frame, roi: Roi | None) -> None:
        """Keep ``frame`` (and the region the pose engine read it on) for looks to come."""
        if self._frames is None:
            fit = max(8, self.tuning.look_buffer_bytes // max(frame.image.nbytes, 1))
            self._frames = ContactFrames(self.tuning.look_buffer_s, min(self.tuning.buffer_max_frames, fit))
        self._frames.add(frame, roi)
        self._now = frame.t

    def request(self, request: LookRequest) -> None:
        self._waiting.append(_Pending(request))

    @property
    def buffered(self) -> int:
        """Frames kept for looks to come."""
        return len(self._frames) if self._frames is not None else 0

    @property
    def pending(self) -> int:
        return len(self._waiting) + len(self._reading)

    def results(self) -> list[Look]:
        """The looks finished since the last call (planning those whose frames are all in)."""
        due = [p for p in self._waiting if self._now >= p.request.mid_window[1]]
        self._waiting = [p for p in self._waiting if self._now < p.request.mid_window[1]]
        done: list[Look] = []
        for p in due:
            tuning = self.tuning
            p.plan = plan_contact(list(self._frames or ()), p.request.t_contact, p.request.mid_window,
                                  before=tuning.contact_frames_before, window_s=tuning.contact_window_s,
                                  mid_frames=tuning.mid_stance_frames)
            if self._runner is not None:
                done.append(self._read_now(p))
            else:
                self._submit(p)
        if self._worker is not None:
            done.extend(self._collect())
        return done

    def _read_now(self, p: _Pending) -> Look:
        t0 = time.perf_counter()
        for key, image, roi in p.plan.requests():
            try:
                p.results[key] = np.asarray(self._runner.landmarks(image, roi))
            except Exception as e:  # noqa: BLE001 - a frame the model cannot read is reported, not fatal
                p.results[key] = None
                p.errors.append(f"{type(e).__name__}: {e}")
        p.ms = (time.perf_counter() - t0) * 1000
        return self._finish(p)

    def _submit(self, p: _Pending) -> None:
        requests = p.plan.requests()
        if not requests:
            self._reading[p.request.key] = p
            return
        for key, image, roi in requests:
            self._worker.submit((p.request.key, key), image, roi)
        self._reading[p.request.key] = p

    def _collect(self) -> list[Look]:
        for r in self._worker.poll():
            step_key, frame_key = r.key
            p = self._reading.get(step_key)
            if p is None:
                continue
            p.results[frame_key] = r.landmarks
            p.ms += r.ms
            if r.error is not None:
                p.errors.append(f"{type(r.error).__name__}: {r.error}")
        done = []
        for step_key, p in list(self._reading.items()):
            expected = len(p.plan.contact) + len(p.plan.mid)
            # A request the worker dropped (it was behind) never comes back: the look goes out
            # with what came back once the buffer no longer holds its frames.
            stale = self._now - p.request.mid_window[1] > self.tuning.look_buffer_s
            if len(p.results) >= expected or stale:
                done.append(self._finish(p))
                del self._reading[step_key]
        return done

    @staticmethod
    def _finish(p: _Pending) -> Look:
        contact = tuple(p.results.get(("contact", i)) for i in range(len(p.plan.contact)))
        mid = tuple(p.results.get(("mid", i)) for i in range(len(p.plan.mid)))
        return Look(p.request, p.plan, contact, mid, p.ms, tuple(p.errors))
