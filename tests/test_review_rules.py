"""The review's rules without Telegram: decisions by phase, winners after the window, the
calendar's order, objection windows and limits, pseudonyms, and dates as people type them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot import objections, policy, rounds
from bot.errors import Invalid, Locked, NotAllowed
from storage.views import Grant, PersonView, Role, RoundView

NOW = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)


def a_round(**dates: object) -> RoundView:
    base = RoundView(1, 1, "Tahap 1", 2026, NOW - timedelta(days=3), None, "Asia/Jakarta")
    return replace(base, **dates)  # type: ignore[arg-type]


def someone(*grants: Grant) -> PersonView:
    return PersonView(7, 707, "X", "id", tuple(grants))


def test_decisions_only_on_proposals_in_review() -> None:
    round_ = a_round()
    for decision in policy.DECISIONS:
        policy.require_decision("submitted", decision, round_, NOW)
    for status in ("draft", "revision", "rejected", "candidate", "winner"):
        with pytest.raises(Locked):
            policy.require_decision(status, "candidate", round_, NOW)
    with pytest.raises(NotAllowed):
        policy.require_decision("submitted", "winner", round_, NOW)


def test_no_new_candidates_once_the_list_is_announced() -> None:
    announced = a_round(candidates_published_at=NOW - timedelta(days=1))
    with pytest.raises(Locked) as caught:
        policy.require_decision("submitted", "candidate", announced, NOW)
    assert caught.value.code == "candidates_published"
    # ...but a candidate sent back by an upheld objection may still be rejected or revised
    policy.require_decision("submitted", "rejected", announced, NOW)


def test_a_winner_only_after_the_window_and_every_answer() -> None:
    held = a_round(candidates_published_at=NOW - timedelta(days=5), clarify_end=NOW)
    with pytest.raises(Locked) as caught:
        policy.require_can_finalize("candidate", [], held, NOW - timedelta(seconds=1))
    assert caught.value.code == "window_still_open"
    with pytest.raises(Locked) as caught:
        policy.require_can_finalize("candidate", ["KB-2026-0003"], held, NOW)
    assert caught.value.code == "objections_open"
    assert caught.value.params["numbers"] == "KB-2026-0003"
    with pytest.raises(Locked):
        policy.require_can_finalize("submitted", [], held, NOW)
    with pytest.raises(Locked) as caught:
        policy.require_can_finalize("candidate", [], a_round(clarify_end=NOW), NOW)
    assert caught.value.code == "window_not_held"
    policy.require_can_finalize("candidate", [], held, NOW)


def test_the_window_runs_from_the_announcement_to_its_end() -> None:
    end = NOW + timedelta(days=7)
    assert not policy.objections_open(a_round(clarify_end=end), NOW)  # not announced yet
    announced = a_round(clarify_end=end, candidates_published_at=NOW)
    assert policy.objections_open(announced, NOW)
    assert not policy.objections_open(announced, end)
    later_start = replace(announced, clarify_start=NOW + timedelta(days=1))
    assert not policy.objections_open(later_start, NOW)
    assert policy.objections_open(later_start, NOW + timedelta(days=1))


def test_revision_is_editable_until_its_own_deadline() -> None:
    pakem = someone(Grant(Role.PAKEM, 1, "33.24.01.2001", 1))
    round_ = a_round()  # submission deadline passed three days ago
    policy.require_can_edit(
        pakem, 7, "33.24.01.2001", "revision", round_, NOW, NOW + timedelta(hours=1)
    )
    with pytest.raises(Locked) as caught:
        policy.require_can_edit(pakem, 7, "33.24.01.2001", "revision", round_, NOW, NOW)
    assert caught.value.code == "revision_over"
    with pytest.raises(Locked):
        policy.require_can_edit(pakem, 7, "33.24.01.2001", "candidate", round_, NOW)


def test_only_the_districts_admin_unmasks() -> None:
    policy.require_admin(someone(Grant(Role.ADMIN, 1, None, None)), 1)
    for grant in (Grant(Role.POKJA, 1, None, None), Grant(Role.ADMIN, 2, None, None)):
        with pytest.raises(NotAllowed):
            policy.require_admin(someone(grant), 1)


def test_calendar_dates_must_be_in_order() -> None:
    d = NOW
    rounds.check_order(
        {
            "submission_deadline": d,
            "review_start": d + timedelta(days=1),
            "review_end": None,
            "clarify_end": d + timedelta(days=9),
        }
    )
    with pytest.raises(Invalid) as caught:
        rounds.check_order(
            {
                "submission_deadline": d,
                "review_end": d + timedelta(days=5),
                "clarify_start": d + timedelta(days=5),
            }
        )
    assert caught.value.params["field"] == "clarify_start"
    assert caught.value.params["before"] == "review_end"


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("31-12-2026", True, "2026-12-31T23:59:00+07:00"),
        ("31/12/2026", False, "2026-12-31T00:00:00+07:00"),
        ("2026-12-31 17:00", True, "2026-12-31T17:00:00+07:00"),
        ("1.2.2027 8:30", True, "2027-02-01T08:30:00+07:00"),
    ],
)
def test_dates_as_people_type_them(text: str, end: bool, expected: str) -> None:
    assert rounds.parse_date(text, "Asia/Jakarta", end_of_day=end).isoformat() == expected


@pytest.mark.parametrize("text", ["besok", "31-02-2026", "12/2026", "2026-13-01", "99-99-99"])
def test_dates_that_are_not_dates(text: str) -> None:
    with pytest.raises(Invalid) as caught:
        rounds.parse_date(text, "Asia/Jakarta", end_of_day=True)
    assert caught.value.code == "date_format"


async def test_pseudonyms_are_stable_per_person_and_district(sessions) -> None:
    from storage.models import District, Person

    async with sessions() as session, session.begin():
        # Pseudonyms are stored now, so the district and the person must exist.
        for n, kode in ((1, "33.24"), (2, "33.22")):
            session.add(District(id=n, kode=kode, name=kode, timezone="Asia/Jakarta", prefix="X"))
        session.add_all([Person(id=42, telegram_id=42), Person(id=43, telegram_id=43)])
        await session.flush()
        first = await objections.pseudonym(session, 1, 42)
        again = await objections.pseudonym(session, 1, 42)
        other = await objections.pseudonym(session, 1, 43)
        elsewhere = await objections.pseudonym(session, 2, 42)
    assert first == again and first.startswith("Warga-") and len(first) == 12
    assert len({first, other, elsewhere}) == 3
