"""Two POKJA members deciding on one proposal at once: the second, made on a stale view, is
refused with an explanation and overwrites nothing."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot import review
from bot.errors import Stale
from storage import queries
from storage.models import AuditEntry, Person, Proposal
from storage.views import Role
from tests import factories
from tests.outbound_helpers import drained
from tests.review_helpers import audit_actions, grant, proposal_by_number, write_proposal
from tests.seed import BLUMAH, kendal, round_


async def test_a_decision_on_a_stale_view_is_refused(bot, person, sessions, clock, emulator):
    district = await kendal(sessions, clock())
    await round_(sessions, district, clock(), days=5)
    await bot()
    budi, sari, ani = person("Budi POKJA"), person("Sari POKJA"), person("Ani Blumah")
    await grant(budi, sessions, district, Role.POKJA, clock())
    await grant(sari, sessions, district, Role.POKJA, clock())
    await grant(ani, sessions, district, Role.PAKEM, clock(), BLUMAH)
    number = await write_proposal(ani, "Jalan RT 01", [("Semen", "10 sak", "65.000", "apbd")])

    # Leaving a decision half-way decides nothing
    await budi.send("/tinjau")
    await budi.press(f"Buka {number}")
    await budi.press("✖ Tolak")
    await budi.send_sticker()
    assert budi.saw("Jawab dengan teks, atau /batal.")
    await budi.send("/cancel")
    assert budi.saw("Tidak ada yang diputuskan")
    await budi.send("Ini bukan alasan, tidak ada yang menunggu teks.")
    assert (await proposal_by_number(sessions, number)).status == "submitted"

    # Both open the same proposal, both see version 1
    for who in (budi, sari):
        await who.send("/tinjau")
        await who.press(f"Buka {number}")
        assert who.saw("(versi 1)")
    await budi.press("⭐ Masukkan daftar calon")
    await sari.press("✖ Tolak")
    await budi.send("Memenuhi semua syarat kelayakan.")
    assert budi.saw("calon pemenang")
    await sari.send("Anggaran tidak wajar untuk jalan sepanjang itu.")
    refusal = sari.reply_text
    assert "Ada yang memutuskan usulan ini saat Anda sedang melihatnya: Budi POKJA" in refusal
    assert "“calon pemenang”" in refusal and "Keputusan Anda tidak disimpan" in refusal
    assert "(versi 2)" in refusal  # the current state follows

    row = await proposal_by_number(sessions, number)
    assert (row.status, row.version) == ("candidate", 2)
    actions = await audit_actions(sessions, f"proposal:{row.id}")
    assert actions.count("proposal.candidate") == 1 and "proposal.rejected" not in actions
    await drained(sessions)
    told = "\n".join(m.text for m in ani.chat)
    assert "calon pemenang" in told and "ditolak" not in told


@pytest.mark.parametrize("rounds", [5])
async def test_simultaneous_decisions_exactly_one_wins(rounds, sessions, clock):
    """The same two decisions started in the same instant, in two transactions, many times."""
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock(), days=5)
    async with sessions() as session, session.begin():
        members = []
        for n in range(2):
            p = Person(telegram_id=8_000 + n, full_name=f"POKJA {n}")
            session.add(p)
            await session.flush()
            from storage.models import RoleGrant

            session.add(RoleGrant(person_id=p.id, role=Role.POKJA.value, district_id=district.id))
            members.append(p.id)
        pids = []
        for n in range(rounds):
            row = await factories.proposal(
                session,
                round_view,
                members[0],
                number=f"KDL-2026-{n + 1:03d}",
                step="title",
                activity=None,
            )
            pids.append(row.id)

    async def decide(member: int, pid: int, decision: str) -> str:
        async with sessions() as session:
            try:
                async with session.begin():
                    person = await queries.person_view_by_id(session, member)
                    assert person is not None
                    await review.decide(
                        session, person, pid, decision, "Alasan yang cukup panjang.", 1, clock()
                    )
                return decision
            except Stale:
                return "stale"

    for pid in pids:
        results = await asyncio.gather(
            decide(members[0], pid, "candidate"), decide(members[1], pid, "rejected")
        )
        assert sorted(results).count("stale") == 1, results
        winner = next(r for r in results if r != "stale")
        async with sessions() as session:
            row = await session.get(Proposal, pid)
            assert (row.status, row.version) == (winner, 2)
            decisions = (
                await session.execute(
                    select(AuditEntry.action).where(
                        AuditEntry.subject == f"proposal:{pid}",
                        AuditEntry.action.in_(("proposal.candidate", "proposal.rejected")),
                    )
                )
            ).all()
            assert len(decisions) == 1
