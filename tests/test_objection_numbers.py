"""Objection numbers come from a counter per district and year when filed (discarded drafts
leave no gaps, each district starts at 0001), and a person finds only their own by number.
Pseudonyms are stable and never shared within a district, however the codes fall."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import objections
from bot.errors import NotFound
from storage import queries
from storage.models import Objection, ObjectionCounter, Person, ProposalCounter, Pseudonym
from storage.views import PersonView
from tests.objection_world import KOPENG, add_person, semarang, view_of, world


async def file_one(
    session: AsyncSession,
    person: PersonView,
    proposal_id: int,
    now: datetime,
    anonymous: bool = False,
) -> str:
    draft = await objections.start(session, person, now, proposal_id=proposal_id)
    await objections.choose_category(session, person, draft.id, "other", now)
    await objections.set_text(session, person, draft.id, "Papan nama proyek tidak ada.", now)
    await objections.evidence_done(session, person, draft.id, now)
    await objections.choose_identity(session, person, draft.id, anonymous, now)
    return (await objections.file(session, person, draft.id, now)).number


async def test_discarded_drafts_leave_no_gaps(sessions, clock):
    now = clock()
    w = await world(sessions, now)
    async with sessions() as session, session.begin():
        rows = [await add_person(session, name) for name in ("Eko", "Fani", "Gita")]
        eko, fani, gita = [await view_of(session, r.id or 0) for r in rows]
        # Eko discards two drafts, Fani leaves one unfinished
        for _ in range(2):
            draft = await objections.start(session, eko, now, proposal_id=w.proposal_id)
            await objections.cancel(session, eko, draft.id)
        await objections.start(session, fani, now, proposal_id=w.proposal_id)
        first = await file_one(session, gita, w.proposal_id, now)
        second = await file_one(session, eko, w.proposal_id, now)
        third = await file_one(session, fani, w.proposal_id, now)  # files the kept draft
    assert (first, second, third) == ("KB-2026-0001", "KB-2026-0002", "KB-2026-0003")
    async with sessions() as session:
        drafts = (
            await session.execute(select(Objection).where(Objection.number.is_(None)))  # type: ignore[union-attr]
        ).scalars()
        assert sorted(d.status for d in drafts) == ["withdrawn", "withdrawn"]


async def test_two_districts_both_start_at_0001_and_a_number_is_the_persons_own(sessions, clock):
    now = clock()
    kendal_world = await world(sessions, now)
    semarang_world = await world(sessions, now, await semarang(sessions, now), KOPENG)
    async with sessions() as session, session.begin():
        eko_row, fani_row = await add_person(session, "Eko"), await add_person(session, "Fani")
        eko = await view_of(session, eko_row.id or 0)
        fani = await view_of(session, fani_row.id or 0)
        # Eko objects in both districts: the same number twice, each in its own district
        assert await file_one(session, eko, kendal_world.proposal_id, now) == "KB-2026-0001"
        assert await file_one(session, eko, semarang_world.proposal_id, now) == "KB-2026-0001"
        assert await file_one(session, fani, kendal_world.proposal_id, now) == "KB-2026-0002"
    async with sessions() as session:
        mine = await objections.own_by_number(session, eko, " kb-2026-0001 ")
        assert sorted(v.proposal.village_kode for v in mine) == ["33.22.01.2001", "33.24.01.2001"]
        # Fani does not read Eko's objection by guessing its number, nor he hers
        with pytest.raises(NotFound):
            await objections.own_by_number(session, fani, "KB-2026-0001")
        with pytest.raises(NotFound):
            await objections.own_by_number(session, eko, "KB-2026-0002")
        [hers] = await objections.own_by_number(session, fani, "KB-2026-0002")
        assert hers.proposal.id == kendal_world.proposal_id
        counters = (await session.execute(select(ObjectionCounter))).scalars().all()
        assert sorted((c.district_id, c.year, c.last) for c in counters) == sorted(
            [(kendal_world.district.id, 2026, 2), (semarang_world.district.id, 2026, 1)]
        )


async def test_one_counter_function_for_proposals_and_objections(sessions, clock):
    """Each counter table counts on its own, per district and per year, from 1."""
    now = clock()
    w = await world(sessions, now)
    other = await semarang(sessions, now)
    async with sessions() as session, session.begin():
        got = [
            await queries.next_number(session, ObjectionCounter, w.district.id, 2026),
            await queries.next_number(session, ObjectionCounter, w.district.id, 2026),
            await queries.next_number(session, ObjectionCounter, w.district.id, 2027),
            await queries.next_number(session, ObjectionCounter, other.id, 2026),
            await queries.next_number(session, ProposalCounter, other.id, 2026),
            await queries.next_proposal_number(session, other.id, 2026),
        ]
    assert got == [1, 2, 1, 1, 1, 2]


async def test_two_first_numbers_at_once_wait_for_each_other(sessions, clock, db_url):
    """No counter row yet, two transactions: the second waits for the first, then takes 2."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer: transactions never overlap")
    w = await world(sessions, clock())

    async def bump(hold: asyncio.Event | None) -> int:
        async with sessions() as session, session.begin():
            value = await queries.next_number(session, ObjectionCounter, w.district.id, 2026)
            if hold is not None:
                await hold.wait()
            return value

    release = asyncio.Event()
    first = asyncio.create_task(bump(release))
    await asyncio.sleep(0.3)
    second = asyncio.create_task(bump(None))
    await asyncio.sleep(0.3)
    assert not second.done()
    release.set()
    assert (await first, await second) == (1, 2)


