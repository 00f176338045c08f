"""Every proposal list and count, with a proposal in every status: a discarded draft is counted
nowhere, an open draft only where drafts belong, and a submitted one only where proposals past
the draft stage belong.

The class of test the objection lists lacked (issue 9, item 2): a query was tested only with the
statuses its author had in mind, and `status != "draft"` took in statuses added later.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot import exports, proposals, reminders, review, rounds
from bot.home import home
from storage import delivery, queries
from storage import review as store
from storage import roles as roles_store
from storage.models import BudgetLine, Person, Proposal, RoleGrant
from storage.statuses import LIVE, OPEN_DRAFT, PAST_DRAFT, ProposalStatus
from storage.views import PersonView, Role, RoundView
from tests.review_helpers import KEDITEN
from tests.seed import BLUMAH, kendal, round_

EVERY = list(ProposalStatus)


def test_every_status_is_in_exactly_one_group() -> None:
    groups = [set(OPEN_DRAFT), set(PAST_DRAFT), {ProposalStatus.DISCARDED}]
    for status in ProposalStatus:
        assert sum(status in g for g in groups) == 1, status
    assert set(LIVE) == set(ProposalStatus) - {ProposalStatus.DISCARDED}
    # The review queue's status filter offers exactly the statuses past the draft stage.
    assert set(review.QUEUE_STATUSES) == set(PAST_DRAFT)


@dataclass(frozen=True)
class World:
    round: RoundView
    ani: PersonView  # PAKEM of Blumah, the author
    sari: PersonView  # POKJA of the district
    proposal_id: int


async def _person(session, tg: int, name: str, grant: RoleGrant | None) -> PersonView:
    row = Person(telegram_id=tg, full_name=name)
    session.add(row)
    await session.flush()
    if grant is not None:
        grant.person_id = row.id or 0
        session.add(grant)
        await session.flush()
    return await queries.person_view(session, row)


async def world(sessions, clock, status: ProposalStatus) -> World:
    """One complete proposal of Blumah in `status`; Kediten takes part with no proposal."""
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock())
    now = clock()
    async with sessions() as session, session.begin():
        ani = await _person(
            session,
            1,
            "Ani",
            RoleGrant(
                person_id=0,
                role=Role.PAKEM.value,
                district_id=district.id,
                village_kode=BLUMAH,
                round_id=round_view.id,
            ),
        )
        await _person(
            session,
            2,
            "Dedi",
            RoleGrant(
                person_id=0,
                role=Role.PAKEM.value,
                district_id=district.id,
                village_kode=KEDITEN,
                round_id=round_view.id,
            ),
        )
        sari = await _person(
            session,
            3,
            "Sari",
            RoleGrant(person_id=0, role=Role.POKJA.value, district_id=district.id),
        )
        submitted = status in PAST_DRAFT
        row = Proposal(
            round_id=round_view.id,
            district_id=district.id,
            village_kode=BLUMAH,
            author_id=ani.id,
            status=status.value,
            step="review",
            number="KDL-2026-001" if submitted else None,
            title="Betonisasi jalan RT 03",
            activity="road",
            location_name="Dusun Krajan",
            problem="Jalan tanah becek saat hujan",
            households=120,
            poor_households=45,
            submitted_at=now if submitted else None,
            created_at=now,
            updated_at=now,
            version=1 if submitted else 0,
        )
        session.add(row)
        await session.flush()
        session.add(
            BudgetLine(
                proposal_id=row.id or 0,
                position=1,
                item="Semen",
                volume_milli=50_000,
                unit="sak",
                unit_price=65_000,
                source="apbd",
                complete=True,
            )
        )
    return World(round_view, ani, sari, row.id or 0)


def _where(status: ProposalStatus) -> tuple[bool, bool]:
    """(counted as an open draft, counted as past the draft stage)."""
    return status in OPEN_DRAFT, status in PAST_DRAFT


@pytest.mark.parametrize("status", EVERY, ids=[s.value for s in EVERY])
async def test_pokja_lists_and_counts_hold_only_proposals_past_the_draft(
    sessions, clock, status: ProposalStatus
) -> None:
    w = await world(sessions, clock, status)
    _draft, past = _where(status)
    async with sessions() as session, session.begin():
        items, total = await store.review_queue(
            session, w.round.id, village=None, status=None, activity=None, offset=0, limit=50
        )
        assert ([i.id for i in items], total) == (([w.proposal_id], 1) if past else ([], 0))
        # A forged filter on the proposal's own status finds it only past the draft stage.
        items, total = await store.review_queue(
            session, w.round.id, village=BLUMAH, status=status, activity=None, offset=0, limit=50
        )
        assert total == int(past) and len(items) == int(past)
        assert [p.id for p in await store.round_proposals(session, w.round.id)] == (
            [w.proposal_id] if past else []
        )
        assert [p.id for p in await store.round_proposals(session, w.round.id, [status])] == (
            [w.proposal_id] if past else []
        )
        villages = [k for k, _ in await store.villages_with_proposals(session, w.round.id)]
        assert villages == ([BLUMAH] if past else [])
        candidates = [k for k, _ in await store.candidate_villages(session, w.round.id)]
        assert candidates == ([BLUMAH] if status == ProposalStatus.CANDIDATE else [])
        assert await queries.count_submitted(session, w.round.id) == int(past)
        # The POKJA's tools built on them: the queue page, the desk's villages, the exports.
        page = await review.queue(session, w.sari, w.round.id, review.QueueFilter(), 0, clock())
        assert [i.id for i in page.items] == ([w.proposal_id] if past else [])
        assert [k for k, _ in page.villages] == ([BLUMAH] if past else [])
        bundle = await exports.collect(session, w.sari, w.round.id, clock())
        assert [r.number for r in bundle.rows] == (["KDL-2026-001"] if past else [])


@pytest.mark.parametrize("status", EVERY, ids=[s.value for s in EVERY])
async def test_village_counts_put_each_status_in_its_place(
    sessions, clock, status: ProposalStatus
) -> None:
    w = await world(sessions, clock, status)
    draft, past = _where(status)
    async with sessions() as session, session.begin():
        drafts, submitted = await store.proposal_counts(session, w.round.id)
        assert (drafts.get(BLUMAH, 0), submitted.get(BLUMAH, 0)) == (int(draft), int(past))
        by_village = {
            v.kode: v for v in await rounds.village_status(session, w.sari, w.round.id, clock())
        }
        assert (by_village[BLUMAH].drafts, by_village[BLUMAH].submitted) == (
            int(draft),
            int(past),
        )
        progress = {
            m.village_kode: m for m in await delivery.committee_progress(session, w.round.id)
        }
        assert (progress[BLUMAH].drafts, progress[BLUMAH].submitted) == (int(draft), int(past))
        assert (progress[KEDITEN].drafts, progress[KEDITEN].submitted) == (0, 0)


@pytest.mark.parametrize("status", EVERY, ids=[s.value for s in EVERY])
async def test_reminders_go_to_villages_without_a_submission_or_with_open_drafts(
    sessions, clock, status: ProposalStatus
) -> None:
    """A village whose only proposal is a discarded draft has submitted nothing and holds no
    draft: it is reminded, and the reminder says it has no drafts."""
    w = await world(sessions, clock, status)
    draft, past = _where(status)
    async with sessions() as session, session.begin():
        recipients = await reminders._committees_to_remind(session, w.round)
    by_village = {r.village_kode: drafts for r, drafts in recipients}
    assert by_village[KEDITEN] == 0
    if past:
        assert BLUMAH not in by_village
    else:
        assert by_village[BLUMAH] == int(draft)


@pytest.mark.parametrize("status", EVERY, ids=[s.value for s in EVERY])
async def test_a_committees_own_lists_hold_every_proposal_but_a_discarded_draft(
    sessions, clock, status: ProposalStatus
) -> None:
    w = await world(sessions, clock, status)
    draft, past = _where(status)
    live = status in LIVE
    async with sessions() as session, session.begin():
        expected = [w.proposal_id] if live else []
        assert [p.id for p in await queries.proposals_of_author(session, w.ani.id)] == expected
        pairs = [(w.round.id, BLUMAH)]
        assert [p.id for p in await queries.proposals_of_villages(session, pairs)] == expected
        assert [v.id for v in await proposals.my_proposals(session, w.ani)] == expected
        assert await roles_store.open_drafts(session, w.ani.id, w.round.id) == int(draft)
        facts = await home(session, w.ani, clock())
        (committee,) = facts.committees
        assert (committee.drafts, committee.submitted) == (int(draft), int(past))
        assert facts.has_proposals is live
        staff = await home(session, w.sari, clock())
        assert staff.desks[0].rounds == [(w.round, int(past))]
