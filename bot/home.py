"""What a person can do now, by role and by the round's phase: the facts behind /start and /help."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage import queries
from storage.statuses import OPEN_DRAFT, PAST_DRAFT
from storage.views import PersonView, Role, RoundView


@dataclass(frozen=True)
class Committee:
    round: RoundView
    village_name: str
    kecamatan_name: str
    drafts: int
    submitted: int


@dataclass(frozen=True)
class DistrictDesk:
    """A POKJA member's or admin's view of one district's rounds."""

    district_name: str
    role: Role
    rounds: list[tuple[RoundView, int]]


@dataclass(frozen=True)
class Home:
    district_name: str | None
    committees: list[Committee] = field(default_factory=list)
    desks: list[DistrictDesk] = field(default_factory=list)
    has_proposals: bool = False

    def can_draft(self, now: datetime) -> bool:
        return any(c.round.submission_open(now) for c in self.committees)


async def home(session: AsyncSession, person: PersonView, now: datetime) -> Home:
    districts = await queries.districts(session)
    single = districts[0].name if len(districts) == 1 else None
    committees = []
    own = await queries.proposals_of_author(session, person.id)
    pairs = []
    for grant in person.grants:
        if grant.role != Role.PAKEM or grant.round_id is None or grant.village_kode is None:
            continue
        round_ = await queries.round_by_id(session, grant.round_id)
        if round_ is None:
            continue
        pairs.append((grant.round_id, grant.village_kode))
        village, kecamatan = await queries.region_names(session, grant.village_kode)
        mine = await queries.proposals_of_villages(session, [(grant.round_id, grant.village_kode)])
        committees.append(
            Committee(
                round_,
                village,
                kecamatan,
                drafts=sum(1 for p in mine if p.status in OPEN_DRAFT),
                submitted=sum(1 for p in mine if p.status in PAST_DRAFT),
            )
        )
    desks = []
    for district in districts:
        role = (
            Role.ADMIN
            if person.has(Role.ADMIN, district.id)
            else Role.POKJA
            if person.has(Role.POKJA, district.id)
            else None
        )
        if role is None:
            continue
        rounds = [
            (r, await queries.count_submitted(session, r.id))
            for r in await queries.rounds_of(session, district.id)
        ]
        desks.append(DistrictDesk(district.name, role, rounds))
    has = bool(own) or bool(await queries.proposals_of_villages(session, pairs))
    return Home(single, committees, desks, has)
