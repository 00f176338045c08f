"""Queries: they take a session and return read models, or rows for domain functions to change."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.cache import CACHE, SESSION_VERSION, VERSION_KEY, hold_rows, touches_watched
from storage.models import (
    Attachment,
    BudgetLine,
    District,
    Follow,
    FsmRecord,
    Invite,
    ObjectionCounter,
    Person,
    Proposal,
    ProposalCounter,
    Region,
    RoleGrant,
    Round,
    RoundVillage,
    Setting,
)
from storage.statuses import LIVE, OPEN_DRAFT, PAST_DRAFT, ProposalStatus
from storage.views import (
    AttachmentView,
    DistrictView,
    Grant,
    LineView,
    PersonView,
    ProposalView,
    RegionView,
    Role,
    RoundView,
    VillageView,
)

VILLAGE_LEVELS = ("desa", "kelurahan")


# -- districts and regions ---------------------------------------------------------------------


def district_view(row: District) -> DistrictView:
    assert row.id is not None
    return DistrictView(row.id, row.kode, row.name, row.timezone, row.prefix)


async def districts(session: AsyncSession) -> list[DistrictView]:
    rows = (await session.execute(select(District).order_by(District.kode))).scalars()
    return [district_view(r) for r in rows]


async def district_by_kode(session: AsyncSession, kode: str) -> DistrictView | None:
    row = (
        await session.execute(select(District).where(District.kode == kode))
    ).scalar_one_or_none()
    return district_view(row) if row else None


async def district_by_id(session: AsyncSession, district_id: int) -> DistrictView | None:
    row = await session.get(District, district_id)
    return district_view(row) if row else None


async def village(session: AsyncSession, kode: str) -> Region | None:
    row = await session.get(Region, kode)
    return row if row is not None and row.level in VILLAGE_LEVELS else None


async def region_names(session: AsyncSession, kode: str) -> tuple[str, str]:
    """(village name, kecamatan name) for a village code; codes stand in for missing names."""
    row = await session.get(Region, kode)
    if row is None:
        return kode, ""
    parent = await session.get(Region, row.parent_kode) if row.parent_kode else None
    return row.name, parent.name if parent else ""


async def villages_of(session: AsyncSession, district_id: int) -> list[str]:
    rows = await session.execute(
        select(Region.kode)
        .where(Region.district_id == district_id, Region.level.in_(VILLAGE_LEVELS))
        .order_by(Region.kode)
    )
    return list(rows.scalars())


_KEC = aliased(Region)
_VILLAGES = (
    select(Region.kode, Region.name, Region.level, _KEC.kode, _KEC.name, District.id, District.name)
    .join(_KEC, _KEC.kode == Region.parent_kode)
    .join(District, District.id == Region.district_id)
    .where(Region.level.in_(VILLAGE_LEVELS))  # type: ignore[attr-defined]
)


async def all_villages(session: AsyncSession) -> list[VillageView]:
    rows = await session.execute(_VILLAGES.order_by(Region.name, Region.kode))
    return [VillageView(*row) for row in rows]


async def village_view(session: AsyncSession, kode: str) -> VillageView | None:
    row = (await session.execute(_VILLAGES.where(Region.kode == kode))).first()
    return VillageView(*row) if row else None


async def kecamatan_of(session: AsyncSession, district_id: int) -> list[RegionView]:
    rows = await session.execute(
        select(Region.kode, Region.name)
        .where(Region.district_id == district_id, Region.level == "kecamatan")
        .order_by(Region.name)
    )
    return [RegionView(*row) for row in rows]


async def villages_in(session: AsyncSession, kecamatan_kode: str) -> list[VillageView]:
    rows = await session.execute(
        _VILLAGES.where(Region.parent_kode == kecamatan_kode).order_by(Region.name)
    )
    return [VillageView(*row) for row in rows]


async def region_view(session: AsyncSession, kode: str) -> RegionView | None:
    row = await session.get(Region, kode)
    return RegionView(row.kode, row.name) if row else None


async def add_follow(session: AsyncSession, person_id: int, kode: str, now: datetime) -> bool:
    """Follow a village; False when the person already did."""
    statement = _insert(session, Follow).values(
        person_id=person_id, village_kode=kode, created_at=now
    )
    result = await session.execute(statement.on_conflict_do_nothing())
    return result.rowcount == 1  # type: ignore[attr-defined]


async def remove_follow(session: AsyncSession, person_id: int, kode: str) -> bool:
    result = await session.execute(
        delete(Follow).where(Follow.person_id == person_id, Follow.village_kode == kode)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def followed_villages(session: AsyncSession, person_id: int) -> list[VillageView]:
    rows = await session.execute(
        _VILLAGES.join(Follow, Follow.village_kode == Region.kode)
        .where(Follow.person_id == person_id)
        .order_by(Region.name)
    )
    return [VillageView(*row) for row in rows]


async def set_announcements_muted(session: AsyncSession, person_id: int, muted: bool) -> None:
    await session.execute(
        update(Person).where(Person.id == person_id).values(announcements_muted=muted)
    )


def _insert(session: AsyncSession, table: Any) -> Any:
    """INSERT with ON CONFLICT support on both SQLite and PostgreSQL."""
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


# -- people and roles --------------------------------------------------------------------------


async def person_by_telegram_id(session: AsyncSession, telegram_id: int) -> Person | None:
    result = await session.execute(select(Person).where(Person.telegram_id == telegram_id))
    return result.scalar_one_or_none()


_PERSON = Person.__table__  # type: ignore[attr-defined]
_GRANT = RoleGrant.__table__  # type: ignore[attr-defined]
_SETTING = Setting.__table__  # type: ignore[attr-defined]
# The person, their live grants and the cache stamp (see storage/cache.py) in one statement: the
# one read every update needs. Built once: building it costs more than running it.
_PERSON_WITH_GRANTS = (
    select(
        _PERSON.c.id,
        _PERSON.c.full_name,
        _PERSON.c.username,
        _PERSON.c.locale,
        _PERSON.c.announcements_muted,
        _PERSON.c.unreachable_at,
        _PERSON.c.last_seen_at,
        _GRANT.c.role,
        _GRANT.c.district_id,
        _GRANT.c.village_kode,
        _GRANT.c.round_id,
        select(_SETTING.c.value)
        .where(_SETTING.c.key == VERSION_KEY)
        .scalar_subquery()
        .label("stamp"),
    )
    .select_from(
        _PERSON.outerjoin(
            _GRANT, and_(_GRANT.c.person_id == _PERSON.c.id, _GRANT.c.revoked_at.is_(None))
        )
    )
    .where(_PERSON.c.telegram_id == bindparam("telegram_id"))
    .order_by(_GRANT.c.id)
)
_FSM = FsmRecord.__table__  # type: ignore[attr-defined]
# The same, with the conversation state of the update's chat (the embedded FSM storage):
# aiogram's FSM middleware would read it in a statement of its own right after.
_PERSON_WITH_GRANTS_AND_FSM = _PERSON_WITH_GRANTS.add_columns(
    _FSM.c.key.label("fsm_found"), _FSM.c.state.label("fsm_state"), _FSM.c.data.label("fsm_data")
).outerjoin(_FSM, _FSM.c.key == bindparam("fsm_record"))


@dataclass(frozen=True)
class SeenPerson:
    """The person behind an update, with what decides whether their row needs a write."""

    view: PersonView
    username: str | None
    unreachable_at: datetime | None
    last_seen_at: datetime
    # With `fsm_key`: (state, data) of that FSM record, or None when there is none.
    fsm: tuple[str | None, str] | None = None


async def person_for_update(
    session: AsyncSession, telegram_id: int, fsm_key: str | None = None
) -> SeenPerson | None:
    """The person and their grants, always fresh; also marks the session with the cache stamp,
    so this update may use what other updates cached under the same stamp. With `fsm_key`,
    the chat's FSM record comes in the same statement."""
    if fsm_key is None:
        result = await session.execute(_PERSON_WITH_GRANTS, {"telegram_id": telegram_id})
    else:
        result = await session.execute(
            _PERSON_WITH_GRANTS_AND_FSM, {"telegram_id": telegram_id, "fsm_record": fsm_key}
        )
    rows = result.all()
    if not rows:
        return None
    first = rows[0]
    session.info[SESSION_VERSION] = first.stamp or ""
    hold_rows(session.info)
    grants = tuple(
        Grant(Role(r.role), r.district_id, r.village_kode, r.round_id)
        for r in rows
        if r.role is not None
    )
    view = PersonView(
        first.id, telegram_id, first.full_name, first.locale, grants, first.announcements_muted
    )
    fsm = None
    if fsm_key is not None and first.fsm_found is not None:
        fsm = (first.fsm_state, first.fsm_data)
    return SeenPerson(view, first.username, first.unreachable_at, first.last_seen_at, fsm)


