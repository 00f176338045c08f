"""Setting up districts, rounds and invites the way the operator's CLI does."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.people import create_invite
from bot.regions import import_regions
from bot.rounds import open_round
from storage import queries
from storage.views import DistrictView, Role, RoundView

KENDAL_CSV = Path(__file__).resolve().parents[1] / "bot" / "data" / "kendal-wilayah.csv"
BLUMAH = "33.24.01.2001"  # Kec. Plantungan
PLANTUNGAN = "33.24.01.2002"


async def kendal(sessions: async_sessionmaker[AsyncSession], now: datetime) -> DistrictView:
    async with sessions() as session, session.begin():
        await import_regions(session, KENDAL_CSV.read_text(encoding="utf-8"), now, prefix="KDL")
    async with sessions() as session:
        district = await queries.district_by_kode(session, "33.24")
    assert district is not None
    return district


async def round_(
    sessions: async_sessionmaker[AsyncSession],
    district: DistrictView,
    now: datetime,
    *,
    days: float = 30,
    ceiling: int | None = None,
    name: str = "Tahap 1 2026",
) -> RoundView:
    async with sessions() as session, session.begin():
        return await open_round(
            session, district, name, now + timedelta(days=days), now, ceiling=ceiling
        )


async def invite(
    sessions: async_sessionmaker[AsyncSession],
    district: DistrictView,
    role: Role,
    now: datetime,
    *,
    village: str | None = None,
    round_id: int | None = None,
    days: int = 7,
) -> str:
    async with sessions() as session, session.begin():
        created = await create_invite(
            session, district, role, now, days=days, village_kode=village, round_id=round_id
        )
    return created.code
