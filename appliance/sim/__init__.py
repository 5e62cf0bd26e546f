"""The simulated treadmill runner: test bed of the gait analysis and the camera-less source of
``appliance run``. See :mod:`appliance.sim.runner`."""

from appliance.sim.runner import RunnerParams, SimulatedRunner, StepTruth, strike_class

__all__ = ["RunnerParams", "SimulatedRunner", "StepTruth", "strike_class"]
