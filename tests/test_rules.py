"""The rules, without Telegram: who may do what, in which phase, before which deadline."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import policy, proposals
from bot.errors import Invalid, Locked, NotAllowed, Stale
from bot.people import create_invite, redeem_invite
from storage.models import Person
from storage.views import Grant, PersonView, ProposalView, Role, RoundView
from tests.seed import BLUMAH, PLANTUNGAN, kendal, round_

NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
DOMAIN = [
    "policy",
    "proposals",
    "money",
    "people",
    "rounds",
    "regions",
    "home",
    "audit",
    "errors",
    "announcements",
    "reminders",
    "follows",
    "review",
    "objections",
    "winners",
    "exports",
]


@pytest.mark.parametrize("module", DOMAIN)
def test_domain_modules_never_import_aiogram(module: str) -> None:
    tree = ast.parse((Path(__file__).parents[1] / "bot" / f"{module}.py").read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not any(name.startswith("aiogram") for name in imported)


def a_round(deadline_days: float = 10, ceiling: int | None = None) -> RoundView:
    return RoundView(
        1, 1, "Tahap 1", 2026, NOW + timedelta(days=deadline_days), ceiling, "Asia/Jakarta"
    )


def someone(*grants: Grant, pid: int = 7) -> PersonView:
    return PersonView(pid, 700 + pid, "X", "id", tuple(grants))


PAKEM = Grant(Role.PAKEM, 1, BLUMAH, 1)


def test_only_pakem_of_the_round_may_start() -> None:
    assert policy.require_can_start(someone(PAKEM), a_round(), NOW) == BLUMAH
    with pytest.raises(NotAllowed):
        policy.require_can_start(someone(Grant(Role.POKJA, 1, None, None)), a_round(), NOW)
    with pytest.raises(NotAllowed):
        policy.require_can_start(someone(Grant(Role.PAKEM, 1, BLUMAH, 2)), a_round(), NOW)
    with pytest.raises(Locked):
        policy.require_can_start(someone(PAKEM), a_round(deadline_days=-1), NOW)


def test_editing_needs_the_author_a_draft_and_an_open_window() -> None:
    me = someone(PAKEM)
    policy.require_can_edit(me, me.id, BLUMAH, "draft", a_round(), NOW)
    with pytest.raises(NotAllowed):
        policy.require_can_edit(me, 99, BLUMAH, "draft", a_round(), NOW)
    with pytest.raises(Locked) as locked:
        policy.require_can_edit(me, me.id, BLUMAH, "submitted", a_round(), NOW)
    assert locked.value.code == "submitted"
    with pytest.raises(Locked) as late:
        policy.require_can_edit(me, me.id, BLUMAH, "draft", a_round(deadline_days=0), NOW)
    assert late.value.code == "deadline"


def test_editing_needs_a_seat_on_that_villages_committee() -> None:
    """Removed from one village's committee, an author keeps no right over its drafts, even
    while sitting on another village's committee in the same round."""
    elsewhere = someone(Grant(Role.PAKEM, 1, "33.24.01.2002", 1))
    with pytest.raises(NotAllowed) as caught:
        policy.require_can_edit(elsewhere, elsewhere.id, BLUMAH, "draft", a_round(), NOW)
    assert caught.value.code == "not_pakem"
    both = someone(Grant(Role.PAKEM, 1, "33.24.01.2002", 1), PAKEM)
    policy.require_can_edit(both, both.id, BLUMAH, "draft", a_round(), NOW)


def view(**kw) -> ProposalView:
    base = dict(
        id=1,
        round=a_round(ceiling=kw.pop("ceiling", None)),
        village_kode=BLUMAH,
        village_name="Blumah",
        kecamatan_name="Plantungan",
        author_id=7,
        status="draft",
        step="review",
        return_to_review=True,
        number=None,
        title="T",
        activity="road",
        location_name="L",
        latitude=None,
        longitude=None,
        problem="P" * 20,
        households=10,
        poor_households=5,
        editing_line_id=None,
        updated_at=NOW,
        submitted_at=None,
    )
    base.update(kw)
    return ProposalView(**base)


