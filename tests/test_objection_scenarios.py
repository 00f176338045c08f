"""Objections over the emulator: discarded drafts break no list and use no number; the final
result reaches every village that took part, a village whose candidate fell too."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import winners
from storage import queries
from storage.models import Broadcast, Outbox, Proposal, Round
from storage.views import Role
from tests.outbound_helpers import drained
from tests.people import Person
from tests.review_helpers import (
    KEDITEN,
    everything_seen,
    grant,
    proposal_by_number,
    write_proposal,
)
from tests.review_helpers import objections as objection_rows
from tests.seed import BLUMAH, kendal, round_

ELSEWHERE = "33.24.01.2003"  # a village of Plantungan that sent no proposal
INTERNAL_ERROR = "Maaf, terjadi kesalahan"


async def follow(sessions: async_sessionmaker[AsyncSession], p: Person, *codes: str) -> None:
    """Following is item 1's business (the link format); here it is set up in the database."""
    await p.send("/start")
    async with sessions() as session, session.begin():
        row = await queries.person_by_telegram_id(session, p.id)
        assert row is not None and row.id is not None
        for code in codes:
            await queries.add_follow(session, row.id, code, row.created_at)


async def open_window(sessions, round_id: int, numbers: list[str], now, days: int) -> None:
    """The POKJA shortlisted these and announced them just now (the review round's own
    scenario shows that part over the emulator)."""
    ids = [(await proposal_by_number(sessions, number)).id for number in numbers]
    async with sessions() as session, session.begin():
        stored = await session.get(Round, round_id)
        assert stored is not None
        stored.candidates_published_at = now
        stored.clarify_end = now + timedelta(days=days)
        for proposal_id in ids:
            target = await session.get(Proposal, proposal_id)
            assert target is not None
            target.status = "candidate"


async def discard_twice(eko: Person, number: str) -> None:
    await eko.send("/keberatan")
    await eko.press("✖ Buang")  # at the first step
    assert eko.saw("Draf keberatan dibuang.")
    await eko.send("/keberatan")
    await eko.press("Blumah")
    await eko.press(next(lbl for lbl in eko.button_labels() if lbl.startswith(number)))
    await eko.press("Lainnya")
    await eko.press("✖ Buang")  # half-way
    assert eko.saw("Draf keberatan dibuang.")


async def object_to(p: Person, village: str, number: str, anonymous: bool) -> None:
    await p.send("/keberatan")
    await p.press(village)
    await p.press(next(lbl for lbl in p.button_labels() if lbl.startswith(number)))
    await p.press("Lainnya")
    await p.send("Papan nama proyek tidak ada di lokasi dan harga tidak wajar.")
    await p.press("✅ Selesai")
    await p.press("🙈 Tanpa nama" if anonymous else "👤 Dengan nama saya")
    await p.press("📨 Ajukan keberatan")


async def test_discarded_drafts_break_no_list_and_use_no_number(
    bot, person, sessions, clock, emulator
):
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock(), days=5)
    await bot()
    budi, ani, eko, rina = (person(n) for n in ("Budi POKJA", "Ani Blumah", "Eko", "Rina"))
    await grant(budi, sessions, district, Role.POKJA, clock())
    await grant(ani, sessions, district, Role.PAKEM, clock(), BLUMAH)
    a = await write_proposal(ani, "Jalan RT 01", [("Semen", "10 sak", "65.000", "apbd")])
    await open_window(sessions, round_view.id, [a], clock(), days=7)
    await eko.send("/start")
    await rina.send("/start")

    await discard_twice(eko, a)
    # POKJA's list and the resident's own both answer, with nothing in them
    await budi.send("/keberatan")
    assert budi.saw("Seluruhnya 0 keberatan, 0 menunggu jawaban")
    await eko.send("/status")
    assert eko.saw("Anda belum pernah mengajukan keberatan")

    # The first objection filed is 0001 although two drafts came before it; the limit counts
    # filed objections only
    await object_to(rina, "Blumah", a, anonymous=True)
    assert rina.saw("KB-2026-0001") and rina.saw("1 dari 5 keberatan")
    await object_to(eko, "Blumah", a, anonymous=False)
    assert eko.saw("KB-2026-0002") and eko.saw("1 dari 5 keberatan")

    await budi.send("/keberatan")
    assert budi.saw("Seluruhnya 2 keberatan, 2 menunggu jawaban")
    assert [lbl for lbl in budi.button_labels() if lbl.startswith("KB-")] == [
        lbl for lbl in budi.button_labels() if lbl.startswith(("KB-2026-0001", "KB-2026-0002"))
    ]
    await eko.send("/status")
    assert eko.saw("KB-2026-0002") and not eko.saw("KB-2026-0001")
    await eko.send("/status KB-2026-0001")  # Rina's number: not his
    assert not eko.saw("Rina") and not eko.saw("harga tidak wajar.\n")
    for p in (budi, eko, rina):
        assert INTERNAL_ERROR not in everything_seen(p)

    rows = await objection_rows(sessions)
    assert sorted((o.status, o.number) for o in rows) == [
        ("filed", "KB-2026-0001"),
        ("filed", "KB-2026-0002"),
        ("withdrawn", None),
        ("withdrawn", None),
    ]
    async with sessions() as session:
        fresh = await queries.round_by_id(session, round_view.id)
        assert fresh is not None
        assert (await winners.summary(session, fresh)).objections == 2
    assert not emulator.refusals


