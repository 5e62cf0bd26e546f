"""The default programme, session by session: run time, feedback share and block pattern."""

from __future__ import annotations

import pytest

from appliance.coach import (
    PlanError,
    Programme,
    SessionPlan,
    default_programme,
    feedback_share_of,
    plan_session,
)

W, R = 180, 120  # default warm-up 3 min, retention 2 min


def pattern(blocks):
    return [(b.kind, b.seconds) for b in blocks]


def alternate(on: int, off: int, n: int) -> list[tuple[str, int]]:
    return [("feedback_on", on), ("feedback_off", off)] * n


EXPECTED = {
    # session: (run minutes, feedback share, day, block pattern in seconds)
    1: (15, 1.0, 0, [("warmup", W), ("feedback_on", 600), ("retention", R)]),
    2: (17, 1.0, 2, [("warmup", W), ("feedback_on", 720), ("retention", R)]),
    3: (19, 1.0, 4, [("warmup", W), ("feedback_on", 840), ("retention", R)]),
    4: (21, 1.0, 7, [("warmup", W), ("feedback_on", 960), ("retention", R)]),
    # 19 min of retraining in 4 cycles of 4:45: 3:33.75 on rounds to 3:34 on / 1:11 off.
    5: (24, 0.75, 9, [("warmup", W)] + alternate(214, 71, 4) + [("retention", R)]),
    6: (26, 0.5, 11, [("warmup", W)] + alternate(63, 63, 10) + [("retention", R)]),
    7: (28, 0.25, 14, [("warmup", W)] + alternate(69, 207, 5) + [("retention", R)]),
    8: (30, 0.0, 16, [("warmup", W), ("feedback_off", 1500), ("retention", R)]),
}


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_default_programme_session(number):
    run, share, day, blocks = EXPECTED[number]
    session = default_programme().session(number)
    assert (session.run_minutes, session.feedback_share, session.day) == (run, share, day)
    plan = plan_session(session)
    assert pattern(plan) == blocks
    assert plan[-1].end_s == run * 60
    assert all(a.end_s == b.start_s for a, b in zip(plan, plan[1:], strict=False)), "gaps between blocks"
    assert feedback_share_of(plan) == pytest.approx(share, abs=0.002)
    retraining = [b for b in plan if b.kind.startswith("feedback")]
    assert all(b.seconds >= 60 for b in retraining), "a feedback block shorter than one minute"
    assert retraining[0].kind == ("feedback_off" if share == 0 else "feedback_on")


def test_programme_shape():
    programme = default_programme()
    assert len(programme.sessions) == 8
    assert programme.sessions[-1].day <= 16  # about two weeks
    runs = [s.run_minutes for s in programme.sessions]
    assert runs == sorted(runs) and runs[0] == 15 and runs[-1] == 30
    assert programme.session(12) is programme.sessions[-1]  # past the end: maintenance


def test_editable_programme_and_longer_blocks():
    programme = Programme(sessions=[SessionPlan(number=1, run_minutes=20, feedback_share=0.5)])
    plan = plan_session(programme.session(1), warmup_minutes=2, retention_minutes=2, min_block_minutes=2)
    assert pattern(plan) == [("warmup", 120)] + alternate(120, 120, 4) + [("retention", 120)]


def test_bad_programmes_are_clear_errors():
    with pytest.raises(ValueError, match="numbered 1..2"):
        Programme(sessions=[SessionPlan(number=2, run_minutes=20, feedback_share=1),
                            SessionPlan(number=1, run_minutes=20, feedback_share=1)])
    with pytest.raises(PlanError, match="session 1: 5.0 min"):
        plan_session(SessionPlan(number=1, run_minutes=5, feedback_share=1))
    with pytest.raises(ValueError, match="feedback_share"):
        SessionPlan(number=1, run_minutes=20, feedback_share=1.5)


def test_days_that_go_backwards_or_repeat_are_said_and_a_programme_without_days_is_not():
    def programme(days):
        return Programme(sessions=[SessionPlan(number=i + 1, run_minutes=20, feedback_share=1, day=d)
                                   for i, d in enumerate(days)])

    assert default_programme().day_order_problem() is None
    assert programme([0, 0, 0]).day_order_problem() is None  # no schedule
    index, reason = programme([0, 4, 2]).day_order_problem()
    assert index == 2 and "before session 2's day (4)" in reason
    index, reason = programme([0, 2, 2]).day_order_problem()
    assert index == 2 and "later than session 2's day (2)" in reason
    assert programme([0, 4, 2]).sessions[2].day == 2  # still a valid model: a stored one loads