async def touch_person(session: AsyncSession, person_id: int, **values: Any) -> None:
    await session.execute(update(_PERSON).where(_PERSON.c.id == person_id).values(**values))


async def grants_of(session: AsyncSession, person_id: int) -> tuple[Grant, ...]:
    rows = await session.execute(
        select(RoleGrant)
        .where(RoleGrant.person_id == person_id, RoleGrant.revoked_at.is_(None))  # type: ignore[union-attr]
        .order_by(RoleGrant.id)
    )
    return tuple(
        Grant(Role(g.role), g.district_id, g.village_kode, g.round_id) for g in rows.scalars()
    )


async def person_view(session: AsyncSession, person: Person) -> PersonView:
    assert person.id is not None
    grants = await grants_of(session, person.id)
    return PersonView(
        person.id,
        person.telegram_id,
        person.full_name,
        person.locale,
        grants,
        person.announcements_muted,
    )


async def person_view_by_id(session: AsyncSession, person_id: int) -> PersonView | None:
    row = await session.get(Person, person_id)
    return await person_view(session, row) if row else None


async def all_people(session: AsyncSession) -> list[PersonView]:
    rows = (await session.execute(select(Person).order_by(Person.id))).scalars().all()
    return [await person_view(session, p) for p in rows]


async def pakem_members(session: AsyncSession, round_id: int, village_kode: str) -> list[Person]:
    rows = await session.execute(
        select(Person)
        .join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(
            RoleGrant.role == Role.PAKEM.value,
            RoleGrant.round_id == round_id,
            RoleGrant.village_kode == village_kode,
            RoleGrant.revoked_at.is_(None),  # type: ignore[union-attr]
        )
        .distinct()
        .order_by(Person.id)
    )
    return list(rows.scalars())


