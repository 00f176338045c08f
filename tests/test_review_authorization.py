"""Every POKJA and admin action, tried by people without the right: through commands and
through forged callback_data for another village's proposal. Refused in words, logged as
`access.denied`, and nothing changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from handlers.callbacks import DeskCb, InviteCb, ObjCb, QueueCb, RevCb
from storage.models import (
    AuditEntry,
    Broadcast,
    ChecklistMark,
    Invite,
    Objection,
    Proposal,
    Round,
    Verification,
)
from storage.statuses import ProposalStatus
from storage.views import Role
from tests import factories
from tests.review_helpers import KEDITEN, grant
from tests.seed import BLUMAH, kendal, round_


async def seed_round(sessions, clock, district):
    """A Kediten proposal in review, a Blumah candidate with an anonymous objection."""
    round_view = await round_(sessions, district, clock(), days=5)
    now = clock()
    async with sessions() as session, session.begin():
        round_row = await session.get(Round, round_view.id)
        round_row.clarify_end = now + timedelta(days=10)
        round_row.candidates_published_at = now
        ids = {}
        for number, village, status in (
            ("KDL-2026-001", KEDITEN, "submitted"),
            ("KDL-2026-002", BLUMAH, "candidate"),
        ):
            author = await factories.person(session, "Penulis", telegram_id=9_000_000 + len(ids))
            row = await factories.proposal(
                session,
                round_view,
                author.id or 0,
                ProposalStatus(status),
                now,
                number=number,
                village=village,
                title=f"Usulan {number}",
                location_name="Dusun",
                problem="Jalan rusak parah",
                households=10,
                poor_households=5,
            )
            ids[number] = row.id
        objector = await factories.person(session, "Penyanggah Rahasia", telegram_id=9_100_000)
        objection = Objection(
            number="KB-2026-0001",
            round_id=round_view.id,
            district_id=round_view.district_id,
            proposal_id=ids["KDL-2026-002"],
            person_id=objector.id,
            status="filed",
            step="filed",
            category="inflated",
            text="Harga terlalu tinggi",
            anonymous=True,
            pseudonym="Warga-TEST",
            filed_at=now,
        )
        session.add(objection)
        await session.flush()
        return round_view.id, ids, objection.id


async def snapshot(sessions):
    """Everything an action could change, except the audit log itself."""
    async with sessions() as session:
        proposals = (
            await session.execute(
                select(Proposal.id, Proposal.status, Proposal.version).order_by(Proposal.id)
            )
        ).all()
        objections = (
            await session.execute(select(Objection.id, Objection.status, Objection.outcome))
        ).all()
        round_row = (await session.execute(select(Round))).scalars().first()
        counts = {}
        for model in (ChecklistMark, Verification, Invite, Broadcast):
            counts[model.__name__] = (
                await session.execute(select(func.count()).select_from(model))
            ).scalar_one()
        return (
            proposals,
            objections,
            (
                round_row.review_start,
                round_row.clarify_end,
                round_row.checklist,
                round_row.swadaya_min_pct,
                round_row.winners_published_at,
            ),
            counts,
        )


async def denied(sessions) -> list[AuditEntry]:
    async with sessions() as session:
        rows = await session.execute(
            select(AuditEntry).where(AuditEntry.action == "access.denied").order_by(AuditEntry.id)
        )
        return list(rows.scalars())


def actions(rid: int, ids: dict[str, int], oid: int, district_id: int) -> list[tuple[str, str]]:
    """(name, what to send): commands as text, buttons as forged callback_data."""
    other = ids["KDL-2026-001"]  # Kediten's proposal
    candidate = ids["KDL-2026-002"]
    return [
        ("cmd /tinjau", "/tinjau"),
        ("cmd /round", "/round"),
        ("cmd /undang", "/undang"),
        ("cmd /ekspor", "/ekspor"),
        ("queue", QueueCb(round=rid).pack()),
        ("open proposal", RevCb(action="o", id=other).pack()),
        ("checklist", RevCb(action="c", id=other).pack()),
        ("checklist item", RevCb(action="m", id=other, arg="0").pack()),
        ("checklist mark", RevCb(action="k", id=other, arg="0-yes").pack()),
        ("field visit", RevCb(action="V", id=other).pack()),
        ("decide shortlist", RevCb(action="d", id=other, v=1, arg="candidate").pack()),
        ("decide reject", RevCb(action="d", id=other, v=1, arg="rejected").pack()),
        ("name winner", RevCb(action="f", id=candidate, v=1).pack()),
        ("timeline", RevCb(action="t", id=other).pack()),
        ("objections of proposal", RevCb(action="j", id=candidate).pack()),
        ("open objection", ObjCb(action="o", id=oid).pack()),
        ("uphold", ObjCb(action="u", id=oid).pack()),
        ("dismiss", ObjCb(action="d", id=oid).pack()),
        ("unmask", ObjCb(action="M", id=oid).pack()),
        ("round", DeskCb(action="s", id=rid).pack()),
        ("edit date", DeskCb(action="e", id=rid, arg="clarify_end").pack()),
        ("villages", DeskCb(action="v", id=rid).pack()),
        ("checklist of round", DeskCb(action="k", id=rid).pack()),
        ("toggle item", DeskCb(action="t", id=rid, arg="dpoor").pack()),
        ("add item", DeskCb(action="+", id=rid).pack()),
        ("self-help minimum", DeskCb(action="p", id=rid).pack()),
        ("new round", DeskCb(action="n", id=district_id).pack()),
        ("candidates preview", DeskCb(action="C", id=rid).pack()),
        ("publish candidates", DeskCb(action="P", id=rid, arg="1").pack()),
        ("winners preview", DeskCb(action="W", id=rid).pack()),
        ("publish winners", DeskCb(action="Q", id=rid, arg="1").pack()),
        ("exports", DeskCb(action="x", id=rid).pack()),
        ("invite POKJA", InviteCb(action="p", id=district_id).pack()),
        ("invite PAKEM", InviteCb(action="k", id=district_id).pack()),
        ("invite PAKEM village", InviteCb(action="v", id=district_id, arg=KEDITEN).pack()),
    ]


REFUSALS = ("Hanya anggota POKJA", "Hanya admin")


@pytest.mark.parametrize("who", ["resident", "pakem", "pokja"])
async def test_authorization_matrix(who, bot, person, sessions, clock, emulator):
    district = await kendal(sessions, clock())
    rid, ids, oid = await seed_round(sessions, clock, district)
    await bot()
    actor = person(f"Pelaku {who}")
    if who == "pakem":
        await grant(actor, sessions, district, Role.PAKEM, clock(), BLUMAH)
    elif who == "pokja":
        await grant(actor, sessions, district, Role.POKJA, clock())
    else:
        await actor.send("/start")
    before = await snapshot(sessions)
    logged = len(await denied(sessions))
    anchor = actor.last
    tried = 0
    for name, data in actions(rid, ids, oid, district.id):
        if who == "pokja" and name != "unmask":
            continue  # POKJA may do everything else; only the admin unmasks
        tried += 1
        # Each refusal in an hour of its own: the bound of ten rows per person and hour is
        # tested in test_limits, here every single refusal must be logged.
        clock.advance(minutes=61)
        if data.startswith("/"):
            await actor.send(data)
        else:
            await actor.press_data(anchor, data)
        reply = actor.reply_text
        assert any(r in reply for r in REFUSALS), f"{who} / {name}: {reply!r}"
        assert "Penyanggah Rahasia" not in reply and "Warga-TEST" not in reply
        entries = await denied(sessions)
        assert len(entries) == logged + 1, f"{who} / {name} was not logged"
        logged += 1
        last = entries[-1]
        assert last.actor_id is not None and last.detail
    assert tried == (1 if who == "pokja" else len(actions(rid, ids, oid, district.id)))
    assert await snapshot(sessions) == before
    assert not emulator.refusals
