"""The factories build what they say: every round phase, proposal and objection status, and
announcements drafted or sent, each as the domain reads it back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import queries
from storage.review import FILED, ObjectionStatus
from storage.statuses import BroadcastStatus, ProposalStatus
from storage.views import Role
from tests import factories as f
from tests.seed import kendal


@pytest.mark.parametrize("phase", list(f.Phase))
async def test_a_round_in_every_phase(sessions, clock, phase):
    now = clock()
    district = await kendal(sessions, now)
    async with sessions() as session, session.begin():
        round_ = await f.round_in(session, district, phase, now)
    open_for_proposals = round_.submission_deadline > now
    assert open_for_proposals == (phase == f.Phase.OPEN)
    window_open = round_.clarify_end is not None and round_.clarify_end > now
    assert window_open == (phase == f.Phase.CLARIFICATION_OPEN)
    assert (round_.winners_published_at is not None) == (phase == f.Phase.FINAL)


@pytest.mark.parametrize("status", list(ProposalStatus))
async def test_a_proposal_in_every_status(sessions, clock, status):
    now = clock()
    district = await kendal(sessions, now)
    async with sessions() as session, session.begin():
        round_ = await f.round_in(session, district, f.Phase.REVIEW, now)
        author = await f.person(session, "Ani", role=Role.PAKEM, district=district)
        row = await f.proposal(session, round_, author.id or 0, status, now, number="KDL-2026-001")
        view = await queries.proposal_view(session, row)
    assert view.status == status
    assert (view.number is not None) == (status in f.SUBMITTED_ONES)


@pytest.mark.parametrize("status", list(ObjectionStatus))
async def test_an_objection_in_every_status(sessions, clock, status):
    now = clock()
    district = await kendal(sessions, now)
    async with sessions() as session, session.begin():
        round_ = await f.round_in(session, district, f.Phase.CLARIFICATION_OPEN, now)
        author = await f.person(session, "Ani", role=Role.PAKEM, district=district)
        candidate = await f.proposal(
            session, round_, author.id or 0, ProposalStatus.CANDIDATE, now, number="KDL-2026-001"
        )
        objector = await f.person(session, "Warga")
        row = f.objection(round_, candidate.id or 0, objector.id or 0, status, now, 1)
        session.add(row)
        await session.flush()
    assert (row.number is not None) == (status in FILED)


@pytest.mark.parametrize("sent", [False, True])
async def test_an_announcement_drafted_or_sent(sessions, clock, sent):
    now = clock()
    district = await kendal(sessions, now)
    async with sessions() as session, session.begin():
        pokja = await f.person(session, "Bu POKJA", role=Role.POKJA, district=district)
        author = await f.view(session, pokja)
        made = await f.announcement(
            session, author, district, now + timedelta(minutes=1), sent=sent
        )
    assert (made.status == BroadcastStatus.DRAFT) == (not sent)