async def has_grant(
    session: AsyncSession,
    person_id: int,
    role: str,
    district_id: int,
    village_kode: str | None,
    round_id: int | None,
) -> bool:
    row = await session.execute(
        select(RoleGrant.id).where(
            RoleGrant.person_id == person_id,
            RoleGrant.role == role,
            RoleGrant.district_id == district_id,
            _same(RoleGrant.village_kode, village_kode),
            _same(RoleGrant.round_id, round_id),
            RoleGrant.revoked_at.is_(None),  # type: ignore[union-attr]
        )
    )
    return row.first() is not None


def _same(column: Any, value: object) -> Any:
    """Equality that treats None as SQL NULL."""
    return column.is_(None) if value is None else column == value


async def invite_by_code(session: AsyncSession, code: str) -> Invite | None:
    result = await session.execute(select(Invite).where(Invite.code == code))
    return result.scalar_one_or_none()


async def claim_invite(
    session: AsyncSession, invite_id: int, person_id: int, now: datetime
) -> bool:
    """Mark an invite used; False when another person claimed it first."""
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.used_at.is_(None))  # type: ignore[union-attr]
        .values(used_at=now, used_by=person_id)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


# -- rounds ------------------------------------------------------------------------------------


def round_from_row(row: Round, zone: str) -> RoundView:
    assert row.id is not None
    return RoundView(
        row.id,
        row.district_id,
        row.name,
        row.year,
        row.submission_deadline,
        row.ceiling,
        zone,
        row.reminder_offsets,
        review_start=row.review_start,
        review_end=row.review_end,
        clarify_start=row.clarify_start,
        clarify_end=row.clarify_end,
        final_at=row.final_at,
        swadaya_min_pct=row.swadaya_min_pct,
        checklist=tuple(json.loads(row.checklist)) if row.checklist else (),
        candidates_published_at=row.candidates_published_at,
        winners_published_at=row.winners_published_at,
    )


async def round_view(session: AsyncSession, row: Round) -> RoundView:
    district = await session.get(District, row.district_id)
    return round_from_row(row, district.timezone if district else "Asia/Jakarta")


