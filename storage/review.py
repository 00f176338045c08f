"""Queries of the review, the clarification window and the winners (PAKET steps 6 to 10)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.amounts import line_total
from storage.models import (
    AuditEntry,
    BudgetLine,
    ChecklistMark,
    Evidence,
    Objection,
    Person,
    Proposal,
    Pseudonym,
    Region,
    RoleGrant,
    Verification,
)
from storage.queries import _insert
from storage.statuses import OPEN_DRAFT, PAST_DRAFT, ProposalStatus


class ObjectionStatus(StrEnum):
    """Where an objection stands. A draft ends withdrawn (discarded), expired (its window
    closed) or filed; a filed one is answered upheld or dismissed."""

    DRAFT = "draft"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    FILED = "filed"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


FILED = (ObjectionStatus.FILED, ObjectionStatus.UPHELD, ObjectionStatus.DISMISSED)
"""The objections that were filed: every list and count shows these and nothing else."""


def _filed() -> Any:
    return Objection.status.in_(FILED)  # type: ignore[attr-defined]


def _past_draft() -> Any:
    """Proposals that were submitted, whatever was decided since; never a draft, open or
    discarded."""
    return Proposal.status.in_(PAST_DRAFT)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class QueueItem:
    id: int
    number: str | None
    title: str | None
    status: str
    activity: str | None
    village_kode: str
    village_name: str
    total: int
    open_objections: int


async def review_queue(
    session: AsyncSession,
    round_id: int,
    *,
    village: str | None,
    status: str | None,
    activity: str | None,
    offset: int,
    limit: int,
) -> tuple[list[QueueItem], int]:
    """Proposals past the draft stage, filtered, oldest submission first; and how many match."""
    conditions: list[Any] = [Proposal.round_id == round_id, _past_draft()]
    if village:
        conditions.append(Proposal.village_kode == village)
    if status:
        conditions.append(Proposal.status == status)
    if activity:
        conditions.append(Proposal.activity == activity)
    total = int(
        (
            await session.execute(select(func.count()).select_from(Proposal).where(*conditions))
        ).scalar_one()
    )
    objections = (
        select(func.count())
        .select_from(Objection)
        .where(
            Objection.proposal_id == Proposal.id,
            Objection.status == ObjectionStatus.FILED,
        )
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Proposal, Region.name, objections)
        .join(Region, Region.kode == Proposal.village_kode)
        .where(*conditions)
        .order_by(Proposal.submitted_at, Proposal.id)
        .offset(offset)
        .limit(limit)
    )
    found = list(rows)
    totals = await proposal_totals(session, [p.id or 0 for p, _, _ in found])
    items = [
        QueueItem(
            p.id or 0,
            p.number,
            p.title,
            p.status,
            p.activity,
            p.village_kode,
            name,
            totals.get(p.id or 0, 0),
            int(open_count),
        )
        for p, name, open_count in found
    ]
    return items, total


async def proposal_totals(session: AsyncSession, ids: Sequence[int]) -> dict[int, int]:
    """Each proposal's total, line by line as the proposal itself rounds it."""
    if not ids:
        return {}
    rows = await session.execute(
        select(BudgetLine.proposal_id, BudgetLine.volume_milli, BudgetLine.unit_price).where(
            BudgetLine.proposal_id.in_(ids),  # type: ignore[attr-defined]
            BudgetLine.complete.is_(True),  # type: ignore[attr-defined]
        )
    )
    totals: dict[int, int] = {}
    for pid, milli, price in rows:
        if milli is not None and price is not None:
            totals[pid] = totals.get(pid, 0) + line_total(milli, price)
    return totals


async def villages_with_proposals(session: AsyncSession, round_id: int) -> list[tuple[str, str]]:
    rows = await session.execute(
        select(Region.kode, Region.name)
        .join(Proposal, Proposal.village_kode == Region.kode)
        .where(Proposal.round_id == round_id, _past_draft())
        .distinct()
        .order_by(Region.name)
    )
    return [(k, n) for k, n in rows]


async def round_proposals(
    session: AsyncSession, round_id: int, statuses: Sequence[str] | None = None
) -> list[Proposal]:
    """Proposals of the round past the draft stage, or only those of `statuses` among them."""
    stmt = select(Proposal).where(Proposal.round_id == round_id, _past_draft())
    if statuses:
        stmt = stmt.where(Proposal.status.in_(statuses))  # type: ignore[attr-defined]
    rows = await session.execute(stmt.order_by(Proposal.village_kode, Proposal.number))
    return list(rows.scalars())


