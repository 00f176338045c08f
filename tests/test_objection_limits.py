"""At most five objections per person per window, a polite refusal for the sixth; a right of
reply used once; a draft kept across /cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import objections
from bot.config import Settings
from storage import queries
from storage.models import Round
from storage.views import Role
from tests.outbound_helpers import drained
from tests.review_helpers import grant, proposal_by_number, write_proposal
from tests.review_helpers import objections as objection_rows
from tests.seed import BLUMAH, kendal, round_


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"send_chat_interval": 0.05})


async def test_five_objections_then_a_polite_refusal(bot, person, sessions, clock, emulator):
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock(), days=5)
    await bot()
    ani = person("Ani Blumah")
    await grant(ani, sessions, district, Role.PAKEM, clock(), BLUMAH)
    number = await write_proposal(ani, "Jalan RT 01", [("Semen", "10 sak", "65.000", "apbd")])
    row = await proposal_by_number(sessions, number)
    async with sessions() as session, session.begin():
        stored = await session.get(Round, round_view.id)
        assert stored is not None
        stored.clarify_end = clock() + timedelta(days=7)
        stored.candidates_published_at = clock()
        target = await session.get(type(row), row.id)
        assert target is not None
        target.status = "candidate"

    eko = person("Eko Warga")
    await eko.send("/start")
    # /cancel keeps the draft; /keberatan resumes it where it was left
    await eko.send("/keberatan")
    await eko.press("Blumah")
    await eko.press(f"{number}: Jalan RT 01")
    await eko.press("Lainnya")
    await eko.send("/cancel")
    assert eko.saw("Draf keberatan Anda disimpan")
    await eko.send("/keberatan")
    assert eko.saw("Jelaskan keberatan Anda")
    await eko.send("x" * 2001)
    assert eko.saw("2001 karakter")
    await eko.send("Pertama: papan nama proyek tidak ada di lokasi.")
    await eko.press("✅ Selesai")
    await eko.press("👤 Dengan nama saya")
    await eko.press("📨 Ajukan keberatan")
    assert eko.saw("1 dari 5 keberatan")

    async with sessions() as session, session.begin():
        person_row = await queries.person_by_telegram_id(session, eko.id)
        assert person_row is not None
        view = await queries.person_view(session, person_row)
        for n in range(4):
            draft = await objections.start(session, view, clock(), proposal_id=row.id)
            await objections.choose_category(session, view, draft.id, "other", clock())
            await objections.set_text(
                session, view, draft.id, f"Keberatan ke-{n + 2} cukup panjang.", clock()
            )
            await objections.evidence_done(session, view, draft.id, clock())
            await objections.choose_identity(session, view, draft.id, True, clock())
            await objections.file(session, view, draft.id, clock())

    await eko.send("/keberatan")
    assert eko.saw("Anda sudah mengajukan 5 keberatan dalam masa sanggah ini")
    assert len(await objection_rows(sessions)) == 5

    # The committee replies once; the second try is refused
    await drained(sessions)
    await ani.press("✍️ Jawab dengan klarifikasi")
    await ani.send("/back")
    assert ani.saw("Tidak ada yang dikirim")
    await ani.press("✍️ Jawab dengan klarifikasi")
    await ani.send("ok")
    assert ani.saw("paling sedikit 10 karakter")  # the step stays for another try
    await ani.send("Papan nama dipasang setelah dana cair, sesuai petunjuk teknis.")
    assert ani.saw("sudah dikirim ke POKJA")
    replied, button = ani.find_button("✍️ Jawab dengan klarifikasi")
    await ani.press_data(replied, button["callback_data"])
    assert ani.saw("sudah menjawab keberatan ini")
    assert not emulator.refusals
