"""The clarification window (PAKET step 9) as one rule, without Telegram: every instant that
matters, the dates that may be missing, and clocks in other zones.

The last test keeps the rule in one place: no other module compares the window's dates.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import policy
from bot.errors import Invalid, Locked
from bot.policy import Window, clarification
from storage.views import RoundView

ROOT = Path(__file__).resolve().parent.parent
ANNOUNCED = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
END = ANNOUNCED + timedelta(days=7)
TICK = timedelta(microseconds=1)


def a_round(**dates: object) -> RoundView:
    base = RoundView(1, 1, "Tahap 1", 2026, ANNOUNCED - timedelta(days=30), None, "Asia/Jakarta")
    return replace(base, **dates)  # type: ignore[arg-type]


HELD = a_round(candidates_published_at=ANNOUNCED, clarify_start=ANNOUNCED, clarify_end=END)


def test_open_from_the_announcement_instant_until_just_before_the_close() -> None:
    assert clarification(HELD, ANNOUNCED - TICK) == Window.PENDING
    assert clarification(HELD, ANNOUNCED) == Window.OPEN
    assert clarification(HELD, ANNOUNCED + timedelta(days=3)) == Window.OPEN
    assert clarification(HELD, END - TICK) == Window.OPEN
    assert clarification(HELD, END) == Window.CLOSED
    assert clarification(HELD, END + timedelta(days=300)) == Window.CLOSED


def test_a_later_opening_date_holds_the_window_until_then() -> None:
    opens = ANNOUNCED + timedelta(days=2)
    round_ = replace(HELD, clarify_start=opens)
    assert clarification(round_, ANNOUNCED) == Window.PENDING
    assert clarification(round_, opens - TICK) == Window.PENDING
    assert clarification(round_, opens) == Window.OPEN
    assert not policy.objections_open(round_, opens - TICK)
    assert policy.objections_open(round_, opens)


def test_an_opening_date_before_the_announcement_does_not_open_it_early() -> None:
    round_ = replace(HELD, clarify_start=ANNOUNCED - timedelta(days=5))
    assert clarification(round_, ANNOUNCED - TICK) == Window.PENDING
    assert clarification(round_, ANNOUNCED) == Window.OPEN


def test_without_an_opening_date_it_opens_at_the_announcement() -> None:
    round_ = replace(HELD, clarify_start=None)
    assert clarification(round_, ANNOUNCED - TICK) == Window.PENDING
    assert clarification(round_, ANNOUNCED) == Window.OPEN
    assert clarification(round_, END) == Window.CLOSED


def test_no_window_before_the_candidates_are_announced_whatever_the_dates() -> None:
    for dates in (
        {},
        {"clarify_end": END},
        {"clarify_start": ANNOUNCED, "clarify_end": END},
    ):
        round_ = a_round(**dates)
        for now in (ANNOUNCED - timedelta(days=1), ANNOUNCED, END, END + timedelta(days=1)):
            assert clarification(round_, now) == Window.NOT_ANNOUNCED
            assert not policy.objections_open(round_, now)


def test_an_announced_round_without_a_closing_date_is_neither_open_nor_closed() -> None:
    undated = replace(HELD, clarify_end=None)
    for now in (ANNOUNCED, ANNOUNCED + timedelta(days=365 * 10)):
        assert clarification(undated, now) == Window.UNDATED
        assert not policy.objections_open(undated, now)
    # The POKJA is told to set the date, not allowed to skip the residents' window.
    with pytest.raises(Invalid) as caught:
        policy.require_window_held(undated, ANNOUNCED + timedelta(days=365))
    assert caught.value.code == "clarify_end_needed"
    with pytest.raises(Invalid) as caught:
        policy.require_can_finalize("candidate", [], undated, ANNOUNCED + timedelta(days=365))
    assert caught.value.code == "clarify_end_needed"
    # Setting a closing date ahead opens the window until then.
    dated = replace(undated, clarify_end=ANNOUNCED + timedelta(days=400))
    assert clarification(dated, ANNOUNCED + timedelta(days=365)) == Window.OPEN


def test_winners_wait_for_the_close() -> None:
    with pytest.raises(Locked) as caught:
        policy.require_window_held(a_round(clarify_end=END), END)
    assert caught.value.code == "window_not_held"
    for now in (ANNOUNCED - TICK, ANNOUNCED, END - TICK):
        with pytest.raises(Locked) as caught:
            policy.require_window_held(HELD, now)
        assert caught.value.code == "window_still_open"
        assert caught.value.params == {"until": END, "zone": "Asia/Jakarta"}
    policy.require_window_held(HELD, END)


def test_announcing_needs_a_closing_date_still_ahead() -> None:
    for end in (None, ANNOUNCED - TICK, ANNOUNCED):
        with pytest.raises(Invalid) as caught:
            policy.require_window_can_open(a_round(clarify_end=end), ANNOUNCED)
        assert caught.value.code == "clarify_end_needed"
    policy.require_window_can_open(a_round(clarify_end=ANNOUNCED + TICK), ANNOUNCED)


def test_the_same_instant_in_any_zone_gives_the_same_answer() -> None:
    jakarta, jayapura = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Jayapura")
    # Dates stored in the district's zone, the clock read in another one.
    local = replace(
        HELD,
        candidates_published_at=ANNOUNCED.astimezone(jakarta),
        clarify_start=ANNOUNCED.astimezone(jakarta),
        clarify_end=END.astimezone(jayapura),
    )
    for now in (ANNOUNCED - TICK, ANNOUNCED, END - TICK, END):
        expected = clarification(HELD, now)
        for zone in (UTC, jakarta, jayapura, ZoneInfo("America/Los_Angeles")):
            assert clarification(local, now.astimezone(zone)) == expected
            assert clarification(HELD, now.astimezone(zone)) == expected
    # 17:00 in Jakarta on the closing day is 10:00 UTC: closed at that instant in both zones.
    close = datetime(2026, 11, 17, 17, 0, tzinfo=jakarta)
    round_ = replace(HELD, clarify_end=close)
    assert clarification(round_, datetime(2026, 11, 17, 9, 59, 59, tzinfo=UTC)) == Window.OPEN
    assert clarification(round_, datetime(2026, 11, 17, 10, 0, tzinfo=UTC)) == Window.CLOSED


def test_a_naive_clock_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError):
        clarification(HELD, datetime(2026, 11, 12, 12, 0))


moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
)


@given(
    announced=moments,
    start=st.none() | moments,
    end=st.none() | moments,
    now=moments,
)
def test_open_exactly_between_the_opening_and_the_close(
    announced: datetime, start: datetime | None, end: datetime | None, now: datetime
) -> None:
    round_ = a_round(candidates_published_at=announced, clarify_start=start, clarify_end=end)
    opens = max(announced, start) if start is not None else announced
    window = clarification(round_, now)
    assert policy.objections_open(round_, now) == (window == Window.OPEN)
    if end is None:
        assert window == Window.UNDATED
    else:
        assert (window == Window.OPEN) == (opens <= now < end)
        assert (window == Window.CLOSED) == (now >= end)


WINDOW_DATES = {"clarify_start", "clarify_end", "candidates_published_at"}
ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def test_no_other_module_compares_the_window_dates() -> None:
    """The rule lives in `bot.policy`; anywhere else, an ordering of these dates is a copy."""
    copies = []
    for package in ("bot", "handlers", "storage"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "bot" / "policy.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.Compare):
                    continue
                if not any(isinstance(op, ORDERING) for op in node.ops):
                    continue
                names = {
                    n.attr
                    for operand in (node.left, *node.comparators)
                    for n in ast.walk(operand)
                    if isinstance(n, ast.Attribute)
                }
                if names & WINDOW_DATES:
                    copies.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert copies == []


def test_an_objector_is_told_why_the_round_takes_no_objection() -> None:
    from bot import objections

    undated = objections._window_error(replace(HELD, clarify_end=None), ANNOUNCED)
    assert undated is not None and undated.code == "window_undated"
    assert undated.params == {"round": "Tahap 1"}
    closed = objections._window_error(HELD, END)
    assert closed is not None and closed.code == "window_closed"
    assert closed.params == {"closed_at": END, "zone": "Asia/Jakarta"}
    # Not announced, or not yet open: the round has nothing to say; other rounds are asked.
    assert objections._window_error(a_round(clarify_end=END), ANNOUNCED) is None
    assert objections._window_error(HELD, ANNOUNCED - TICK) is None
