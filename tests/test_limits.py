"""What one person can pile up is bounded: open drafts per person and round, open invites per
issuer, and `access.denied` rows per person and hour. Each bound says what to do next."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import people, proposals, review
from bot.errors import Locked
from handlers.callbacks import RevCb
from storage import queries
from storage import roles as roles_store
from storage.models import AuditEntry, Invite, Person, Proposal, RoleGrant
from storage.views import Role
from tests.review_helpers import KEDITEN, grant
from tests.seed import BLUMAH, kendal, round_
from tests.test_review_authorization import denied, seed_round

STATUSES = ("draft", "submitted", "revision", "rejected", "candidate", "winner")


async def person_with(session, district, role: Role, village=None, round_id=None, tg=7_000):
    row = Person(telegram_id=tg, full_name=f"Orang {tg}")
    session.add(row)
    await session.flush()
    session.add(
        RoleGrant(
            person_id=row.id,
            role=role.value,
            district_id=district.id,
            village_kode=village,
            round_id=round_id,
        )
    )
    await session.flush()
    return await queries.person_view(session, row)


async def test_open_drafts_counts_only_this_persons_drafts_of_this_round(sessions, clock):
    district = await kendal(sessions, clock())
    first = await round_(sessions, district, clock(), name="Tahap 1")
    second = await round_(sessions, district, clock(), name="Tahap 2")
    async with sessions() as session, session.begin():
        ani = await person_with(session, district, Role.PAKEM, BLUMAH, first.id, tg=1)
        other = await person_with(session, district, Role.PAKEM, BLUMAH, first.id, tg=2)
        for author, round_id in ((ani, first.id), (other, first.id), (ani, second.id)):
            for status in STATUSES:
                session.add(
                    Proposal(
                        round_id=round_id,
                        district_id=district.id,
                        village_kode=BLUMAH,
                        author_id=author.id,
                        status=status,
                        step="title",
                    )
                )
        await session.flush()
        assert await roles_store.open_drafts(session, ani.id, first.id) == 1
        assert await roles_store.open_drafts(session, other.id, first.id) == 1
        assert await roles_store.open_drafts(session, ani.id, second.id) == 1


async def test_drafts_per_person_and_round_are_capped(sessions, clock):
    district = await kendal(sessions, clock())
    first = await round_(sessions, district, clock(), name="Tahap 1")
    async with sessions() as session, session.begin():
        ani = await person_with(session, district, Role.PAKEM, BLUMAH, first.id, tg=1)
        budi = await person_with(session, district, Role.PAKEM, BLUMAH, first.id, tg=2)
        for _i in range(proposals.MAX_OPEN_DRAFTS):
            await proposals.start_draft(session, ani, first.id, clock())
        try:
            await proposals.start_draft(session, ani, first.id, clock())
        except Locked as exc:
            assert exc.code == "too_many_drafts" and exc.params == {"max": 5}
        else:
            raise AssertionError("a sixth draft was started")
        # A colleague of the same village still starts their own.
        await proposals.start_draft(session, budi, first.id, clock())
        # A submitted one frees a place.
        row = (
            (await session.execute(select(Proposal).where(Proposal.author_id == ani.id)))
            .scalars()
            .first()
        )
        row.status = "submitted"
        await session.flush()
        await proposals.start_draft(session, ani, first.id, clock())


async def test_a_sixth_new_is_refused_with_what_to_do(bot, person, sessions, clock, emulator):
    district = await kendal(sessions, clock())
    await round_(sessions, district, clock())
    await bot()
    ani = person("Ani Blumah")
    await grant(ani, sessions, district, Role.PAKEM, clock(), BLUMAH)
    for _i in range(31):
        await ani.send("/baru")
    assert ani.saw("Anda sudah punya 5 draf yang belum selesai")
    # What to do next, with the command of the reader's language and the button's own label.
    assert "/usulan" in ani.reply_text and "🗑 Buang draf" in ani.reply_text
    async with sessions() as session:
        rows = (await session.execute(select(Proposal))).scalars().all()
    assert len(rows) == 5 and {r.status for r in rows} == {"draft"}
    assert not emulator.refusals


async def test_open_invites_per_issuer_are_capped(sessions, clock):
    district = await kendal(sessions, clock())
    async with sessions() as session, session.begin():
        budi = await person_with(session, district, Role.POKJA, tg=1)
        sari = await person_with(session, district, Role.POKJA, tg=2)
        now = clock()
        for _i in range(people.MAX_OPEN_INVITES):
            await people.invite_by(session, budi, district.id, Role.POKJA, now)
        try:
            await people.invite_by(session, budi, district.id, Role.POKJA, now)
        except Locked as exc:
            assert exc.code == "too_many_invites" and exc.params == {"max": 20}
        else:
            raise AssertionError("a 21st open invite was made")
        await people.invite_by(session, sari, district.id, Role.POKJA, now)  # per issuer
        assert await roles_store.open_invites(session, budi.id, now) == 20
        # Used and expired invites are not open: rows in every state.
        invites = (
            (await session.execute(select(Invite).where(Invite.created_by == budi.id)))
            .scalars()
            .all()
        )
        invites[0].used_at, invites[0].used_by = now, sari.id
        invites[1].expires_at = now - timedelta(seconds=1)
        invites[2].expires_at = now  # expires at this very moment: no longer open
        await session.flush()
        assert await roles_store.open_invites(session, budi.id, now) == 17
        for _i in range(3):
            await people.invite_by(session, budi, district.id, Role.POKJA, now)
        assert await roles_store.open_invites(session, budi.id, now) == 20
        # A week later all have expired.
        assert await roles_store.open_invites(session, budi.id, now + timedelta(days=8)) == 0


async def test_the_21st_invite_in_the_bot_says_what_to_do(bot, person, sessions, clock, emulator):
    district = await kendal(sessions, clock())
    await bot()
    budi = person("Budi POKJA")
    await grant(budi, sessions, district, Role.POKJA, clock())
    for i in range(21):
        await budi.send("/undang")
        await budi.press("🏛 Anggota POKJA")
        if i < 20:
            assert budi.saw("🔗 Undangan"), budi.reply_text
    assert budi.saw("Anda punya 20 undangan yang belum dipakai")
    async with sessions() as session:
        count = len((await session.execute(select(Invite))).scalars().all())
    assert count == 21  # 20 of Budi's and the one that made him POKJA
    assert not emulator.refusals


async def test_refusals_logged_at_most_ten_per_person_and_hour(
    bot, person, sessions, clock, emulator
):
    district = await kendal(sessions, clock())
    _rid, ids, _oid = await seed_round(sessions, clock, district)
    await bot()
    mallory, eve = person("Mallory"), person("Eve")
    await grant(mallory, sessions, district, Role.PAKEM, clock(), KEDITEN)
    await eve.send("/start")
    forged = RevCb(action="o", id=ids["KDL-2026-001"]).pack()
    for _i in range(25):
        await mallory.press_data(mallory.last, forged)
        assert mallory.saw("Hanya anggota POKJA")  # every press is still refused in words
    rows = await denied(sessions)
    assert len(rows) == review.DENIED_PER_HOUR == 10
    assert ['"bound_reached": true' in r.detail for r in rows] == [False] * 9 + [True]
    # Another person's first refusal is recorded all the same.
    await eve.press_data(eve.last, forged)
    assert len(await denied(sessions)) == 11
    # An hour later, Mallory's next refusal is recorded again.
    clock.advance(minutes=61)
    await mallory.press_data(mallory.last, forged)
    rows = await denied(sessions)
    assert len(rows) == 12 and rows[-1].at == clock() and "bound_reached" not in rows[-1].detail
    async with sessions() as session:
        total = len((await session.execute(select(AuditEntry))).scalars().all())
    assert total < 40  # the 25 + 1 forged presses did not each add a row