# -- pseudonyms --------------------------------------------------------------------------------


async def _people(session: AsyncSession, n: int) -> list[int]:
    rows = [Person(telegram_id=800_000_000 + i, full_name=f"Warga {i}") for i in range(n)]
    session.add_all(rows)
    await session.flush()
    return [r.id or 0 for r in rows]


async def test_three_thousand_people_of_a_district_get_distinct_stable_pseudonyms(sessions, clock):
    w = await world(sessions, clock())
    async with sessions() as session, session.begin():
        ids = await _people(session, 3000)
        first = [await objections.pseudonym(session, w.district.id, i) for i in ids]
    assert len(set(first)) == 3000
    assert all(p.startswith("Warga-") and len(p) == 12 for p in first)
    async with sessions() as session:
        again = [await objections.pseudonym(session, w.district.id, i) for i in ids]
    assert again == first


async def test_colliding_codes_still_give_distinct_pseudonyms(sessions, clock, monkeypatch):
    """One symbol from 31: collisions on almost every call, resolved by the next candidate."""
    monkeypatch.setattr(objections, "PSEUDONYM_LENGTH", 1)
    w = await world(sessions, clock())
    async with sessions() as session, session.begin():
        ids = await _people(session, 25)
        first = [await objections.pseudonym(session, w.district.id, i) for i in ids]
        assert len(set(first)) == 25
        assert [await objections.pseudonym(session, w.district.id, i) for i in ids] == first


async def test_a_forced_collision_takes_the_next_candidate(sessions, clock, monkeypatch):
    """Everyone's first candidate is the same code; only the first person gets it."""

    def derive(key: str, district_id: int, person_id: int, attempt: int) -> str:
        return "Warga-SAME" if attempt == 0 else f"Warga-{person_id}-{attempt}"

    monkeypatch.setattr(objections, "pseudonym_code", derive)
    w = await world(sessions, clock())
    other = await semarang(sessions, clock())
    async with sessions() as session, session.begin():
        a, b, c = await _people(session, 3)
        assert await objections.pseudonym(session, w.district.id, a) == "Warga-SAME"
        assert await objections.pseudonym(session, w.district.id, b) == f"Warga-{b}-1"
        assert await objections.pseudonym(session, w.district.id, c) == f"Warga-{c}-1"
        # another district has its own names: the same code is free there
        assert await objections.pseudonym(session, other.id, b) == "Warga-SAME"
        assert await objections.pseudonym(session, w.district.id, a) == "Warga-SAME"


async def test_two_transactions_claiming_one_code_both_get_a_pseudonym(
    sessions, clock, monkeypatch, db_url
):
    """The second claim waits for the first transaction, then takes the next candidate."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer: transactions never overlap")

    def derive(key: str, district_id: int, person_id: int, attempt: int) -> str:
        return "Warga-SAME" if attempt == 0 else f"Warga-{person_id}-{attempt}"

    monkeypatch.setattr(objections, "pseudonym_code", derive)
    w = await world(sessions, clock())
    async with sessions() as session, session.begin():
        a, b = await _people(session, 2)
        await objections.pseudonym(session, w.district.id, a)  # creates the key first
        await session.execute(Pseudonym.__table__.delete())  # type: ignore[attr-defined]

    async def claim(person_id: int, hold: asyncio.Event | None) -> str:
        async with sessions() as session, session.begin():
            code = await objections.pseudonym(session, w.district.id, person_id)
            if hold is not None:
                await hold.wait()
            return code

    release = asyncio.Event()
    first = asyncio.create_task(claim(a, release))
    await asyncio.sleep(0.3)
    second = asyncio.create_task(claim(b, None))
    await asyncio.sleep(0.3)
    assert not second.done()  # waiting on the first transaction's row
    release.set()
    assert (await first, await second) == ("Warga-SAME", f"Warga-{b}-1")
