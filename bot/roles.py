"""Taking a role away (POKJA, PAKEM, admin), with a reason, told to the person and logged.

Every action asks for the person's unrevoked grants at the time of the action, so setting
`revoked_at` is enough for the old buttons of a removed member to stop working at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import announcements, audit, policy
from bot.announcements import Template
from bot.errors import Code, Invalid, NotAllowed, NotFound
from bot.review import check_reason, deny, guard_desk
from storage import queries
from storage import roles as store
from storage.models import Person, RoleGrant
from storage.views import PersonView, Role


def require_may_revoke(actor: PersonView, role: Role, district_id: int) -> None:
    """In the bot, the POKJA removes PAKEM members and an admin removes POKJA members; an admin
    role is taken away only by the operator (`paket-bot revoke`)."""
    if role == Role.PAKEM:
        policy.require_pokja(actor, district_id)
    elif role == Role.POKJA:
        policy.require_admin(actor, district_id)
    else:
        raise NotAllowed(Code.NOT_ADMIN)


@dataclass(frozen=True)
class Revocable:
    """One member as the remover sees them before typing the reason."""

    person_id: int
    full_name: str
    role: Role
    district_id: int
    village_kode: str | None


async def revocable(
    session: AsyncSession, actor: PersonView, grant_id: int, now: datetime
) -> Revocable:
    """May this actor take away this grant now? Asked when "Remove" is pressed, so nobody
    types a reason for nothing, and again when the reason arrives."""
    await guard_desk(session, actor, "role.revoke", now)  # no POKJA role at all: say no more
    grant = await session.get(RoleGrant, grant_id)
    if grant is None:
        raise NotFound(Code.MEMBER)
    role = Role(grant.role)
    try:
        require_may_revoke(actor, role, grant.district_id)
    except NotAllowed as exc:
        raise await deny(
            session, actor, exc, f"role.revoke.{role.value}", f"person:{grant.person_id}", now
        ) from None
    if grant.revoked_at is not None:
        raise NotFound(Code.MEMBER)
    if grant.person_id == actor.id:
        raise Invalid(Code.REVOKE_SELF)
    person = await session.get(Person, grant.person_id)
    assert person is not None
    return Revocable(grant.person_id, person.full_name, role, grant.district_id, grant.village_kode)


@dataclass(frozen=True)
class Revoked:
    person_id: int
    full_name: str
    role: Role
    village_kode: str | None
    grants: int
    notified: int


async def revoke(
    session: AsyncSession,
    district_id: int,
    person: Person,
    role: Role,
    reason: str,
    now: datetime,
    *,
    village_kode: str | None = None,
    actor_id: int | None = None,
    actor_label: str = "",
) -> Revoked:
    """Revoke every unrevoked grant of this role in this district (of one village, if given),
    tell the person in their language through the outbox, and log it. The caller has checked
    that the actor may (the operator always may)."""
    assert person.id is not None
    reason = check_reason(reason)
    grants = await store.active_grants(session, person.id, role.value, district_id, village_kode)
    if not grants:
        raise Invalid(Code.NO_SUCH_ROLE, role=role.value)
    done = await store.revoke(session, [g.id for g in grants if g.id is not None], now)
    if not done:  # another remover was quicker
        raise NotFound(Code.MEMBER)
    villages = sorted({g.village_kode for g in grants if g.village_kode})
    withdrawn = 0
    if role != Role.PAKEM and not await store.active_grants(
        session, person.id, Role.POKJA.value, district_id
    ) + await store.active_grants(session, person.id, Role.ADMIN.value, district_id):
        # No longer staff here: links they handed out must not make anyone POKJA or PAKEM.
        withdrawn = await store.withdraw_invites(session, person.id, district_id, now)
    audit.record(
        session,
        "role.revoke",
        at=now,
        actor_id=actor_id,
        actor_label=actor_label,
        subject=f"person:{person.id}",
        role=role.value,
        district=district_id,
        villages=villages,
        grants=done,
        invites_withdrawn=withdrawn,
        reason=reason,
    )
    names = []
    for kode in villages:
        region = await queries.village(session, kode)
        names.append(region.name if region else kode)
    district = await queries.district_by_id(session, district_id)
    notified = await announcements.notify(
        session,
        district_id,
        Template.ROLE_REVOKED,
        {
            "role": role.value,
            "villages": ", ".join(names),
            "district": district.name if district else "",
            "reason": reason,
        },
        [(person.id, person.telegram_id, villages[0] if len(villages) == 1 else None)],
        now,
    )
    return Revoked(person.id, person.full_name, role, village_kode, done, notified)


async def revoke_in_bot(
    session: AsyncSession, actor: PersonView, grant_id: int, reason: str, now: datetime
) -> Revoked:
    """A POKJA member or admin removes a member from the bot: the same rule as on the press,
    asked again now, then the revocation."""
    target = await revocable(session, actor, grant_id, now)
    person = await session.get(Person, target.person_id)
    assert person is not None
    return await revoke(
        session,
        target.district_id,
        person,
        target.role,
        reason,
        now,
        village_kode=target.village_kode,
        actor_id=actor.id,
    )


@dataclass(frozen=True)
class Member:
    grant_id: int
    full_name: str
    username: str | None
    village_kode: str | None
    village_name: str | None


def removable_roles(actor: PersonView, district_id: int) -> list[Role]:
    """The roles this actor may take away in this district (by `require_may_revoke`)."""
    allowed = []
    for role in (Role.PAKEM, Role.POKJA):
        try:
            require_may_revoke(actor, role, district_id)
        except NotAllowed:
            continue
        allowed.append(role)
    return allowed


async def members(
    session: AsyncSession, actor: PersonView, district_id: int, now: datetime
) -> dict[Role, list[Member]]:
    """The district's current holders of each role this actor may remove (PAKEM for the POKJA,
    POKJA too for an admin); the actor is not listed."""
    allowed = removable_roles(actor, district_id)
    if not allowed:
        raise await deny(
            session,
            actor,
            NotAllowed(Code.NOT_POKJA),
            "role.members",
            f"district:{district_id}",
            now,
        )
    listed: dict[Role, list[Member]] = {}
    for role in allowed:
        result = listed.setdefault(role, [])
        seen: set[tuple[int, str | None]] = set()
        for grant, person in await store.grants_with_people(session, role.value, district_id):
            key = (person.id or 0, grant.village_kode)
            if key in seen or person.id == actor.id:
                continue
            seen.add(key)
            region = (
                await queries.village(session, grant.village_kode) if grant.village_kode else None
            )
            result.append(
                Member(
                    grant.id or 0,
                    person.full_name,
                    person.username,
                    grant.village_kode,
                    region.name if region else None,
                )
            )
    return listed
