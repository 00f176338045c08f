"""Queries for taking roles away and for the limits on what one person can pile up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, Invite, Person, Proposal, RoleGrant
from storage.statuses import OPEN_DRAFT


async def open_drafts(session: AsyncSession, person_id: int, round_id: int) -> int:
    """Drafts this person started in this round and has neither submitted nor discarded."""
    result = await session.execute(
        select(func.count())
        .select_from(Proposal)
        .where(
            Proposal.author_id == person_id,
            Proposal.round_id == round_id,
            Proposal.status.in_(OPEN_DRAFT),  # type: ignore[attr-defined]
        )
    )
    return int(result.scalar_one())


async def open_invites(session: AsyncSession, issuer_id: int, now: datetime) -> int:
    """Invites this person made that nobody has used and that have not expired."""
    result = await session.execute(
        select(func.count())
        .select_from(Invite)
        .where(
            Invite.created_by == issuer_id,
            Invite.used_at.is_(None),  # type: ignore[union-attr]
            Invite.expires_at > now,  # type: ignore[operator]
        )
    )
    return int(result.scalar_one())


async def audit_count_since(
    session: AsyncSession, action: str, actor_id: int, since: datetime
) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == action,
            AuditEntry.actor_id == actor_id,
            AuditEntry.at > since,  # type: ignore[operator]
        )
    )
    return int(result.scalar_one())


async def person_by_handle(session: AsyncSession, handle: str) -> Person | None:
    """A Telegram id ("123456") or a @username, as an operator would type it."""
    handle = handle.strip()
    if handle.lstrip("-").isdecimal() and handle.isascii():
        query = select(Person).where(Person.telegram_id == int(handle))
    else:
        name = handle.removeprefix("@")
        query = select(Person).where(func.lower(Person.username) == name.lower())
    rows = (await session.execute(query.order_by(Person.id))).scalars().all()
    return rows[0] if len(rows) == 1 else None


async def active_grants(
    session: AsyncSession,
    person_id: int,
    role: str,
    district_id: int,
    village_kode: str | None = None,
) -> list[RoleGrant]:
    """The person's unrevoked grants of this role in this district (of this village, if given)."""
    query = select(RoleGrant).where(
        RoleGrant.person_id == person_id,
        RoleGrant.role == role,
        RoleGrant.district_id == district_id,
        RoleGrant.revoked_at.is_(None),  # type: ignore[union-attr]
    )
    if village_kode is not None:
        query = query.where(RoleGrant.village_kode == village_kode)
    return list((await session.execute(query.order_by(RoleGrant.id))).scalars())


async def revoke(session: AsyncSession, grant_ids: list[int], now: datetime) -> int:
    """Set revoked_at once; a grant revoked meanwhile by someone else is not counted again."""
    if not grant_ids:
        return 0
    result = await session.execute(
        update(RoleGrant)
        .where(RoleGrant.id.in_(grant_ids), RoleGrant.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def grants_with_people(
    session: AsyncSession, role: str, district_id: int
) -> list[tuple[RoleGrant, Person]]:
    """Unrevoked grants of a role in a district with their holders, by village, then name."""
    rows = await session.execute(
        select(RoleGrant, Person)
        .join(Person, RoleGrant.person_id == Person.id)
        .where(
            RoleGrant.role == role,
            RoleGrant.district_id == district_id,
            RoleGrant.revoked_at.is_(None),  # type: ignore[union-attr]
        )
        .order_by(RoleGrant.village_kode, Person.full_name, RoleGrant.id)
    )
    return [(g, p) for g, p in rows.all()]


async def withdraw_invites(
    session: AsyncSession, issuer_id: int, district_id: int, now: datetime
) -> int:
    """Let the issuer's unused invites of a district expire now."""
    result = await session.execute(
        update(Invite)
        .where(
            Invite.created_by == issuer_id,
            Invite.district_id == district_id,
            Invite.used_at.is_(None),  # type: ignore[union-attr]
            Invite.expires_at > now,  # type: ignore[operator]
        )
        .values(expires_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