async def decide(
    session: AsyncSession, proposal_id: int, expected_version: int, values: dict[str, Any]
) -> bool:
    """Change a proposal only if nobody changed it since `expected_version` was read."""
    result = await session.execute(
        update(Proposal)
        .where(Proposal.id == proposal_id, Proposal.version == expected_version)  # type: ignore[arg-type]
        .values(version=Proposal.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def checklist_marks(session: AsyncSession, proposal_id: int) -> dict[str, ChecklistMark]:
    rows = await session.execute(
        select(ChecklistMark).where(ChecklistMark.proposal_id == proposal_id)
    )
    return {m.item: m for m in rows.scalars()}


async def verifications(session: AsyncSession, proposal_id: int) -> list[Verification]:
    rows = await session.execute(
        select(Verification)
        .where(Verification.proposal_id == proposal_id, Verification.status == "saved")
        .order_by(Verification.visited_at, Verification.id)
    )
    return list(rows.scalars())


async def draft_verification(session: AsyncSession, verifier_id: int) -> Verification | None:
    rows = await session.execute(
        select(Verification)
        .where(Verification.verifier_id == verifier_id, Verification.status == "draft")
        .order_by(Verification.id.desc())  # type: ignore[union-attr]
        .limit(1)
    )
    return rows.scalars().first()


async def evidence(session: AsyncSession, owner: str, owner_id: int) -> list[Evidence]:
    rows = await session.execute(
        select(Evidence)
        .where(Evidence.owner == owner, Evidence.owner_id == owner_id)
        .order_by(Evidence.id)
    )
    return list(rows.scalars())


async def count_evidence(session: AsyncSession, owner: str, owner_id: int) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(Evidence)
        .where(Evidence.owner == owner, Evidence.owner_id == owner_id)
    )
    return int(result.scalar_one())


# -- objections --------------------------------------------------------------------------------


async def objection_draft(session: AsyncSession, person_id: int) -> Objection | None:
    rows = await session.execute(
        select(Objection)
        .where(Objection.person_id == person_id, Objection.status == ObjectionStatus.DRAFT)
        .order_by(Objection.id.desc())  # type: ignore[union-attr]
        .limit(1)
    )
    return rows.scalars().first()


async def count_filed(session: AsyncSession, round_id: int, person_id: int) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(Objection)
        .where(
            Objection.round_id == round_id,
            Objection.person_id == person_id,
            _filed(),
        )
    )
    return int(result.scalar_one())


async def objections_of_person(session: AsyncSession, person_id: int) -> list[Objection]:
    rows = await session.execute(
        select(Objection)
        .where(Objection.person_id == person_id, _filed())
        .order_by(Objection.filed_at.desc())  # type: ignore[union-attr]
    )
    return list(rows.scalars())


async def objections_of_proposal(session: AsyncSession, proposal_id: int) -> list[Objection]:
    rows = await session.execute(
        select(Objection)
        .where(Objection.proposal_id == proposal_id, _filed())
        .order_by(Objection.filed_at, Objection.id)
    )
    return list(rows.scalars())


async def objections_of_round(session: AsyncSession, round_id: int) -> list[Objection]:
    rows = await session.execute(
        select(Objection)
        .where(Objection.round_id == round_id, _filed())
        .order_by(Objection.filed_at, Objection.id)
    )
    return list(rows.scalars())


async def objections_of_district(
    session: AsyncSession, district_id: int, only_open: bool
) -> list[Objection]:
    stmt = select(Objection).where(Objection.district_id == district_id, _filed())
    if only_open:
        stmt = stmt.where(Objection.status == ObjectionStatus.FILED)
    rows = await session.execute(stmt.order_by(Objection.filed_at, Objection.id))
    return list(rows.scalars())


async def objections_by_number(
    session: AsyncSession, number: str, person_id: int
) -> list[Objection]:
    """A person's filed objections with this number: one per district at most, since numbers
    are unique only within a district."""
    rows = await session.execute(
        select(Objection)
        .where(Objection.number == number, Objection.person_id == person_id, _filed())
        .order_by(Objection.filed_at, Objection.id)
    )
    return list(rows.scalars())


async def pseudonym_of(session: AsyncSession, district_id: int, person_id: int) -> str | None:
    rows = await session.execute(
        select(Pseudonym.code).where(
            Pseudonym.district_id == district_id, Pseudonym.person_id == person_id
        )
    )
    return rows.scalars().first()


async def claim_pseudonym(
    session: AsyncSession, district_id: int, person_id: int, code: str
) -> str | None:
    """Give the person this code unless they have one or someone in the district has this one;
    returns the person's code after the attempt, None when the code was taken by someone else.
    ON CONFLICT lets a concurrent claim wait for the other transaction instead of failing."""
    await session.execute(
        _insert(session, Pseudonym)
        .values(district_id=district_id, person_id=person_id, code=code)
        .on_conflict_do_nothing()
    )
    return await pseudonym_of(session, district_id, person_id)


