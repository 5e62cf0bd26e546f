"""The demo: on the embedded default (no camera, ``--source auto``) or with ``--demo``, a short session
for the runner "Demo runner" starts by itself as soon as the first frame comes.

Its programme is one 5-minute session with feedback faded to 50 %, coached with shorter blocks, and
the simulated runner runs at ``DEMO_SPEED`` (``appliance.hardware.simulated``) so that the whole session shows in under a minute.
"""

from __future__ import annotations

from appliance.config import CoachSettings
from appliance.hardware.simulated import DEMO_SPEED  # noqa: F401  (the demo's speed, said here with the demo)
from appliance.runtime.loop import ControlLoop
from appliance.runtime.session_service import SessionService
from appliance.store import Store

DEMO_RUNNER = "Demo runner"
DEMO_PROGRAMME = {"name": "demo (5 min, feedback faded to 50 %)",
                  "sessions": [{"number": 1, "run_minutes": 5, "feedback_share": 0.5}]}
DEMO_COACH = CoachSettings(warmup_minutes=0.5, retention_minutes=0.5, min_block_minutes=0.5,
                           min_cue_interval_s=8, min_baseline_steps=20)


def start_demo_session(store: Store, sessions: SessionService, loop: ControlLoop) -> None:
    """Find or create the demo runner, coach with ``DEMO_COACH``, and start the demo session at the
    loop's first frame (a stop before the first frame leaves no empty session)."""
    from appliance.coach import Targets

    runner = store.find_runner(DEMO_RUNNER) or store.create_runner(
        DEMO_RUNNER, targets=Targets().model_dump(mode="json"), programme=DEMO_PROGRAMME
    )
    sessions.coach_settings = DEMO_COACH
    machine = loop.session

    def start(t: float) -> None:
        if machine.active is None:
            before = machine.active
            loop.dispatch(before, machine.start(runner.id, t)[1])

    loop.post_when_ticking(start)
