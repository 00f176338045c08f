"""Districts, kecamatan and villages as the menus and messages name them.

Handlers ask here, not the data layer, so that what a place is called (and what stands in
when a code is unknown) is decided in one place.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage import queries
from storage.views import DistrictView, RegionView, VillageView


async def districts(session: AsyncSession) -> list[DistrictView]:
    return await queries.districts(session)


async def several_districts(session: AsyncSession) -> bool:
    """Whether places must carry their district's name to be told apart."""
    return len(await queries.districts(session)) > 1


async def district(session: AsyncSession, district_id: int) -> DistrictView | None:
    return await queries.district_by_id(session, district_id)


async def kecamatan_of(session: AsyncSession, district_id: int) -> list[RegionView]:
    return await queries.kecamatan_of(session, district_id)


async def villages_in(session: AsyncSession, kecamatan_kode: str) -> list[VillageView]:
    return await queries.villages_in(session, kecamatan_kode)


async def region(session: AsyncSession, kode: str) -> RegionView | None:
    """A kecamatan or a village by its code."""
    return await queries.region_view(session, kode)


async def village_name(session: AsyncSession, kode: str) -> str | None:
    """The village's name; None when the code is not a known village."""
    row = await queries.village(session, kode)
    return row.name if row else None


async def kecamatan_of_village(session: AsyncSession, kode: str) -> str | None:
    """The code of the village's kecamatan; None when the code is not a known village."""
    row = await queries.village(session, kode)
    return row.parent_kode if row else None
