"""Pure pieces of the console, on hand-written data: camera health, overturn rates, queue age buckets, the rule
trace and trajectory read from a payload, the login redirect guard; and the login lockout window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from central.console.auth import authenticate
from central.console.filters import age_bounds
from central.console.health import StatusRow, camera_health
from central.console.login import safe_next
from central.console.overturns import EventSteps, Step, overturn_rates, total
from central.console.records import trajectory_points
from central.db import transaction
from tests.console_support import PASSWORDS, make_central

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_camera_health_states_and_rates() -> None:
    rows = [
        StatusRow("s1", "a", "online", NOW - timedelta(seconds=30), {"fps": 4.0, "required_fps": 8.0}),
        StatusRow("s1", "b", "online", NOW - timedelta(minutes=20), {"fps": 10.0, "required_fps": 8.0}),
        StatusRow("s1", "c", "offline", NOW - timedelta(hours=3), None),
    ]
    health = camera_health(rows, {("s1", "a"): 3}, {("s1", "a"): 48, ("s2", "x"): 6}, NOW)
    by_id = {h.camera_id: h for h in health}
    assert [h.camera_id for h in health] == ["a", "b", "c", "x"]
    assert by_id["a"].state == "online" and by_id["a"].events_last_hour == 3 and by_id["a"].events_per_hour_24h == 2.0
    assert by_id["a"].fps_below_need and not by_id["b"].fps_below_need
    assert by_id["b"].state == "silent"  # online, but no heartbeat for 20 minutes
    assert by_id["c"].state == "offline" and by_id["c"].seconds_since == 3 * 3600
    assert by_id["x"].state == "unknown" and by_id["x"].last_seen is None and by_id["x"].events_per_hour_24h == 0.25


def test_overturn_rates_per_camera_and_rule() -> None:
    confirm = [Step("claim", "pending"), Step("confirm", "in_review")]
    events = [
        EventSteps("s/a", "jay", [*confirm, Step("appeal", "confirmed"), Step("reverse", "appealed")]),
        EventSteps("s/a", "jay", [*confirm, Step("appeal", "confirmed"), Step("uphold", "appealed")]),
        EventSteps("s/a", "jay", [Step("claim", "pending"), Step("reject", "in_review"), Step("reopen", "rejected")]),
        EventSteps("s/a", "litter", [*confirm]),
        EventSteps(
            "s/b", "jay", [Step("claim", "pending"), Step("refer", "in_review"), Step("reopen", "awaiting_second")]
        ),
        EventSteps("s/b", "jay", [Step("claim", "pending"), Step("release", "in_review")]),
    ]
    rows = overturn_rates(events)
    assert [(r.camera, r.rule, r.decided, r.overturned) for r in rows] == [
        ("s/a", "jay", 3, 2),
        ("s/a", "litter", 1, 0),
    ]
    assert round(rows[0].rate, 3) == 0.667
    overall = total(rows)
    assert (overall.decided, overall.overturned) == (4, 2) and overall.rate == 0.5
    assert total([]).rate == 0.0


def test_age_buckets() -> None:
    assert age_bounds("", NOW) == (None, None)
    assert age_bounds("lt1h", NOW) == (None, NOW - timedelta(hours=1))
    assert age_bounds("gt24h", NOW) == (NOW - timedelta(hours=24), None)
    assert age_bounds("gt7d", NOW) == (NOW - timedelta(days=7), None)


def test_trajectory_from_payload() -> None:
    payload = {
        "track": {"trajectory": [{"t": 0, "x": 0.1, "y": 0.2}, {"t": 1, "x": 1.5, "y": 0.2}, None, {"x": 1, "y": 0}]}
    }
    assert trajectory_points(payload) == [(0.1, 0.2), (1.0, 0.0)]
    assert trajectory_points({}) == []


def test_login_redirect_stays_on_site() -> None:
    assert safe_next("/items/abc?x=1") == "/items/abc?x=1"
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "", None):
        assert safe_next(hostile) is None


def test_lockout_window_slides(tmp_path) -> None:
    central = make_central(f"sqlite:///{tmp_path / 'c.db'}", tmp_path)
    limits = {"max_failures": 3, "window_s": 600}

    def attempt(password: str, at: datetime, address: str = "10.0.0.1"):
        with transaction(central.factory) as session:
            return authenticate(session, "bob", password, address, at, **limits)

    for n in range(3):
        assert attempt("wrong-password", NOW + timedelta(seconds=n)).user is None
    locked = attempt(PASSWORDS["bob"], NOW + timedelta(seconds=60))
    assert locked.locked_out and locked.user is None
    assert attempt(PASSWORDS["bob"], NOW + timedelta(seconds=60), address="10.0.0.2").user is not None
    later = attempt(PASSWORDS["bob"], NOW + timedelta(seconds=603))
    assert not later.locked_out and later.user is not None and later.user.role == "reviewer"


def test_a_password_reset_counts_like_a_creation_for_the_two_reviewer_warning(tmp_path) -> None:
    from types import SimpleNamespace

    from central import audit
    from central.console.accounts import reset_password
    from central.console.auth import add_user
    from central.console.second_review_check import shared_creator_warning
    from central.review.states import Action

    central = make_central(f"sqlite:///{tmp_path / 'c.db'}", tmp_path)
    with transaction(central.factory) as session:
        # Created by two different admins with passwords they chose (before one-time passwords): no warning.
        for name, role, creator in (("rev1", "reviewer", "ann"), ("sup1", "supervisor", "ben")):
            add_user(session, name, f"{name}-chosen-by-{creator}", role, issued_by=creator)
            audit.record(session, creator, "user.add", target=name, details={"role": role})
    later = datetime.now(UTC) + timedelta(minutes=1)
    history = [
        SimpleNamespace(action=Action.REFER, actor="rev1", at=later),
        SimpleNamespace(action=Action.CONFIRM, actor="sup1", at=later + timedelta(seconds=5)),
    ]
    with transaction(central.factory) as session:
        assert shared_creator_warning(session, history) is None
        for name in ("rev1", "sup1"):
            reset_password(session, "root", name)
    with transaction(central.factory) as session:
        warning = shared_creator_warning(session, history)
        assert warning is not None and "created or reset by root (rev1 and sup1)" in warning
        audit.record(session, "rev1", "user.password_change", target="rev1", details={"one_time": True})
    with transaction(central.factory) as session:
        assert shared_creator_warning(session, history) is None, "rev1 replaced the password root set"
