"""Every objection list and count shows filed objections (filed, upheld, dismissed) and nothing
else: a draft, a discarded (withdrawn) draft or an expired draft is nobody's objection.

The class of tests: each list/count query, with a row in each status, alone and all together."""

from __future__ import annotations

import pytest

from bot import exports, objections, review, winners
from storage import review as store
from storage.review import FILED, ObjectionStatus
from tests.objection_world import add_person, objection_row, view_of, world

EVERY_STATUS = list(ObjectionStatus)


def test_the_filed_statuses_are_named_once():
    assert set(FILED) == {"filed", "upheld", "dismissed"}
    assert {s.value for s in ObjectionStatus} - set(FILED) == {"draft", "withdrawn", "expired"}


async def _counts(session, w, person_id: int, now) -> dict[str, int]:
    """What each list and count query reports about the objections of the world's candidate."""
    pokja = await view_of(session, w.pokja_id)
    objector = await view_of(session, person_id)
    queue, _ = await store.review_queue(
        session, w.round.id, village=None, status=None, activity=None, offset=0, limit=10
    )
    summary = await winners.summary(session, w.round)
    bundle = await exports.collect(session, pokja, w.round.id, now)
    proposal = await review.dossier(session, pokja, w.proposal_id, now)
    return {
        "count_filed": await store.count_filed(session, w.round.id, person_id),
        "of_person": len(await store.objections_of_person(session, person_id)),
        "of_proposal": len(await store.objections_of_proposal(session, w.proposal_id)),
        "of_round": len(await store.objections_of_round(session, w.round.id)),
        "of_district": len(await store.objections_of_district(session, w.district.id, False)),
        "of_district_open": len(await store.objections_of_district(session, w.district.id, True)),
        "queue_open": queue[0].open_objections,
        "own (/status)": len(await objections.own(session, objector)),
        "district_list (/keberatan)": len(
            await objections.district_list(session, pokja, w.district.id, False)
        ),
        "summary": summary.objections,
        "summary_answered": summary.upheld + summary.dismissed,
        "summary_open": summary.open,
        "export_row": bundle.rows[0].objections,
        "export_total": bundle.objections,
        "dossier": len(proposal.objections),
        "dossier_open": len(proposal.open_objections),
    }


def _expected(statuses: list[ObjectionStatus]) -> dict[str, int]:
    filed = sum(1 for s in statuses if s in FILED)
    open_ = statuses.count(ObjectionStatus.FILED)
    answered = filed - open_
    return {
        "count_filed": filed,
        "of_person": filed,
        "of_proposal": filed,
        "of_round": filed,
        "of_district": filed,
        "of_district_open": open_,
        "queue_open": open_,
        "own (/status)": filed,
        "district_list (/keberatan)": filed,
        "summary": filed,
        "summary_answered": answered,
        "summary_open": open_,
        "export_row": filed,
        "export_total": filed,
        "dossier": filed,
        "dossier_open": open_,
    }


@pytest.mark.parametrize("status", EVERY_STATUS, ids=[s.value for s in EVERY_STATUS])
async def test_each_query_counts_a_row_only_when_filed(sessions, clock, status):
    now = clock()
    w = await world(sessions, now)
    async with sessions() as session, session.begin():
        eko = await add_person(session, "Eko Warga")
        session.add(objection_row(w, eko.id or 0, status, now, 1))
    async with sessions() as session, session.begin():
        assert await _counts(session, w, eko.id or 0, now) == _expected([status])


async def test_rows_in_every_status_together(sessions, clock):
    """Two of each, from one person: six filed ones count, six drafts of all kinds do not."""
    now = clock()
    w = await world(sessions, now)
    statuses = EVERY_STATUS * 2
    async with sessions() as session, session.begin():
        eko = await add_person(session, "Eko Warga")
        for n, status in enumerate(statuses, start=1):
            session.add(objection_row(w, eko.id or 0, status, now, n))
    async with sessions() as session, session.begin():
        counts = await _counts(session, w, eko.id or 0, now)
    assert counts == _expected(statuses)
    assert counts["count_filed"] == 6 and counts["dossier_open"] == 2


@pytest.mark.parametrize(
    "status", [ObjectionStatus.WITHDRAWN, ObjectionStatus.EXPIRED], ids=["withdrawn", "expired"]
)
async def test_drafts_that_ended_do_not_use_up_the_limit(sessions, clock, status):
    """Five discarded drafts, then the person may still start (and file) an objection."""
    now = clock()
    w = await world(sessions, now)
    async with sessions() as session, session.begin():
        eko = await add_person(session, "Eko Warga")
        for n in range(objections.MAX_PER_WINDOW):
            session.add(objection_row(w, eko.id or 0, status, now, n + 1))
    async with sessions() as session, session.begin():
        person = await view_of(session, eko.id or 0)
        draft = await objections.start(session, person, now, proposal_id=w.proposal_id)
        await objections.choose_category(session, person, draft.id, "other", now)
        await objections.set_text(session, person, draft.id, "Papan nama tidak ada.", now)
        await objections.evidence_done(session, person, draft.id, now)
        await objections.choose_identity(session, person, draft.id, False, now)
        filed = await objections.file(session, person, draft.id, now)
    assert filed.filed_this_window == 1
