"""The simulated runner as a frame source: it yields ready-made poses instead of images.

This is the embedded default of ``appliance run`` on a machine without a camera, and the source of
the end-to-end tests. Frames are ``PoseFrame(t, index, pose, truth)``, without an image: their pose
provider passes their pose through (``appliance.hardware.simulated``, which wires the simulator).
Time is simulated time from 0; ``speed`` compresses it against the wall clock (``speed=10`` runs a
minute of treadmill in six seconds) so tests and demos stay short, and every event time stays a
(simulated) capture time.

A script of ``absences`` ((start, end) seconds) makes the runner step off the belt and come back,
which pauses and resumes a session. The runner follows a metronome: set ``target_cadence_spm``.

>>> source = SimulatedSource(RunnerParams(stand_s=3.0), fps=30, speed=4)
>>> for frame in source: ...   # PoseFrame, paced at 4x real time
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from appliance.sim import RunnerParams, SimulatedRunner, StepTruth
from appliance.sources.base import with_capture_rate
from appliance.types import Pose


@dataclass(frozen=True, slots=True)
class PoseFrame:
    """One simulated camera frame: the pose the engine would have produced (None: nobody seen),
    and the exact truth of the steps whose contact happened since the previous frame."""

    t: float
    index: int
    pose: Pose | None
    truth: list[StepTruth] = field(default_factory=list)
    image_size: tuple[int, int] = (640, 480)

    @property
    def image(self) -> None:
        """No pixels: a simulated frame is its pose (the foot stage and the heavy model have nothing to see)."""
        return None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the camera image the pose is in, like ``Frame.size``."""
        return self.image_size


SIDE_CLOCK_POLL_S = 0.002  # how often the rear view looks at the side camera's clock


class SimulatedSource:
    """Poses of a simulated treadmill runner, paced at ``speed`` times real time."""

    def __init__(
        self,
        params: RunnerParams | None = None,
        fps: float = 30.0,
        speed: float = 1.0,
        duration_s: float | None = None,
        absences: Sequence[tuple[float, float]] = (),
    ):
        if not speed > 0:
            raise ValueError(f"speed must be positive (simulated seconds per wall second), not {speed}")
        if not fps > 0:
            raise ValueError(f"fps must be positive, not {fps}")
        self.params = params or RunnerParams()
        self.runner = SimulatedRunner(self.params)
        self.nominal_fps = float(fps)
        self.speed = float(speed)
        self.duration_s = duration_s
        self.absences = [(float(a), float(b)) for a, b in absences]
        self.name = with_capture_rate("sim", speed)
        self.width, self.height = self.params.image_size
        self.latest_t = float("-inf")  # simulated time of the newest frame handed out (the rear view follows it)
        self._closed = False

    @property
    def target_cadence_spm(self) -> float | None:
        return self.runner.target_cadence_spm

    @target_cadence_spm.setter
    def target_cadence_spm(self, bpm: float | None) -> None:
        """The runner follows this step rate (a metronome); None: the runner's own rate."""
        self.runner.target_cadence_spm = bpm

    def absent_at(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.absences)

    def __iter__(self) -> Iterator[PoseFrame]:
        wall0 = time.monotonic()
        # The stream yields frame i at t = i / fps, also for dropout frames (pose None).
        for index, (pose, truth) in enumerate(self.runner.stream(self.nominal_fps)):
            if self._closed:
                return
            t = index / self.nominal_fps
            if self.duration_s is not None and t > self.duration_s:
                self.latest_t = float("inf")  # the run is over: nothing for the rear view to wait for
                return
            due = wall0 + t / self.speed
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if self.absent_at(t):
                pose = None
            self.latest_t = t
            yield PoseFrame(t, index, pose, truth, self.params.image_size)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True


class SimulatedRearSource:
    """The same simulated runner seen by a second camera behind (or in front of) the treadmill
    (``appliance.sim.rear_view``): PoseFrames on the side source's clock (simulated time from 0),
    at the rear camera's own ``fps``. A frame is handed out once the side camera has reached its
    time, so the two stay joined whenever either starts and however fast the loop takes the side's.

    >>> side = SimulatedSource(RunnerParams(), fps=30, speed=4)
    >>> rear = SimulatedRearSource(side, FrontalParams(pelvic_drop_deg=8), fps=30)
    """

    def __init__(self, side: SimulatedSource, params=None, fps: float = 30.0):
        from appliance.sim.rear_view import FrontalParams, RearView

        if not fps > 0:
            raise ValueError(f"fps must be positive, not {fps}")
        self.side = side
        self.view = RearView(side.runner, params or FrontalParams())
        self.nominal_fps = float(fps)
        self.name = with_capture_rate("sim rear", side.speed)
        self.width, self.height = self.view.params.image_size
        self._closed = False

    def __iter__(self) -> Iterator[PoseFrame]:
        for index, pose in enumerate(self.view.stream(self.nominal_fps)):
            t = index / self.nominal_fps
            if self.side.duration_s is not None and t > self.side.duration_s:
                return
            while self.side.latest_t < t and not (self._closed or self.side.closed):
                time.sleep(SIDE_CLOCK_POLL_S)
            if self._closed:
                return
            if self.side.absent_at(t):
                pose = None
            yield PoseFrame(t, index, pose, [], (self.width, self.height))

    def close(self) -> None:
        self._closed = True
