"""Schemathesis fuzzing of the panel's OpenAPI schema: generated requests to every operation, logged
in with a CSRF token, must never get a server error, and responses must match the schema. Run against
the in-test fake controller and against the real runtime (simulated runner), whose loop must survive.

Bounded to a few examples per operation so the whole file runs in well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from test_web_fakes import FakeController

from appliance.web.app import create_app
from appliance.web.logins import CSRF_HEADER, LOGIN_COOKIE
from appliance.web.pin import PinStore

EXAMPLES_PER_OPERATION = {"fake": 12, "runtime": 5}  # calls into the real loop wait for a tick


@pytest.fixture(scope="module", params=["fake", "runtime"])
def panel(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The panel on the in-test fake controller, and on the real runtime (simulated runner)."""
    data_dir = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    if request.param == "fake":
        controller = FakeController(data_dir)
        close = controller.close
    else:
        from appliance.config import Settings
        from appliance.runtime.app import RunOptions, Runtime

        controller = Runtime(Settings(), RunOptions(source="sim", data_dir=data_dir, panel=False, speed=4.0, demo=False))
        controller.start()
        close = controller.shutdown
    PinStore(data_dir).set_pin("fuzzing-pin-1")
    app = create_app(controller, data_dir)
    # Something to find: a runner with one recorded session.
    runner = controller.store.create_runner("Fuzzy")
    controller.start_session(runner.id)
    controller.stop_session()
    app.state.fuzz_kind = request.param
    yield app
    close()


def run_operation(app, operation, mode: GenerationMode, examples: int) -> list[str]:
    """Fuzz one operation; returns the failures found (empty when none)."""
    failures: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case) -> None:
        # A fresh server-side login per case: fuzzed logouts and wrong-PIN logins must not lock us out.
        login = app.state.auth.logins.create()
        app.state.auth.limiter.record_success("testclient")
        response = case.call(headers={CSRF_HEADER: login.csrf_token}, cookies={LOGIN_COOKIE: login.token})
        where = f"{case.method} {case.formatted_path} {case.query or ''} {str(case.body)[:200]}"
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code} {response.text[:300]}")
            return
        checks = [response_schema_conformance, status_code_conformance]
        if mode is GenerationMode.NEGATIVE:
            checks.append(negative_data_rejection)
        try:
            case.validate_response(response, checks=checks)
        except Exception as e:  # a schemathesis FailureGroup: record it with the request
            failures.append(f"{where}: {response.status_code} {str(e)[:500]}")

    try:
        fuzz()
    except Unsatisfiable:
        # Negative mode: an operation without parameters or body has no invalid input to make.
        if mode is not GenerationMode.NEGATIVE:
            raise
    return failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_fuzzing_finds_no_server_error_and_no_schema_violation(panel, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", panel).exclude(path="/api/live/stream")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operations += 1
        failures += run_operation(panel, result.ok(), mode, EXAMPLES_PER_OPERATION[panel.state.fuzz_kind])
    assert operations >= 20
    assert not failures, "\n".join(failures[:20])
    assert panel.state.controller.health().loop_healthy, "the control loop stopped during fuzzing"