async def test_followers_of_a_village_without_a_winner_hear_the_final_result(
    bot, person, sessions, clock, emulator
):
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock(), days=5)
    await bot()
    budi, ani, joko = person("Budi POKJA"), person("Ani Blumah"), person("Joko Kediten")
    await grant(budi, sessions, district, Role.POKJA, clock())
    await grant(ani, sessions, district, Role.PAKEM, clock(), BLUMAH)
    await grant(joko, sessions, district, Role.PAKEM, clock(), KEDITEN)
    a = await write_proposal(ani, "Jalan RT 01", [("Semen", "10 sak", "65.000", "apbd")])
    c = await write_proposal(joko, "Sumur bor", [("Pengeboran", "1 paket", "25 juta", "apbn")])
    rina, sari, dewi, eko = (person(n) for n in ("Rina", "Sari", "Dewi", "Eko"))
    await follow(sessions, rina, BLUMAH)  # her village's candidate will fall
    await follow(sessions, sari, BLUMAH, KEDITEN)  # two villages that took part: told once
    await follow(sessions, dewi, ELSEWHERE)  # a village that took no part: not told
    await eko.send("/start")
    await open_window(sessions, round_view.id, [a, c], clock(), days=3)

    # Objections: one upheld against Blumah's candidate, a discarded draft on the side
    await discard_twice(eko, a)
    await object_to(rina, "Blumah", a, anonymous=True)
    await budi.send("/keberatan")
    await budi.press(next(lbl for lbl in budi.button_labels() if lbl.startswith("KB-2026-0001")))
    await budi.press("✅ Kabulkan")
    await budi.send("Harga semen di atas harga pasar; anggaran harus disesuaikan.")
    assert budi.saw(f"{a} kembali ke penilaian")
    # ... and the candidate, back in review, is rejected
    await budi.send("/tinjau")
    await budi.press(f"Buka {a}")
    await budi.press("✖ Tolak")
    await budi.send("Anggaran tidak wajar dan tidak diperbaiki.")
    assert (await proposal_by_number(sessions, a)).status == "rejected"

    clock.advance(days=4)  # the window has closed
    await budi.send("/tinjau")
    await budi.press(f"Buka {c}")
    await budi.press("🏆 Tetapkan pemenang")
    await budi.send("/round")
    await budi.press("🏆 Umumkan pemenang")
    await drained(sessions)
    before = {p.id: len(p.chat) for p in (budi, ani, joko, rina, sari, dewi, eko)}
    await budi.press(
        next(label for label in budi.button_labels() if label.startswith("📤 Terbitkan ke"))
    )
    await drained(sessions)

    def told(p: Person) -> int:
        return sum(1 for m in p.chat[before[p.id] :] if c in m.text and "Sumur bor" in m.text)

    assert {p.user.first_name: told(p) for p in (ani, joko, rina, sari, dewi, eko)} == {
        "Ani Blumah": 1,  # PAKEM of a village whose candidate fell
        "Joko Kediten": 1,
        "Rina": 1,
        "Sari": 1,
        "Dewi": 0,
        "Eko": 0,  # an objector who follows nothing
    }
    assert told(budi) >= 1  # the announcement (and the publisher's own confirmation)
    async with sessions() as session:
        broadcast = (
            await session.execute(select(Broadcast).where(Broadcast.template == "winners"))
        ).scalar_one()
        recipients = (
            await session.execute(
                select(Outbox.person_id).where(Outbox.broadcast_id == broadcast.id)
            )
        ).scalars()
        names = await _names(session, list(recipients))
    assert sorted(names) == sorted(["Budi POKJA", "Ani Blumah", "Joko Kediten", "Rina", "Sari"])
    assert json.loads(broadcast.audience)["codes"] == sorted([BLUMAH, KEDITEN])
    summary = json.loads(broadcast.params)["summary"]
    assert (summary["objections"], summary["upheld"], summary["dismissed"]) == (1, 1, 0)
    for p in (budi, ani, joko, rina, sari, eko):
        assert INTERNAL_ERROR not in everything_seen(p)


async def _names(session: AsyncSession, ids: list[int]) -> list[str]:
    from storage.models import Person as PersonRow

    rows = await session.execute(select(PersonRow.full_name).where(PersonRow.id.in_(ids)))  # type: ignore[union-attr]
    return list(rows.scalars())