async def round_by_id(session: AsyncSession, round_id: int) -> RoundView | None:
    key = ("round", round_id)
    cached: RoundView | None = _cached(session, key)
    if cached is not None:
        return cached
    row = await session.get(Round, round_id)
    if row is None:
        return None
    view = await round_view(session, row)
    _keep(session, key, view)
    return view


def _cached(session: AsyncSession, key: Any) -> Any:
    """A cached value, unless this transaction changed a round or a place and has not flushed
    yet: then it must read its own change, as the identity map would give it."""
    if touches_watched(session.sync_session):
        return None
    return CACHE.get(session.info, key)


def _keep(session: AsyncSession, key: Any, value: Any) -> None:
    """Cache a value unless this transaction has unflushed changes it may reflect."""
    if not touches_watched(session.sync_session):
        CACHE.put(session.info, key, value)


async def rounds_of(session: AsyncSession, district_id: int) -> list[RoundView]:
    rows = (
        await session.execute(
            select(Round).where(Round.district_id == district_id).order_by(Round.id)
        )
    ).scalars()
    return [await round_view(session, r) for r in rows]


async def open_rounds(session: AsyncSession, district_id: int, now: datetime) -> list[RoundView]:
    return [r for r in await rounds_of(session, district_id) if r.submission_open(now)]


async def round_villages(session: AsyncSession, round_id: int) -> set[str]:
    rows = await session.execute(
        select(RoundVillage.village_kode).where(RoundVillage.round_id == round_id)
    )
    return set(rows.scalars())


async def next_number(
    session: AsyncSession,
    counter: type[ProposalCounter] | type[ObjectionCounter],
    district_id: int,
    year: int,
) -> int:
    """Bump and return a district's counter for the year. The row is made when missing without
    ever failing on a concurrent first number, and the UPDATE holds its lock until commit."""
    await session.execute(
        _insert(session, counter)
        .values(district_id=district_id, year=year, last=0)
        .on_conflict_do_nothing()
    )
    where = (counter.district_id == district_id, counter.year == year)
    await session.execute(
        update(counter)
        .where(*where)
        .values(last=counter.last + 1)
        .execution_options(synchronize_session=False)
    )
    value = await session.execute(select(counter.last).where(*where))
    return int(value.scalar_one())


async def next_proposal_number(session: AsyncSession, district_id: int, year: int) -> int:
    return await next_number(session, ProposalCounter, district_id, year)


# -- proposals ---------------------------------------------------------------------------------


async def proposal_lines(session: AsyncSession, proposal_id: int) -> list[BudgetLine]:
    rows = await session.execute(
        select(BudgetLine)
        .where(BudgetLine.proposal_id == proposal_id)
        .order_by(BudgetLine.position, BudgetLine.id)
    )
    return list(rows.scalars())


async def proposal_attachments(session: AsyncSession, proposal_id: int) -> list[Attachment]:
    rows = await session.execute(
        select(Attachment).where(Attachment.proposal_id == proposal_id).order_by(Attachment.id)
    )
    return list(rows.scalars())


async def count_attachments(session: AsyncSession, proposal_id: int) -> int:
    result = await session.execute(
        select(func.count()).select_from(Attachment).where(Attachment.proposal_id == proposal_id)
    )
    return int(result.scalar_one())


_VILLAGE, _KECAMATAN = aliased(Region), aliased(Region)
# Built once: constructing this four-way select costs more than running it.
_HEADER = (
    select(Round, District.timezone, _VILLAGE.name, _KECAMATAN.name)
    .join(District, District.id == Round.district_id)
    .outerjoin(_VILLAGE, _VILLAGE.kode == bindparam("village"))
    .outerjoin(_KECAMATAN, _KECAMATAN.kode == _VILLAGE.parent_kode)
    .where(Round.id == bindparam("round_id"))
)


async def _proposal_header(
    session: AsyncSession, round_id: int, village_kode: str
) -> tuple[RoundView, str | None, str | None]:
    """The round and the village's names: they change only with the calendar or a region
    import, so they come from the cache when the stamp allows."""
    key = ("header", round_id, village_kode)
    cached: tuple[RoundView, str | None, str | None] | None = _cached(session, key)
    if cached is not None:
        return cached
    header = (await session.execute(_HEADER, {"round_id": round_id, "village": village_kode})).one()
    round_row, zone, village_name, kecamatan_name = header
    value = (round_from_row(round_row, zone), village_name, kecamatan_name)
    _keep(session, key, value)
    return value