async def answer_objection(
    session: AsyncSession, objection_id: int, values: dict[str, Any]
) -> bool:
    """Answer once: a second POKJA member answering the same objection changes nothing."""
    result = await session.execute(
        update(Objection)
        .where(Objection.id == objection_id, Objection.status == ObjectionStatus.FILED)  # type: ignore[arg-type]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def reply_objection(session: AsyncSession, objection_id: int, values: dict[str, Any]) -> bool:
    """The committee's right of reply is used once."""
    result = await session.execute(
        update(Objection)
        .where(Objection.id == objection_id, Objection.reply_at.is_(None))  # type: ignore[union-attr]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def candidate_villages(session: AsyncSession, round_id: int) -> list[tuple[str, str]]:
    rows = await session.execute(
        select(Region.kode, Region.name)
        .join(Proposal, Proposal.village_kode == Region.kode)
        .where(Proposal.round_id == round_id, Proposal.status == ProposalStatus.CANDIDATE)
        .distinct()
        .order_by(Region.name)
    )
    return [(k, n) for k, n in rows]


async def person_names(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Person.id, Person.full_name).where(Person.id.in_(set(ids)))  # type: ignore[union-attr]
    )
    return {i: n for i, n in rows}


async def timeline(session: AsyncSession, subject: str) -> list[AuditEntry]:
    rows = await session.execute(
        select(AuditEntry)
        .where(AuditEntry.subject == subject)
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return list(rows.scalars())


async def last_decision(session: AsyncSession, subject: str) -> AuditEntry | None:
    rows = await session.execute(
        select(AuditEntry)
        .where(AuditEntry.subject == subject, AuditEntry.action.like("proposal.%"))  # type: ignore[attr-defined]
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())  # type: ignore[attr-defined, union-attr]
        .limit(1)
    )
    return rows.scalars().first()


def detail(entry: AuditEntry) -> dict[str, Any]:
    try:
        value = json.loads(entry.detail or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def district_staff(session: AsyncSession, district_id: int) -> list[Person]:
    rows = await session.execute(
        select(Person)
        .join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(
            RoleGrant.district_id == district_id,
            RoleGrant.role.in_(("pokja", "admin")),  # type: ignore[attr-defined]
            RoleGrant.revoked_at.is_(None),  # type: ignore[union-attr]
        )
        .distinct()
        .order_by(Person.id)
    )
    return list(rows.scalars())


async def round_pakem(session: AsyncSession, round_id: int) -> list[tuple[Person, str]]:
    rows = await session.execute(
        select(Person, RoleGrant.village_kode)
        .join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(
            RoleGrant.round_id == round_id,
            RoleGrant.role == "pakem",
            RoleGrant.revoked_at.is_(None),  # type: ignore[union-attr]
        )
        .order_by(Person.id)
    )
    return [(p, v or "") for p, v in rows]


async def proposal_counts(
    session: AsyncSession, round_id: int
) -> tuple[dict[str, int], dict[str, int]]:
    """(open drafts, past-draft proposals) per village; discarded drafts count in neither."""
    rows = await session.execute(
        select(Proposal.village_kode, Proposal.status, func.count())
        .where(Proposal.round_id == round_id)
        .group_by(Proposal.village_kode, Proposal.status)
    )
    drafts: dict[str, int] = {}
    submitted: dict[str, int] = {}
    for village, status, count in rows:
        if status in OPEN_DRAFT:
            target = drafts
        elif status in PAST_DRAFT:
            target = submitted
        else:
            continue
        target[village] = target.get(village, 0) + int(count)
    return drafts, submitted


async def village_names(session: AsyncSession, codes: Sequence[str]) -> list[tuple[str, str]]:
    if not codes:
        return []
    rows = await session.execute(
        select(Region.kode, Region.name).where(Region.kode.in_(codes)).order_by(Region.name)  # type: ignore[attr-defined]
    )
    return [(k, n) for k, n in rows]


async def add_evidence(
    session: AsyncSession,
    owner: str,
    owner_id: int,
    kind: str,
    file_id: str,
    file_unique_id: str,
    file_name: str | None,
    now: datetime,
) -> None:
    session.add(
        Evidence(
            owner=owner,
            owner_id=owner_id,
            kind=kind,
            file_id=file_id,
            file_unique_id=file_unique_id,
            file_name=file_name,
            added_at=now,
        )
    )
    await session.flush()
