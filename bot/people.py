"""People, their language and the roles they receive through one-time invites."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.errors import Code, Invalid, Locked, NotAllowed, NotFound
from bot.i18n import normalize_locale
from storage import fsm as fsm_store
from storage import queries
from storage import roles as roles_store
from storage.models import Invite, Person, RoleGrant
from storage.views import DistrictView, PersonView, Role

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
# One POKJA member made 30 open invites: unused, unexpired invites per issuer are capped.
MAX_OPEN_INVITES = 20
# How stale `last_seen_at` may be: a person who writes often costs no write on every update.
LAST_SEEN_EVERY = timedelta(minutes=10)


def _new_person(
    telegram_id: int,
    full_name: str,
    username: str | None,
    language_code: str | None,
    now: datetime,
    default_locale: str,
) -> Person:
    return Person(
        telegram_id=telegram_id,
        full_name=full_name[:256],
        username=username,
        locale=normalize_locale(language_code, default_locale),
        created_at=now,
        last_seen_at=now,
    )


async def ensure_person(
    session: AsyncSession,
    telegram_id: int,
    full_name: str,
    username: str | None,
    language_code: str | None,
    now: datetime,
    default_locale: str = "id",
) -> Person:
    """Load the person behind a Telegram user, creating them on first contact."""
    person = await queries.person_by_telegram_id(session, telegram_id)
    if person is None:
        person = _new_person(telegram_id, full_name, username, language_code, now, default_locale)
        session.add(person)
        await session.flush()
        return person
    # A person who has written recently needs no write on every update.
    if (now - person.last_seen_at) > LAST_SEEN_EVERY or person.full_name != full_name[:256]:
        person.last_seen_at = now
        person.full_name = full_name[:256]
        person.username = username
    if person.unreachable_at is not None:
        # They wrote to us, so they unblocked the bot: announcements reach them again.
        person.unreachable_at = None
    return person


async def person_of_update(
    session: AsyncSession,
    telegram_id: int,
    full_name: str,
    username: str | None,
    language_code: str | None,
    now: datetime,
    default_locale: str = "id",
    fsm_key: str | None = None,
) -> PersonView:
    """`ensure_person` for the hot path: one read (person and grants, and the chat's FSM
    record when `fsm_key` is given), and a write only when `ensure_person` would write. The
    same rules, without loading ORM objects."""
    seen = await queries.person_for_update(session, telegram_id, fsm_key)
    if seen is None:
        person = _new_person(telegram_id, full_name, username, language_code, now, default_locale)
        session.add(person)
        await session.flush()
        return await queries.person_view(session, person)
    if fsm_key is not None:
        await fsm_store.prime(session, fsm_key, seen.fsm)
    view = seen.view
    name = full_name[:256]
    changes: dict[str, object] = {}
    if (now - seen.last_seen_at) > LAST_SEEN_EVERY or view.full_name != name:
        changes.update(last_seen_at=now, full_name=name, username=username)
    if seen.unreachable_at is not None:
        # They wrote to us, so they unblocked the bot: announcements reach them again.
        changes["unreachable_at"] = None
    if changes:
        await queries.touch_person(session, view.id, **changes)
    return replace(view, full_name=name) if view.full_name != name else view


async def set_locale(session: AsyncSession, person_id: int, locale: str, now: datetime) -> str:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound()
    person.locale = normalize_locale(locale)
    audit.record(session, "person.locale", at=now, actor_id=person_id, locale=person.locale)
    return person.locale


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def clean_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


@dataclass(frozen=True)
class CreatedInvite:
    code: str
    role: Role
    village_kode: str | None
    round_id: int | None
    expires_at: datetime


async def create_invite(
    session: AsyncSession,
    district: DistrictView,
    role: Role,
    now: datetime,
    *,
    days: int,
    village_kode: str | None = None,
    round_id: int | None = None,
    created_by: int | None = None,
    actor_label: str = "",
) -> CreatedInvite:
    """Create a one-time invite. A PAKEM invite belongs to one village in one open round."""
    if role == Role.PAKEM:
        if not village_kode:
            raise Invalid(Code.VILLAGE_REQUIRED)
        region = await queries.village(session, village_kode)
        if region is None or region.district_id != district.id:
            raise Invalid(Code.UNKNOWN_VILLAGE, kode=village_kode)
        if round_id is None:
            rounds = await queries.open_rounds(session, district.id, now)
            if not rounds:
                raise Invalid(Code.NO_OPEN_ROUND)
            if len(rounds) > 1:
                raise Invalid(Code.SEVERAL_ROUNDS, ids=", ".join(str(r.id) for r in rounds))
            round_id = rounds[0].id
        round_view = await queries.round_by_id(session, round_id)
        if round_view is None or round_view.district_id != district.id:
            raise Invalid(Code.UNKNOWN_ROUND, id=round_id)
        if village_kode not in await queries.round_villages(session, round_id):
            raise Invalid(Code.VILLAGE_NOT_IN_ROUND, kode=village_kode)
    elif village_kode or round_id:
        raise Invalid(Code.VILLAGE_ONLY_FOR_PAKEM)
    if created_by is not None and (
        await roles_store.open_invites(session, created_by, now) >= MAX_OPEN_INVITES
    ):
        raise Locked(Code.TOO_MANY_INVITES, max=MAX_OPEN_INVITES)
    expires_at = now + timedelta(days=days)
    code = new_code()
    invite = Invite(
        code=code,
        role=role.value,
        district_id=district.id,
        village_kode=village_kode,
        round_id=round_id,
        created_by=created_by,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(invite)
    await session.flush()
    audit.record(
        session,
        "invite.create",
        at=now,
        actor_id=created_by,
        actor_label=actor_label,
        subject=f"invite:{invite.id}",
        role=role.value,
        village=village_kode,
        round=round_id,
        expires_at=expires_at.isoformat(),
    )
    return CreatedInvite(code, role, village_kode, round_id, expires_at)


@dataclass(frozen=True)
class Redeemed:
    role: Role
    district_id: int
    village_kode: str | None
    round_id: int | None
    already_had: bool


async def redeem_invite(
    session: AsyncSession, person_id: int, raw_code: str, now: datetime
) -> Redeemed:
    """Grant the invite's role. Raises Invalid("invite_unknown"|"invite_used"|"invite_expired")."""
    code = clean_code(raw_code)
    invite = await queries.invite_by_code(session, code) if code else None
    if invite is None:
        raise Invalid(Code.INVITE_UNKNOWN)
    assert invite.id is not None
    if invite.used_at is not None:
        if invite.used_by == person_id:
            return Redeemed(
                Role(invite.role), invite.district_id, invite.village_kode, invite.round_id, True
            )
        raise Invalid(Code.INVITE_USED)
    if invite.expires_at <= now:
        district = await queries.district_by_id(session, invite.district_id)
        raise Invalid(
            Code.INVITE_EXPIRED,
            expired_at=invite.expires_at,
            zone=district.timezone if district else "Asia/Jakarta",
        )
    if not await queries.claim_invite(session, invite.id, person_id, now):
        raise Invalid(Code.INVITE_USED)
    already = await queries.has_grant(
        session, person_id, invite.role, invite.district_id, invite.village_kode, invite.round_id
    )
    if not already:
        session.add(
            RoleGrant(
                person_id=person_id,
                role=invite.role,
                district_id=invite.district_id,
                village_kode=invite.village_kode,
                round_id=invite.round_id,
                invite_id=invite.id,
                granted_at=now,
            )
        )
    audit.record(
        session,
        "role.grant",
        at=now,
        actor_id=person_id,
        subject=f"person:{person_id}",
        role=invite.role,
        village=invite.village_kode,
        round=invite.round_id,
        invite=invite.id,
        code=invite.code,
        already_had=already,
    )
    return Redeemed(
        Role(invite.role), invite.district_id, invite.village_kode, invite.round_id, already
    )


async def invite_by(
    session: AsyncSession,
    person: PersonView,
    district_id: int,
    role: Role,
    now: datetime,
    *,
    village_kode: str | None = None,
    days: int = 7,
) -> CreatedInvite:
    """An invite made in the bot by a POKJA member: POKJA colleagues or a village's PAKEM."""
    from bot.review import guard_pokja

    await guard_pokja(
        session, person, district_id, f"invite.{role.value}", f"district:{district_id}", now
    )
    if role not in (Role.POKJA, Role.PAKEM):
        raise NotAllowed(Code.NOT_ALLOWED)
    district = await queries.district_by_id(session, district_id)
    if district is None:
        raise NotFound()
    return await create_invite(
        session, district, role, now, days=days, village_kode=village_kode, created_by=person.id
    )


async def reload(session: AsyncSession, person: PersonView) -> PersonView:
    """The person with the roles granted since they were loaded; the old view if they are gone."""
    return await queries.person_view_by_id(session, person.id) or person
