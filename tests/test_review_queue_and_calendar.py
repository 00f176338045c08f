"""The review queue's pages and filters, and a moved deadline moving its reminders, through the
domain functions the handlers call."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import reminders, review, rounds, winners
from bot.errors import Invalid, Locked
from storage import queries
from storage.models import Broadcast, Outbox, Person, Proposal, RoleGrant, Round
from storage.statuses import ProposalStatus
from storage.views import Role
from tests import factories
from tests.seed import BLUMAH, PLANTUNGAN, kendal, round_

WIB = ZoneInfo("Asia/Jakarta")


async def people(sessions, district_id: int, round_id: int):
    async with sessions() as session, session.begin():
        pokja = Person(telegram_id=5001, full_name="POKJA")
        pakem = Person(telegram_id=5002, full_name="PAKEM Blumah")
        session.add_all([pokja, pakem])
        await session.flush()
        session.add(RoleGrant(person_id=pokja.id, role=Role.POKJA.value, district_id=district_id))
        session.add(
            RoleGrant(
                person_id=pakem.id,
                role=Role.PAKEM.value,
                district_id=district_id,
                village_kode=BLUMAH,
                round_id=round_id,
            )
        )
        await session.flush()
        return (
            await queries.person_view(session, pokja),
            await queries.person_view(session, pakem),
        )


async def test_queue_pages_and_filters(sessions, clock):
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock(), days=10)
    pokja, pakem = await people(sessions, district.id, round_view.id)
    async with sessions() as session, session.begin():
        for n in range(11):
            await factories.proposal(
                session,
                round_view,
                pakem.id,
                ProposalStatus("candidate" if n == 3 else ("draft" if n == 10 else "submitted")),
                clock(),
                village=BLUMAH if n % 2 else PLANTUNGAN,
                activity="water" if n < 4 else "road",
                number=f"KDL-2026-{n + 1:03d}",
                title=f"Usulan {n}",
                step="title",
                lines=0,
            )
    async with sessions() as session:
        everything = review.QueueFilter()
        first = await review.queue(session, pokja, round_view.id, everything, 0, clock())
        assert (first.total, first.pages, len(first.items)) == (10, 2, 8)  # drafts never show
        second = await review.queue(session, pokja, round_view.id, everything, 1, clock())
        assert [i.number for i in second.items] == ["KDL-2026-009", "KDL-2026-010"]
        beyond = await review.queue(session, pokja, round_view.id, everything, 7, clock())
        assert beyond.page == 1  # a page past the end shows the last one
        water = await review.queue(
            session, pokja, round_view.id, review.QueueFilter(activity="water"), 0, clock()
        )
        assert water.total == 4
        blumah_candidates = await review.queue(
            session,
            pokja,
            round_view.id,
            review.QueueFilter(village=BLUMAH, status="candidate"),
            0,
            clock(),
        )
        assert [i.number for i in blumah_candidates.items] == ["KDL-2026-004"]
        assert {v for v, _ in first.villages} == {BLUMAH, PLANTUNGAN}


async def test_a_moved_deadline_moves_the_reminders_and_is_told(sessions, clock):
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock(), days=10)
    pokja, pakem = await people(sessions, district.id, round_view.id)
    async with sessions() as session, session.begin():
        assert await reminders.tick(session, clock()) == 0  # ten days out
    new_deadline = datetime(2026, 11, 8, 23, 59, tzinfo=WIB)
    async with sessions() as session, session.begin():
        moved = await rounds.set_date(
            session, pokja, round_view.id, "submission_deadline", new_deadline, clock()
        )
    assert moved.submission_deadline == new_deadline
    async with sessions() as session, session.begin():
        assert await reminders.tick(session, clock()) == 1  # now within seven days
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Broadcast.kind, Broadcast.template, Outbox.person_id, Outbox.payload)
                .join(Outbox, Outbox.broadcast_id == Broadcast.id)
                .where(Outbox.person_id == pakem.id)
                .order_by(Outbox.id)
            )
        ).all()
    kinds = [(kind, template) for kind, template, _, _ in rows]
    assert ("event", "calendar_changed") in kinds  # the committee is told of the change
    [payload] = [p for kind, _, _, p in rows if kind == "reminder"]
    [item] = json.loads(payload)["items"]
    assert datetime.fromisoformat(item["deadline"]) == new_deadline


async def test_candidates_wait_for_the_review_to_end_and_every_decision(sessions, clock):
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock(), days=1)
    pokja, pakem = await people(sessions, district.id, round_view.id)
    async with sessions() as session, session.begin():
        stored = await session.get(Round, round_view.id)
        assert stored is not None
        stored.review_end = clock() + timedelta(days=3)
        stored.clarify_end = clock() + timedelta(days=10)
        for n, status in enumerate(("candidate", "revision", "submitted", "rejected")):
            await factories.proposal(
                session,
                round_view,
                pakem.id,
                ProposalStatus(status),
                number=f"KDL-2026-{n + 1:03d}",
                activity=None,
                step="title",
                lines=0,
            )
    async with sessions() as session:
        with pytest.raises(Locked) as early:
            await winners.candidates_draft(session, pokja, round_view.id, clock())
        assert early.value.code == "review_not_over"
        with pytest.raises(Invalid) as open_ones:
            await winners.candidates_draft(
                session, pokja, round_view.id, clock() + timedelta(days=4)
            )
        assert open_ones.value.params["numbers"] == "KDL-2026-002, KDL-2026-003"


async def test_a_revision_deadline_is_reminded_to_its_committee(sessions, clock):
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock(), days=1)
    _pokja, pakem = await people(sessions, district.id, round_view.id)
    clock.advance(days=2)  # the submission deadline is behind us: no submission reminders
    deadline = clock() + timedelta(days=3)
    async with sessions() as session, session.begin():
        session.add(
            Proposal(
                round_id=round_view.id,
                district_id=round_view.district_id,
                village_kode=BLUMAH,
                author_id=pakem.id,
                status="revision",
                number="KDL-2026-001",
                title="Jalan",
                revision_deadline=deadline,
            )
        )
    async with sessions() as session, session.begin():
        assert await reminders.tick(session, clock()) == 0  # three days ahead
    clock.now = deadline - timedelta(hours=20)  # 1 day before, 14:00 WIB, not quiet
    async with sessions() as session, session.begin():
        assert await reminders.tick(session, clock()) == 1
    async with sessions() as session, session.begin():
        assert await reminders.tick(session, clock()) == 0  # once
    async with sessions() as session:
        [payload] = (
            await session.execute(
                select(Outbox.payload)
                .join(Broadcast, Broadcast.id == Outbox.broadcast_id)
                .where(Broadcast.kind == "reminder", Outbox.person_id == pakem.id)
            )
        ).scalars()
    [item] = json.loads(payload)["items"]
    assert (item["kind"], item["number"], item["village"]) == ("revision", "KDL-2026-001", "Blumah")
    assert datetime.fromisoformat(item["deadline"]) == deadline
