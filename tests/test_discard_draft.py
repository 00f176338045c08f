"""Discarding a proposal draft: the way out of the cap of open drafts per person and round.

The rule (`policy.require_can_discard`) for every status and every kind of person, the domain
operation, and whole conversations over the emulator: what each person saw and what the
database holds.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot import proposals, review
from bot.errors import Locked, NotAllowed, NotFound
from handlers.callbacks import DraftCb
from storage import queries
from storage import roles as roles_store
from storage.models import AuditEntry, BudgetLine, Proposal, RoleGrant
from storage.statuses import OPEN_DRAFT, ProposalStatus
from storage.views import Role
from tests.review_helpers import grant
from tests.seed import BLUMAH, kendal, round_
from tests.test_limits import person_with

NOT_DRAFTS = [s for s in ProposalStatus if s not in OPEN_DRAFT]


async def committee(sessions, clock):
    """Ani and Budi on Blumah's committee, Sari in the district's POKJA."""
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock())
    async with sessions() as session, session.begin():
        ani = await person_with(session, district, Role.PAKEM, BLUMAH, round_view.id, tg=1)
        budi = await person_with(session, district, Role.PAKEM, BLUMAH, round_view.id, tg=2)
        sari = await person_with(session, district, Role.POKJA, tg=3)
    return round_view, ani, budi, sari


async def discards(session) -> list[AuditEntry]:
    rows = await session.execute(select(AuditEntry).where(AuditEntry.action == "proposal.discard"))
    return list(rows.scalars())


async def test_the_author_discards_a_draft_and_gets_its_place_back(sessions, clock) -> None:
    round_view, ani, _budi, sari = await committee(sessions, clock)
    async with sessions() as session, session.begin():
        drafts = [
            await proposals.start_draft(session, ani, round_view.id, clock())
            for _i in range(proposals.MAX_OPEN_DRAFTS)
        ]
        with pytest.raises(Locked) as refused:
            await proposals.start_draft(session, ani, round_view.id, clock())
        assert refused.value.code == "too_many_drafts"
        target = drafts[2].id
        # Asking first changes nothing.
        await proposals.check_discard(session, ani, target)
        assert (await session.get(Proposal, target)).status == ProposalStatus.DRAFT
        view = await proposals.discard(session, ani, target, clock())
        assert view.status == ProposalStatus.DISCARDED
        assert (await session.get(Proposal, target)).status == ProposalStatus.DISCARDED
        [entry] = await discards(session)
        assert (entry.actor_id, entry.subject) == (ani.id, f"proposal:{target}")
        assert await roles_store.open_drafts(session, ani.id, round_view.id) == 4
        await proposals.start_draft(session, ani, round_view.id, clock())
        # Gone for everyone: the author, the committee and the POKJA.
        for attempt in (
            proposals.load_view(session, ani, target),
            proposals.resume(session, ani, target, clock()),
            proposals.discard(session, ani, target, clock()),
        ):
            with pytest.raises(Locked) as gone:
                await attempt
            assert gone.value.code == "discarded"
        with pytest.raises(NotFound):
            await review.load(session, sari, target, "review.open", clock())
        assert len(await discards(session)) == 1


async def test_only_the_author_on_the_committee_may_discard(sessions, clock) -> None:
    round_view, ani, budi, sari = await committee(sessions, clock)
    async with sessions() as session, session.begin():
        draft = await proposals.start_draft(session, ani, round_view.id, clock())
        for other in (budi, sari):
            assert not proposals.offers_discard(other, draft)
            for attempt in (
                proposals.check_discard(session, other, draft.id),
                proposals.discard(session, other, draft.id, clock()),
            ):
                with pytest.raises(NotAllowed) as refused:
                    await attempt
                assert refused.value.code == "not_yours"
        # Removed from the committee, the author no longer decides over its drafts.
        await session.execute(
            update(RoleGrant).where(RoleGrant.person_id == ani.id).values(revoked_at=clock())
        )
        removed = await queries.person_view_by_id(session, ani.id)
        with pytest.raises(NotAllowed) as refused:
            await proposals.discard(session, removed, draft.id, clock())
        assert refused.value.code == "not_pakem"
        assert (await session.get(Proposal, draft.id)).status == ProposalStatus.DRAFT
        assert await discards(session) == []


@pytest.mark.parametrize("status", NOT_DRAFTS, ids=[s.value for s in NOT_DRAFTS])
async def test_only_an_open_draft_can_be_discarded(sessions, clock, status) -> None:
    round_view, ani, _budi, _sari = await committee(sessions, clock)
    async with sessions() as session, session.begin():
        draft = await proposals.start_draft(session, ani, round_view.id, clock())
        assert proposals.offers_discard(ani, draft)
        row = await session.get(Proposal, draft.id)
        row.status = status.value
        await session.flush()
        view = await queries.proposal_view(session, row)
        assert not proposals.offers_discard(ani, view)
        for attempt in (
            proposals.check_discard(session, ani, draft.id),
            proposals.discard(session, ani, draft.id, clock()),
        ):
            with pytest.raises(Locked) as refused:
                await attempt
            if status == ProposalStatus.DISCARDED:
                assert refused.value.code == "discarded"
            else:
                assert (refused.value.code, refused.value.params) == (
                    "not_a_draft",
                    {"status": status},
                )
        assert (await session.get(Proposal, draft.id)).status == status
        assert await discards(session) == []
        # The write itself takes only an open draft, whatever was checked before it.
        assert not await queries.discard_draft(session, draft.id, clock())


async def test_a_submission_that_got_there_first_wins(sessions, clock) -> None:
    """The check passed on the row as loaded; the write finds it submitted meanwhile."""
    round_view, ani, _budi, _sari = await committee(sessions, clock)
    async with sessions() as session, session.begin():
        draft = await proposals.start_draft(session, ani, round_view.id, clock())
        assert (await session.get(Proposal, draft.id)).status == "draft"  # loaded as a draft
        await session.execute(
            update(Proposal)
            .where(Proposal.id == draft.id)
            .values(status="submitted")
            .execution_options(synchronize_session=False)
        )
        with pytest.raises(Locked) as refused:
            await proposals.discard(session, ani, draft.id, clock())
        assert refused.value.code == "not_a_draft"
        assert (await session.get(Proposal, draft.id)).status == "submitted"
        assert await discards(session) == []


async def test_a_draft_locked_by_the_deadline_can_still_be_discarded(sessions, clock) -> None:
    round_view, ani, _budi, _sari = await committee(sessions, clock)
    async with sessions() as session, session.begin():
        draft = await proposals.start_draft(session, ani, round_view.id, clock())
    clock.advance(days=31)
    async with sessions() as session, session.begin():
        await proposals.discard(session, ani, draft.id, clock())
        assert (await session.get(Proposal, draft.id)).status == ProposalStatus.DISCARDED


# -- over the emulator -------------------------------------------------------------------------


def message_with(p, fragment: str):
    return next(m for m in reversed(p.chat) if fragment in m.text)


async def proposals_by_status(sessions) -> dict[str, list[str | None]]:
    async with sessions() as session:
        rows = (await session.execute(select(Proposal).order_by(Proposal.id))).scalars().all()
    found: dict[str, list[str | None]] = {}
    for row in rows:
        found.setdefault(row.status, []).append(row.title)
    return found


async def test_five_drafts_one_discarded_through_the_buttons_then_new_works(
    bot, person, sessions, clock, emulator
) -> None:
    district = await kendal(sessions, clock())
    await round_(sessions, district, clock())
    await bot()
    ani = person("Ani Blumah")
    budi = person("Budi Blumah")
    await grant(ani, sessions, district, Role.PAKEM, clock(), BLUMAH)
    await grant(budi, sessions, district, Role.PAKEM, clock(), BLUMAH)
    for i in range(1, 6):
        await ani.send("/baru")
        await ani.send(f"Jalan dusun nomor {i}")
    await ani.send("/baru")
    assert ani.saw("Anda sudah punya 5 draf yang belum selesai")
    assert "/usulan" in ani.reply_text and "🗑 Buang draf" in ani.reply_text

    # Open the third from /usulan: it names itself and offers the discard button.
    await ani.send("/usulan")
    await ani.press("✏️ Lanjutkan: Jalan dusun nomor 3")
    assert ani.saw("✏️ Draf “Jalan dusun nomor 3”")
    await ani.press("🗑 Buang draf")
    assert ani.saw("🗑 Buang draf “Jalan dusun nomor 3”?")
    assert ani.saw("Yakin? Draf ini tidak bisa dikembalikan.")
    assert (await proposals_by_status(sessions)).keys() == {"draft"}  # nothing yet
    await ani.press("Ya")
    assert ani.saw("Draf “Jalan dusun nomor 3” sudah dibuang.")
    assert "Ya" not in ani.button_labels()  # the confirmation's buttons are gone
    by_status = await proposals_by_status(sessions)
    assert by_status["discarded"] == ["Jalan dusun nomor 3"]
    assert len(by_status["draft"]) == 4
    async with sessions() as session:
        [entry] = await discards(session)
        [row] = (
            await session.execute(select(Proposal).where(Proposal.status == "discarded"))
        ).scalars()
    assert entry.subject == f"proposal:{row.id}"
    pid = row.id

    # The conversation no longer points at it: text is not taken as an answer to that draft.
    await ani.send("Gang sempit")
    assert ani.saw("Saya tidak mengerti")
    async with sessions() as session:
        assert (await session.get(Proposal, pid)).location_name is None

    await ani.send("/usulan")
    assert "Jalan dusun nomor 3" not in ani.reply_text
    assert "Jalan dusun nomor 4" in ani.reply_text
    await ani.send("/baru")
    assert ani.saw("Draf baru dimulai.")

    # The old discard button, and a forged confirmation, answer in words and change nothing.
    offer = message_with(ani, "✏️ Draf “Jalan dusun nomor 3”")
    before = await proposals_by_status(sessions)
    for action in ("t", "y"):
        await ani.press_data(offer, DraftCb(action=action, id=pid).pack())
        assert ani.saw("Draf ini sudah dibuang dan tidak bisa dibuka lagi.")
    assert await proposals_by_status(sessions) == before
    async with sessions() as session:
        assert len(await discards(session)) == 1

    # A colleague on the same committee cannot throw away Ani's draft, not even with a forged
    # button, nor be asked to confirm it.
    async with sessions() as session:
        other = (
            await session.execute(select(Proposal).where(Proposal.title == "Jalan dusun nomor 4"))
        ).scalar_one()
    await budi.send("/usulan")
    assert "Jalan dusun nomor 4" in budi.reply_text  # the committee sees its drafts
    assert "🗑 Buang draf" not in budi.button_labels()
    for action in ("t", "y"):
        await budi.press_data(budi.last, DraftCb(action=action, id=other.id).pack())
        assert budi.saw("Anda tidak bisa melakukan itu pada usulan ini.")
        assert not budi.saw("Yakin?")
    assert await proposals_by_status(sessions) == before
    assert not emulator.refusals


async def draft_at_review(sessions, author_tg: int, round_id: int, district_id: int, **values):
    async with sessions() as session, session.begin():
        author = await queries.person_by_telegram_id(session, author_tg)
        row = Proposal(
            round_id=round_id,
            district_id=district_id,
            village_kode=BLUMAH,
            author_id=author.id,
            step="review",
            return_to_review=True,
            activity="road",
            location_name="Dusun Krajan",
            problem="Jalan tanah becek saat hujan",
            households=120,
            poor_households=45,
            **values,
        )
        session.add(row)
        await session.flush()
        session.add(
            BudgetLine(
                proposal_id=row.id,
                position=1,
                item="Semen",
                volume_milli=50_000,
                unit="sak",
                unit_price=65_000,
                source="apbd",
                complete=True,
            )
        )
    return row.id


async def test_the_review_step_offers_discard_and_cancel_keeps_the_draft(
    bot, person, sessions, clock, emulator
) -> None:
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock())
    await bot()
    john = person("John", "en")
    await grant(john, sessions, district, Role.PAKEM, clock(), BLUMAH)
    now = clock()
    pid = await draft_at_review(
        sessions, john.id, round_view.id, district.id, title="Paving the lane"
    )
    # A proposal sent back for revision is no draft: its review has no discard button.
    revision = await draft_at_review(
        sessions,
        john.id,
        round_view.id,
        district.id,
        title="Clean water",
        status="revision",
        number="KDL-2026-001",
        submitted_at=now,
        revision_deadline=now + timedelta(days=7),
        version=2,
    )
    await john.send("/drafts")
    await john.press("✏️ Continue: KDL-2026-001")
    assert "🗑 Discard draft" not in [b["text"] for b in john.last.buttons()]
    await john.press_data(john.last, DraftCb(action="y", id=revision).pack())
    assert john.saw("Only a draft that was never submitted can be discarded.")
    assert john.saw("revision requested")

    await john.send("/drafts")
    await john.press("✏️ Continue: Paving the lane")
    assert john.saw("Paving the lane")
    assert not john.saw("If you no longer need it")  # the review's keyboard carries it
    assert "🗑 Discard draft" in [b["text"] for b in john.last.buttons()]
    await john.press("🗑 Discard draft")
    assert john.saw("Are you sure? This draft cannot be brought back.")
    await john.press("Cancel")
    assert john.saw("The draft is kept.")
    assert "📨 Submit" in [b["text"] for b in john.last.buttons()]  # still writing it
    async with sessions() as session:
        assert (await session.get(Proposal, pid)).status == "draft"
        assert await discards(session) == []

    await john.press("🗑 Discard draft")
    await john.press("Yes")
    assert john.saw("The draft “Paving the lane” is discarded.")
    # The review's old Submit button now answers that the draft is gone.
    await john.press("📨 Submit")
    assert john.saw("This draft was discarded and can no longer be opened.")
    async with sessions() as session:
        row = await session.get(Proposal, pid)
        assert (row.status, row.number, row.submitted_at) == ("discarded", None, None)
        assert (await session.get(Proposal, revision)).status == "revision"
        assert len(await discards(session)) == 1
    assert not emulator.refusals


async def test_a_draft_past_the_deadline_is_read_and_can_still_be_discarded(
    bot, person, sessions, clock, emulator
) -> None:
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock())
    await bot()
    john = person("John", "en")
    await grant(john, sessions, district, Role.PAKEM, clock(), BLUMAH)
    pid = await draft_at_review(
        sessions, john.id, round_view.id, district.id, title="Paving the lane"
    )
    clock.advance(days=31)
    await john.send("/drafts")
    assert john.saw("draft, locked after the deadline")
    await john.press("👁 Read: Paving the lane")
    assert john.saw("✏️ Draft “Paving the lane”. If you no longer need it, you can discard it.")
    await john.press("🗑 Discard draft")
    await john.press("Yes")
    assert john.saw("The draft “Paving the lane” is discarded.")
    await john.send("/drafts")
    assert john.saw("You have no drafts or proposals yet.")
    async with sessions() as session:
        assert (await session.get(Proposal, pid)).status == "discarded"
    assert not emulator.refusals