async def proposal_view(session: AsyncSession, row: Proposal) -> ProposalView:
    assert row.id is not None
    round_view, village_name, kecamatan_name = await _proposal_header(
        session, row.round_id, row.village_kode
    )
    lines = [
        LineView(
            line.id or 0,
            line.position,
            line.item,
            line.volume_milli,
            line.unit,
            line.unit_price,
            line.source,
            line.complete,
        )
        for line in await proposal_lines(session, row.id)
    ]
    attachments = [
        AttachmentView(a.id or 0, a.kind, a.file_id, a.file_name)
        for a in await proposal_attachments(session, row.id)
    ]
    return ProposalView(
        id=row.id,
        round=round_view,
        village_kode=row.village_kode,
        village_name=village_name or row.village_kode,
        kecamatan_name=kecamatan_name or "",
        author_id=row.author_id,
        status=row.status,
        step=row.step,
        return_to_review=row.return_to_review,
        number=row.number,
        title=row.title,
        activity=row.activity,
        location_name=row.location_name,
        latitude=row.latitude,
        longitude=row.longitude,
        problem=row.problem,
        households=row.households,
        poor_households=row.poor_households,
        editing_line_id=row.editing_line_id,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        resubmitted_at=row.resubmitted_at,
        lines=tuple(lines),
        attachments=tuple(attachments),
        version=row.version,
        revision_deadline=row.revision_deadline,
        revision_note=row.revision_note,
    )


def _live() -> Any:
    return Proposal.status.in_(LIVE)  # type: ignore[attr-defined]


def _past_draft() -> Any:
    return Proposal.status.in_(PAST_DRAFT)  # type: ignore[attr-defined]


async def proposals_of_author(session: AsyncSession, person_id: int) -> list[Proposal]:
    """A person's drafts and proposals, newest first; discarded drafts are gone."""
    rows = await session.execute(
        select(Proposal)
        .where(Proposal.author_id == person_id, _live())
        .order_by(Proposal.updated_at.desc())  # type: ignore[attr-defined]
    )
    return list(rows.scalars())


async def proposals_of_villages(
    session: AsyncSession, pairs: Sequence[tuple[int, str]]
) -> list[Proposal]:
    """Drafts and proposals of the given (round, village) committees, newest first; discarded
    drafts are gone."""
    if not pairs:
        return []
    from sqlalchemy import and_, or_

    rows = await session.execute(
        select(Proposal)
        .where(
            or_(*(and_(Proposal.round_id == r, Proposal.village_kode == v) for r, v in pairs)),
            _live(),
        )
        .order_by(Proposal.updated_at.desc())  # type: ignore[attr-defined]
    )
    return list(rows.scalars())


async def count_submitted(session: AsyncSession, round_id: int) -> int:
    """Proposals of the round past the draft stage."""
    result = await session.execute(
        select(func.count())
        .select_from(Proposal)
        .where(Proposal.round_id == round_id, _past_draft())
    )
    return int(result.scalar_one())


async def discard_draft(session: AsyncSession, proposal_id: int, now: datetime) -> bool:
    """Mark a draft discarded if it still is an open draft; False when it no longer was."""
    result = await session.execute(
        update(Proposal)
        .where(Proposal.id == proposal_id, Proposal.status.in_(OPEN_DRAFT))  # type: ignore[attr-defined, arg-type]
        .values(status=ProposalStatus.DISCARDED.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


# -- settings ----------------------------------------------------------------------------------


async def get_setting(session: AsyncSession, key: str) -> str | None:
    row = await session.get(Setting, key)
    return row.value if row else None


async def put_setting(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


async def setting_once(session: AsyncSession, key: str, value: str) -> str:
    """Store `value` under `key` unless a value is there already; return the one that stays.

    INSERT ... ON CONFLICT DO NOTHING, then a read: of two instances starting together, the
    second waits on the first's row and then reads it, so both end with the same value.
    """
    await session.execute(
        _insert(session, Setting).values(key=key, value=value).on_conflict_do_nothing()
    )
    stored = (await session.execute(select(Setting.value).where(Setting.key == key))).scalar_one()
    return str(stored)
