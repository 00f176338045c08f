"""A district with a candidate in its clarification window, built straight in the database, for
the objection tests that need no Telegram: people, candidates and objections in any status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.regions import import_regions
from storage import queries
from storage.models import Objection, Person, Proposal, RoleGrant, Round
from storage.review import ObjectionStatus
from storage.views import DistrictView, PersonView, Role, RoundView
from tests import factories
from tests.seed import BLUMAH, kendal, round_

SEMARANG_CSV = """kode,nama,tingkat
33,Jawa Tengah,provinsi
33.22,Kabupaten Semarang,kabupaten
33.22.01,Getasan,kecamatan
33.22.01.2001,Kopeng,desa
"""
KOPENG = "33.22.01.2001"

_telegram_ids = iter(range(910_000_000, 920_000_000))


@dataclass(frozen=True)
class World:
    district: DistrictView
    round: RoundView
    proposal_id: int
    pokja_id: int


async def add_person(session: AsyncSession, name: str) -> Person:
    row = Person(telegram_id=next(_telegram_ids), full_name=name)
    session.add(row)
    await session.flush()
    return row


async def view_of(session: AsyncSession, person_id: int) -> PersonView:
    view = await queries.person_view_by_id(session, person_id)
    assert view is not None
    return view


async def semarang(sessions: async_sessionmaker[AsyncSession], now: datetime) -> DistrictView:
    async with sessions() as session, session.begin():
        await import_regions(session, SEMARANG_CSV, now, prefix="SMG")
    async with sessions() as session:
        district = await queries.district_by_kode(session, "33.22")
    assert district is not None
    return district


async def world(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    district: DistrictView | None = None,
    village: str = BLUMAH,
) -> World:
    """A round whose candidates were announced an hour ago, its window open for a week; one
    candidate in `village`; one POKJA member."""
    district = district or await kendal(sessions, now)
    round_view = await round_(sessions, district, now - timedelta(days=20), days=5)
    async with sessions() as session, session.begin():
        stored = await session.get(Round, round_view.id)
        assert stored is not None
        stored.candidates_published_at = now - timedelta(hours=1)
        stored.clarify_end = now + timedelta(days=7)
        author = await add_person(session, "Ani PAKEM")
        pokja = await add_person(session, "Budi POKJA")
        session.add(RoleGrant(person_id=pokja.id or 0, role=Role.POKJA, district_id=district.id))
        proposal = Proposal(
            number=f"{district.prefix}-{round_view.year}-001",
            round_id=round_view.id,
            district_id=district.id,
            village_kode=village,
            author_id=author.id or 0,
            status="candidate",
            title="Jalan RT 01",
            activity="road",
            submitted_at=now - timedelta(days=18),
        )
        session.add(proposal)
        await session.flush()
        proposal_id, pokja_id = proposal.id or 0, pokja.id or 0
    async with sessions() as session:
        fresh = await queries.round_by_id(session, round_view.id)
    assert fresh is not None
    return World(district, fresh, proposal_id, pokja_id)


def objection_row(
    w: World, person_id: int, status: ObjectionStatus, now: datetime, number: int
) -> Objection:
    """An objection to the world's candidate, as the bot leaves it in that status."""
    return factories.objection(w.round, w.proposal_id, person_id, status, now, number)
