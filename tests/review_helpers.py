"""Shared steps of the review scenarios: people with roles, proposals written in the bot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AuditEntry, Objection, Outbox, Proposal
from storage.views import DistrictView, Role
from tests.people import Person
from tests.seed import invite

KEDITEN = "33.24.01.2002"  # the seed calls it PLANTUNGAN; the village is Kediten


async def grant(
    p: Person,
    sessions: async_sessionmaker[AsyncSession],
    district: DistrictView,
    role: Role,
    now: datetime,
    village: str | None = None,
) -> None:
    code = await invite(sessions, district, role, now, village=village)
    await p.send(f"/start {code}")


async def write_proposal(
    p: Person, title: str, lines: list[tuple[str, str, str, str]], *, photo: bool = True
) -> str:
    """The whole PAKEM wizard in Indonesian; returns the number the bot gave."""
    await p.press("📝 Usulan baru")
    await p.send(title)
    await p.press("Jalan dan gang")
    await p.send("Dusun Krajan, RT 03/RW 01")
    await p.send_location(-7.0412, 110.1267)
    await p.send("Jalan tanah becek saat hujan; anak sekolah dan lansia sulit lewat.")
    await p.send("120")
    await p.send("45")
    labels = {
        "swadaya": "Swadaya masyarakat",
        "apbd": "APBD (anggaran kabupaten)",
        "apbn": "APBN (anggaran nasional)",
    }
    for item, qty, price, source in lines:
        await p.press("➕ Tambah baris")
        await p.send(item)
        await p.send(qty)
        await p.send(price)
        await p.press(labels[source])
    await p.press("✅ Selesai")
    if photo:
        await p.send_photo()
        await p.send_document("rab.pdf")
    await p.press("✅ Selesai")
    await p.press("📨 Kirim usulan")
    text = p.reply_text
    start = text.index("KDL-")
    return text[start : start + 12]


async def proposal_by_number(sessions: async_sessionmaker[AsyncSession], number: str) -> Proposal:
    async with sessions() as session:
        row = (
            await session.execute(select(Proposal).where(Proposal.number == number))
        ).scalar_one()
        return row


async def audit_actions(sessions: async_sessionmaker[AsyncSession], subject: str) -> list[str]:
    async with sessions() as session:
        rows = await session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.subject == subject)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        return list(rows.scalars())


async def all_audit(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with sessions() as session:
        return list((await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())


async def objections(sessions: async_sessionmaker[AsyncSession]) -> list[Objection]:
    async with sessions() as session:
        rows = await session.execute(select(Objection).order_by(Objection.id))
        return list(rows.scalars())


async def outbox_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return len((await session.execute(select(Outbox.id))).all())


def everything_seen(p: Person) -> str:
    return "\n".join(m.text for m in p.chat)


PersonFactory = Callable[..., Person]
