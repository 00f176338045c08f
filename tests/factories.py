"""Test data built straight in the database: people with roles, districts, rounds in any phase,
proposals and objections in any status, announcements drafted or sent.

A test says what world it needs ("a submitted proposal in Blumah", "a round whose clarification
window has closed") instead of writing rows field by field. Districts, rounds and announcements
go through the domain functions the operator and POKJA use; a proposal or an objection in a
later status is written as the bot leaves it there, since reaching that status through the
wizard needs Telegram (scenario tests do that through `tests.review_helpers.write_proposal`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from itertools import count

from sqlalchemy.ext.asyncio import AsyncSession

from bot import announcements
from storage import queries
from storage.models import BudgetLine, Objection, Person, Proposal, RoleGrant, Round
from storage.review import FILED, ObjectionStatus
from storage.statuses import ProposalStatus
from storage.views import BroadcastView, DistrictView, PersonView, Role, RoundView, Scope
from tests.seed import BLUMAH

_telegram_ids = count(930_000_000)


# -- people ------------------------------------------------------------------------------------


async def person(
    session: AsyncSession,
    name: str = "Warga",
    *,
    role: Role | None = None,
    district: DistrictView | None = None,
    village: str | None = None,
    round_id: int | None = None,
    telegram_id: int | None = None,
    locale: str = "id",
) -> Person:
    """A person, with one role in `district` when `role` is given (PAKEM: of `village`)."""
    row = Person(
        telegram_id=next(_telegram_ids) if telegram_id is None else telegram_id,
        full_name=name,
        locale=locale,
    )
    session.add(row)
    await session.flush()
    if role is not None:
        assert district is not None, "a role is held in a district"
        session.add(
            RoleGrant(
                person_id=row.id or 0,
                role=role,
                district_id=district.id,
                village_kode=village if role == Role.PAKEM else None,
                round_id=round_id,
            )
        )
        await session.flush()
    return row


async def view(session: AsyncSession, row: Person) -> PersonView:
    """The person as handlers and domain functions see them, with their roles."""
    return await queries.person_view(session, row)


# -- rounds ------------------------------------------------------------------------------------


class Phase(StrEnum):
    """Where a round stands on its calendar at the factory's `now`."""

    OPEN = "open"  # proposals are still being written and submitted
    REVIEW = "review"  # the submission deadline is behind, POKJA review
    CLARIFICATION_OPEN = "clarification_open"  # candidates announced, objections taken
    CLARIFICATION_CLOSED = "clarification_closed"  # the window has closed, no final yet
    FINAL = "final"  # winners published


async def round_in(
    session: AsyncSession,
    district: DistrictView,
    phase: Phase,
    now: datetime,
    *,
    name: str = "Tahap 1 2026",
    ceiling: int | None = None,
) -> RoundView:
    """A round opened through the domain (`open_round`), its calendar moved to `phase`."""
    from bot.rounds import open_round

    if phase == Phase.OPEN:
        return await open_round(
            session, district, name, now + timedelta(days=30), now, ceiling=ceiling
        )
    opened = now - timedelta(days=40)
    created = await open_round(
        session, district, name, now - timedelta(days=20), opened, ceiling=ceiling
    )
    row = await session.get(Round, created.id)
    assert row is not None
    if phase == Phase.REVIEW:
        row.review_end = now + timedelta(days=5)
    elif phase == Phase.CLARIFICATION_OPEN:
        row.review_end = now - timedelta(days=2)
        row.candidates_published_at = now - timedelta(hours=1)
        row.clarify_end = now + timedelta(days=7)
    else:
        row.review_end = now - timedelta(days=15)
        row.candidates_published_at = now - timedelta(days=14)
        row.clarify_end = now - timedelta(days=1)
        if phase == Phase.FINAL:
            row.final_at = now - timedelta(hours=2)
            row.winners_published_at = now - timedelta(hours=1)
    await session.flush()
    fresh = await queries.round_view(session, row)
    return fresh


# -- proposals ---------------------------------------------------------------------------------

# Statuses a proposal reaches only through submission: it has a number and a submission time.
SUBMITTED_ONES = frozenset(ProposalStatus) - {ProposalStatus.DRAFT, ProposalStatus.DISCARDED}


async def proposal(
    session: AsyncSession,
    round_: RoundView,
    author_id: int,
    status: ProposalStatus = ProposalStatus.SUBMITTED,
    now: datetime | None = None,
    *,
    number: str | None = None,
    village: str = BLUMAH,
    title: str = "Jalan",
    activity: str | None = "road",
    lines: int = 1,
    step: str | None = None,
    **fields: object,
) -> Proposal:
    """A proposal as the bot leaves it in `status`: a submitted one (and any status after
    submission) has a number, a submission time, version 1, its details and `lines` complete
    budget lines; a draft or a discarded one has none of that."""
    submitted = status in SUBMITTED_ONES
    if submitted and number is None:
        raise ValueError("a submitted proposal has a number; give one")
    row = Proposal(
        round_id=round_.id,
        district_id=round_.district_id,
        village_kode=village,
        author_id=author_id,
        status=status,
        number=number if submitted else None,
        title=title,
        activity=activity,
        **fields,
    )
    if step is not None:
        row.step = step
    if submitted:
        row.step = step or "review"
        row.submitted_at = row.submitted_at or now
        row.version = row.version or 1
    session.add(row)
    await session.flush()
    for position in range(1, lines + 1 if submitted else 1):
        session.add(
            BudgetLine(
                proposal_id=row.id or 0,
                position=position,
                item="Semen",
                volume_milli=1000,
                unit="sak",
                unit_price=65_000,
                source="apbd",
                complete=True,
            )
        )
    await session.flush()
    return row


# -- objections --------------------------------------------------------------------------------


def objection(
    round_: RoundView,
    proposal_id: int,
    person_id: int,
    status: ObjectionStatus,
    now: datetime,
    number: int,
    *,
    village: str = BLUMAH,
) -> Objection:
    """An objection as the bot leaves it in that status: drafts (withdrawn and expired ones
    too) have no number and no filing time; answered ones carry their outcome."""
    row = Objection(
        round_id=round_.id,
        district_id=round_.district_id,
        person_id=person_id,
        proposal_id=proposal_id,
        village_kode=village,
        status=status,
        step="confirm",
        category="other",
        text="Papan nama proyek tidak ada di lokasi.",
        anonymous=False,
        created_at=now,
    )
    if status in FILED:
        row.step = "filed"
        row.number = f"KB-{round_.year}-{number:04d}"
        row.filed_at = now
    if status in (ObjectionStatus.UPHELD, ObjectionStatus.DISMISSED):
        row.outcome = status.value
        row.answer_text = "Sudah diperiksa di lapangan."
        row.answered_at = now
    return row


# -- announcements -----------------------------------------------------------------------------


async def announcement(
    session: AsyncSession,
    author: PersonView,
    district: DistrictView,
    now: datetime,
    *,
    sent: bool = False,
    body: str = "Musyawarah desa hari Sabtu pukul 09.00 di balai desa.",
    scope: Scope = Scope.DISTRICT,
) -> BroadcastView:
    """A POKJA announcement written through the domain: a draft at its preview, or sent
    (queued for every recipient)."""
    draft = await announcements.start(session, author, district.id, now)
    draft = await announcements.set_body(session, author, draft.id, body)
    draft = await announcements.choose_scope(session, author, draft.id, scope)
    if not sent:
        return draft
    return await announcements.confirm(session, author, draft.id, now)