def test_viewing_is_for_author_committee_and_district_pokja() -> None:
    v = view()
    policy.require_can_view(someone(pid=7), v)
    policy.require_can_view(someone(PAKEM, pid=8), v)
    policy.require_can_view(someone(Grant(Role.POKJA, 1, None, None), pid=9), v)
    with pytest.raises(NotAllowed):
        policy.require_can_view(someone(Grant(Role.PAKEM, 1, PLANTUNGAN, 1), pid=10), v)
    with pytest.raises(NotAllowed):
        policy.require_can_view(someone(Grant(Role.POKJA, 2, None, None), pid=11), v)


def test_missing_fields_and_ceiling() -> None:
    from storage.views import LineView

    line = LineView(1, 1, "Semen", 10_000, "sak", 65_000, "swadaya", True)
    assert policy.missing_fields(view(lines=(line,))) == []
    assert policy.missing_fields(view(title=None)) == ["title", "budget"]
    assert policy.over_ceiling(view(lines=(line,), ceiling=500_000)) == 500_000
    assert policy.over_ceiling(view(lines=(line,), ceiling=650_000)) is None


async def test_wizard_rules_on_the_database(sessions) -> None:
    district = await kendal(sessions, NOW)
    r = await round_(sessions, district, NOW, days=5)
    async with sessions() as session, session.begin():
        session.add(Person(telegram_id=1, full_name="Siti"))
        session.add(Person(telegram_id=2, full_name="Eko"))
        await session.flush()
        invite = await create_invite(
            session, district, Role.PAKEM, NOW, days=7, village_kode=BLUMAH
        )
        await redeem_invite(session, 1, invite.code, NOW)
    siti = someone(Grant(Role.PAKEM, district.id, BLUMAH, r.id), pid=1)
    eko = someone(pid=2)
    async with sessions() as session, session.begin():
        draft = await proposals.start_draft(session, siti, r.id, NOW)
        with pytest.raises(Stale):
            await proposals.choose(session, siti, draft.id, proposals.Step.ACTIVITY, "road", NOW)
        with pytest.raises(Invalid) as short:
            await proposals.answer_text(session, siti, draft.id, "ab", NOW)
        assert short.value.code == "too_short"
        v = await proposals.answer_text(session, siti, draft.id, "Jalan", NOW)
        assert v.step == "activity"
        with pytest.raises(NotAllowed):
            await proposals.choose(session, eko, draft.id, proposals.Step.ACTIVITY, "road", NOW)
        with pytest.raises(Invalid):
            await proposals.choose(session, siti, draft.id, proposals.Step.ACTIVITY, "zoo", NOW)
        later = NOW + timedelta(days=6)
        with pytest.raises(Locked):
            await proposals.choose(session, siti, draft.id, proposals.Step.ACTIVITY, "road", later)


async def test_invites_are_one_time_and_expire(sessions) -> None:
    district = await kendal(sessions, NOW)
    await round_(sessions, district, NOW)
    async with sessions() as session, session.begin():
        session.add(Person(telegram_id=1, full_name="A"))
        session.add(Person(telegram_id=2, full_name="B"))
        await session.flush()
        invite = await create_invite(session, district, Role.POKJA, NOW, days=7)
        first = await redeem_invite(session, 1, invite.code.lower(), NOW)
        assert first.role == Role.POKJA and not first.already_had
        again = await redeem_invite(session, 1, invite.code, NOW)
        assert again.already_had
        with pytest.raises(Invalid) as used:
            await redeem_invite(session, 2, invite.code, NOW)
        assert used.value.code == "invite_used"
        old = await create_invite(session, district, Role.POKJA, NOW, days=1)
        with pytest.raises(Invalid) as expired:
            await redeem_invite(session, 2, old.code, NOW + timedelta(days=1, seconds=1))
        assert expired.value.code == "invite_expired"
        with pytest.raises(Invalid):
            await create_invite(session, district, Role.PAKEM, NOW, days=7)
        with pytest.raises(Invalid):
            await create_invite(session, district, Role.PAKEM, NOW, days=7, village_kode="99")
