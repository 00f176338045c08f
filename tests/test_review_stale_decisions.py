"""A decision pressed on a stale view is refused at once, before anyone types a reason: every
decision button on a proposal someone else has decided, and uphold/dismiss on an objection
someone else has answered. The same rule (`review.decidable`) is asked again at commit."""

from __future__ import annotations

import pytest

from bot import review
from bot.errors import Invalid, Locked, NotAllowed, Stale
from handlers.callbacks import ObjCb, RevCb
from storage import queries
from storage.views import Role
from tests.review_helpers import audit_actions, grant, proposal_by_number
from tests.seed import kendal
from tests.test_review_authorization import seed_round

REFUSAL = "Ada yang memutuskan usulan ini saat Anda sedang melihatnya: Budi POKJA"
ASKED = ("Mengapa", "Tulis dengan tepat")  # the prompts for a reason


async def test_every_decision_on_a_stale_view_is_refused_before_the_reason(
    bot, person, sessions, clock, emulator
):
    district = await kendal(sessions, clock())
    _rid, ids, oid = await seed_round(sessions, clock, district)
    await bot()
    budi, sari = person("Budi POKJA"), person("Sari POKJA")
    for who in (budi, sari):
        await grant(who, sessions, district, Role.POKJA, clock())
    pid = ids["KDL-2026-001"]

    # Both look at version 1; Budi rejects it.
    for who in (budi, sari):
        await who.press_data(who.last, RevCb(action="o", id=pid).pack())
        assert who.saw("(versi 1)")
    await budi.press("✖ Tolak")
    await budi.send("Tidak memenuhi syarat kelayakan.")
    assert budi.saw("ditolak")

    # Every decision button of Sari's old view: refused at once, with the current state.
    for label in ("✖ Tolak", "✏️ Minta revisi", "⭐ Masukkan daftar calon"):
        await sari.press(label)
        seen = sari.reply_text
        assert REFUSAL in seen and "“ditolak”" in seen, (label, seen)
        assert "(versi 2)" in seen, label  # the current state follows
        assert not any(prompt in seen for prompt in ASKED), (label, seen)
    # Nothing waits for a reason: her text decides nothing.
    await sari.send("Anggaran tidak wajar untuk jalan sepanjang itu.")
    assert not sari.saw("Keputusan Anda tidak disimpan")
    row = await proposal_by_number(sessions, "KDL-2026-001")
    assert (row.status, row.version) == ("rejected", 2)
    actions = await audit_actions(sessions, f"proposal:{pid}")
    assert actions.count("proposal.rejected") == 1
    assert "proposal.candidate" not in actions and "proposal.revision" not in actions

    # An objection Budi has answered: Sari's uphold and dismiss are refused before the reason.
    for who in (budi, sari):
        await who.press_data(who.last, ObjCb(action="o", id=oid).pack())
    await budi.press("✖ Tidak dikabulkan")
    await budi.send("Harga sesuai standar harga kabupaten.")
    assert budi.saw("Keberatan KB-2026-0001")
    for data in (ObjCb(action="u", id=oid), ObjCb(action="d", id=oid)):
        await sari.press_data(sari.last, data.pack())
        assert sari.reply_text == "Keberatan ini sudah dijawab."
    await sari.send("Penyanggah benar, harga semen terlalu tinggi.")
    assert not sari.saw("Penyanggah dan PAKEM")
    # The seeded objector never wrote to the bot, so only their notice finds no chat.
    assert all(r[2] == "Bad Request: chat not found" for r in emulator.refusals)


@pytest.mark.parametrize("decision", ["candidate", "revision", "rejected"])
async def test_decidable_is_the_one_rule(decision, sessions, clock):
    """Unit: a current view of a submitted proposal may be decided (shortlisting only before
    the candidates are published); an older version, or a proposal that left review, is
    Stale; an unknown decision, or a person without the role, is refused."""
    district = await kendal(sessions, clock())
    _rid, ids, _oid = await seed_round(sessions, clock, district)
    async with sessions() as session, session.begin():
        from storage.models import Person as PersonRow
        from storage.models import RoleGrant

        row = PersonRow(telegram_id=5_555, full_name="Budi POKJA")
        session.add(row)
        await session.flush()
        session.add(RoleGrant(person_id=row.id, role="pokja", district_id=district.id))
        await session.flush()
        budi = await queries.person_view(session, row)
        now = clock()
        pid, cand = ids["KDL-2026-001"], ids["KDL-2026-002"]
        if decision == "candidate":  # the seeded round has published its candidates
            with pytest.raises(Locked, match="candidates_published"):
                await review.decidable(session, budi, pid, decision, 1, now)
        else:
            loaded = await review.decidable(session, budi, pid, decision, 1, now)
            assert loaded.row.id == pid
        with pytest.raises(Stale):
            await review.decidable(session, budi, pid, decision, 0, now)
        with pytest.raises(Stale):  # version current, but a candidate is no longer in review
            await review.decidable(session, budi, cand, decision, 1, now)
        with pytest.raises(Invalid):
            await review.decidable(session, budi, pid, "winner", 1, now)
        stranger = budi.__class__(budi.id, 1, "x", "id", (), False)
        with pytest.raises(NotAllowed):
            await review.decidable(session, stranger, pid, decision, 1, now)
