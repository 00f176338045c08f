"""Queries of the outbound side: audiences, broadcasts, the outbox and reminder marks.

Audiences are expanded inside the database (INSERT ... SELECT), so queueing an announcement
for 100,000 followers never loads them into Python.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, literal, select, true, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Broadcast,
    District,
    Follow,
    Outbox,
    Person,
    Proposal,
    Region,
    ReminderMark,
    RoleGrant,
    Round,
)
from storage.queries import _insert
from storage.statuses import (
    OPEN_DRAFT,
    PAST_DRAFT,
    AnnouncementStep,
    BroadcastKind,
    BroadcastStatus,
    ProposalStatus,
)
from storage.types import UTCDateTime
from storage.views import (
    BroadcastView,
    ClaimedRow,
    DeliveryCounts,
    Outcome,
    Role,
    Scope,
    VillageCounts,
)

OPEN = ("pending", "sending")
FINAL = ("sent", "blocked", "failed")


# -- broadcasts --------------------------------------------------------------------------------


def _view(row: Broadcast, district: District) -> BroadcastView:
    assert row.id is not None and district.id is not None
    audience = json.loads(row.audience or "{}")
    scope = audience.get("scope")
    return BroadcastView(
        id=row.id,
        district_id=district.id,
        district_name=district.name,
        timezone=district.timezone,
        kind=BroadcastKind(row.kind),
        status=BroadcastStatus(row.status),
        step=AnnouncementStep(row.step),
        author_id=row.author_id,
        body=row.body,
        media_kind=row.media_kind,
        media_file_id=row.media_file_id,
        template=row.template,
        params=json.loads(row.params or "{}"),
        scope=Scope(scope) if scope in Scope.__members__.values() else None,
        codes=tuple(audience.get("codes", ())),
        total=row.total,
        created_at=row.created_at,
        queued_at=row.queued_at,
        finished_at=row.finished_at,
        progress_chat_id=row.progress_chat_id,
        progress_message_id=row.progress_message_id,
    )


async def broadcast_view(session: AsyncSession, broadcast_id: int) -> BroadcastView | None:
    row = (
        await session.execute(
            select(Broadcast, District)
            .join(District, District.id == Broadcast.district_id)
            .where(Broadcast.id == broadcast_id)
        )
    ).first()
    return _view(*row) if row else None


async def broadcast_row(
    session: AsyncSession, broadcast_id: int, *, lock: bool = False
) -> Broadcast | None:
    stmt = select(Broadcast).where(Broadcast.id == broadcast_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def draft_of(session: AsyncSession, author_id: int) -> Broadcast | None:
    """The author's unfinished announcement, if any: one at a time, resumed where it was."""
    return (
        await session.execute(
            select(Broadcast)
            .where(
                Broadcast.author_id == author_id,
                Broadcast.kind == BroadcastKind.ANNOUNCEMENT,
                Broadcast.status == BroadcastStatus.DRAFT,
            )
            .order_by(Broadcast.id.desc())  # type: ignore[union-attr]
            .limit(1)
        )
    ).scalar_one_or_none()


async def recent_broadcasts(
    session: AsyncSession, district_ids: Sequence[int], limit: int = 10
) -> list[BroadcastView]:
    rows = await session.execute(
        select(Broadcast, District)
        .join(District, District.id == Broadcast.district_id)
        .where(
            Broadcast.district_id.in_(district_ids),  # type: ignore[attr-defined]
            Broadcast.kind.in_((BroadcastKind.ANNOUNCEMENT, BroadcastKind.EVENT)),  # type: ignore[attr-defined]
            Broadcast.status.in_((BroadcastStatus.QUEUED, BroadcastStatus.DONE)),  # type: ignore[attr-defined]
        )
        .order_by(Broadcast.id.desc())  # type: ignore[union-attr]
        .limit(limit)
    )
    return [_view(b, d) for b, d in rows]


async def received_broadcasts(
    session: AsyncSession, person_id: int, limit: int = 10
) -> list[BroadcastView]:
    """Announcements that reached this person, newest first."""
    rows = await session.execute(
        select(Broadcast, District)
        .join(District, District.id == Broadcast.district_id)
        .join(Outbox, Outbox.broadcast_id == Broadcast.id)
        .where(
            Outbox.person_id == person_id,
            Outbox.status == "sent",
            Broadcast.kind.in_((BroadcastKind.ANNOUNCEMENT, BroadcastKind.EVENT)),  # type: ignore[attr-defined]
        )
        .order_by(Broadcast.id.desc())  # type: ignore[union-attr]
        .limit(limit)
    )
    return [_view(b, d) for b, d in rows]


async def active_broadcasts(session: AsyncSession) -> list[BroadcastView]:
    """Queued broadcasts someone watches a progress message of."""
    rows = await session.execute(
        select(Broadcast, District)
        .join(District, District.id == Broadcast.district_id)
        .where(Broadcast.status == BroadcastStatus.QUEUED)
        .order_by(Broadcast.id)
    )
    return [_view(b, d) for b, d in rows]


async def claim_progress(
    session: AsyncSession, broadcast_id: int, now: datetime, every: float
) -> bool:
    """Take the right to edit this progress message now; false when another sender just did."""
    from datetime import timedelta

    result = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.status == BroadcastStatus.QUEUED,
            (Broadcast.progress_at.is_(None))  # type: ignore[union-attr]
            | (Broadcast.progress_at <= now - timedelta(seconds=every)),  # type: ignore[operator]
        )
        .values(progress_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def finish_broadcast(session: AsyncSession, broadcast_id: int, now: datetime) -> bool:
    """Mark a broadcast done once; the one caller that wins queues the final report.

    `progress_at` goes back to empty: on a done broadcast it means the final edit of its
    progress message is still owed (see `final_edits_owed`).
    """
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.QUEUED)
        .values(status=BroadcastStatus.DONE, finished_at=now, progress_at=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def final_edits_owed(session: AsyncSession, since: datetime) -> list[BroadcastView]:
    """Done broadcasts, finished since then, whose progress message does not show the end yet."""
    rows = await session.execute(
        select(Broadcast, District)
        .join(District, District.id == Broadcast.district_id)
        .where(
            Broadcast.status == BroadcastStatus.DONE,
            Broadcast.progress_message_id.is_not(None),  # type: ignore[union-attr]
            Broadcast.progress_at.is_(None),  # type: ignore[union-attr]
            Broadcast.finished_at >= since,  # type: ignore[operator]
        )
        .order_by(Broadcast.id)
    )
    return [_view(b, d) for b, d in rows]


async def claim_final_edit(session: AsyncSession, broadcast_id: int, now: datetime) -> bool:
    """Take the final edit of a progress message; false when another sender has it."""
    result = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.status == BroadcastStatus.DONE,
            Broadcast.progress_at.is_(None),  # type: ignore[union-attr]
        )
        .values(progress_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release_final_edit(session: AsyncSession, broadcast_id: int) -> None:
    """The final edit met a passing fault: owe it again, for the next progress tick."""
    await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.DONE)
        .values(progress_at=None)
    )


async def forget_progress_message(session: AsyncSession, broadcast_id: int) -> None:
    """The progress message can no longer be edited (deleted, chat gone): stop trying."""
    await session.execute(
        update(Broadcast).where(Broadcast.id == broadcast_id).values(progress_message_id=None)
    )


PROGRESS_TEXT = "progress_text"


async def remember_progress(session: AsyncSession, broadcast_id: int, text: str) -> None:
    """Keep what the progress message shows now, so that an unchanged text is never sent again
    (Telegram refuses it: "message is not modified"). Kept in `params`, shared by all senders."""
    row = await session.get(Broadcast, broadcast_id)
    if row is None:
        return
    params = json.loads(row.params or "{}")
    params[PROGRESS_TEXT] = text
    row.params = json.dumps(params, ensure_ascii=False)


# -- audiences ---------------------------------------------------------------------------------


async def place_in_district(
    session: AsyncSession, kode: str, district_id: int, levels: Sequence[str]
) -> Region | None:
    """A region of one of these levels inside this district, or None (unknown, elsewhere, or
    another level: a kecamatan is not a village and a village is not a kecamatan)."""
    return (
        await session.execute(
            select(Region).where(
                Region.kode == kode,
                Region.district_id == district_id,
                Region.level.in_(levels),  # type: ignore[attr-defined]
            )
        )
    ).scalar_one_or_none()


def audience_select(district_id: int, scope: Scope, codes: Sequence[str]) -> Select[Any]:
    """(person_id, chat_id, village_kode) of everyone an announcement reaches, once each.

    Followers of the chosen villages plus the committees (PAKEM) sitting in them; people who
    muted announcements or blocked the bot are left out. The village is the one through which
    a person is reached, for the per-village report.
    """
    village = Region.__table__.alias("village")
    follows = (
        select(Follow.person_id.label("person_id"), Follow.village_kode.label("village_kode"))  # type: ignore[attr-defined]
        .join(village, village.c.kode == Follow.village_kode)
        .where(village.c.district_id == district_id)
    )
    grants = select(
        RoleGrant.person_id.label("person_id"),  # type: ignore[attr-defined]
        RoleGrant.village_kode.label("village_kode"),  # type: ignore[union-attr]
    ).where(RoleGrant.district_id == district_id, RoleGrant.revoked_at.is_(None))  # type: ignore[union-attr]
    pakem = grants.where(RoleGrant.role == Role.PAKEM.value)
    if scope == Scope.DISTRICT:
        parts = [follows, grants]
    elif scope == Scope.KECAMATAN:
        in_kecamatan = select(Region.kode).where(Region.parent_kode.in_(codes))  # type: ignore[union-attr]
        parts = [
            follows.where(village.c.parent_kode.in_(codes)),
            pakem.where(RoleGrant.village_kode.in_(in_kecamatan)),  # type: ignore[union-attr]
        ]
    elif scope == Scope.VILLAGES:
        parts = [
            follows.where(Follow.village_kode.in_(codes)),  # type: ignore[attr-defined]
            pakem.where(RoleGrant.village_kode.in_(codes)),  # type: ignore[union-attr]
        ]
    elif scope == Scope.PAKEM:
        parts = [pakem]
    else:
        parts = [grants.where(RoleGrant.role.in_((Role.POKJA.value, Role.ADMIN.value)))]  # type: ignore[attr-defined]
    everyone = union_all(*parts).subquery("everyone")
    once = (
        select(everyone.c.person_id, func.min(everyone.c.village_kode).label("village_kode"))
        .group_by(everyone.c.person_id)
        .subquery("once")
    )
    return (
        select(once.c.person_id, Person.telegram_id, once.c.village_kode)
        .join(Person, Person.id == once.c.person_id)
        .where(
            Person.unreachable_at.is_(None),  # type: ignore[union-attr]
            Person.announcements_muted.is_(False),  # type: ignore[attr-defined]
        )
    )


async def count_union(
    session: AsyncSession, district_id: int, parts: Sequence[tuple[Scope, Sequence[str]]]
) -> int:
    """People reached by several audiences together, each counted once."""
    subs = [audience_select(district_id, scope, codes).subquery() for scope, codes in parts]
    union = union_all(*(select(sub.c.person_id) for sub in subs)).subquery()
    distinct = select(union.c[0]).distinct().subquery()
    return int((await session.execute(select(func.count()).select_from(distinct))).scalar_one())


async def count_audience(
    session: AsyncSession, district_id: int, scope: Scope, codes: Sequence[str]
) -> int:
    sub = audience_select(district_id, scope, codes).subquery()
    return int((await session.execute(select(func.count()).select_from(sub))).scalar_one())


async def queue_audience(
    session: AsyncSession,
    broadcast_id: int,
    district_id: int,
    scope: Scope,
    codes: Sequence[str],
    now: datetime,
) -> int:
    """Write one outbox row per recipient, in the caller's transaction; returns how many."""
    audience = audience_select(district_id, scope, codes).subquery()
    rows = select(
        literal(broadcast_id),
        audience.c.person_id,
        audience.c.telegram_id,
        audience.c.village_kode,
        literal("pending"),
        literal(0),
        literal(now, UTCDateTime()),
    ).where(true())  # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT
    stmt = (
        _insert(session, Outbox)
        .from_select(
            [
                "broadcast_id",
                "person_id",
                "chat_id",
                "village_kode",
                "status",
                "attempts",
                "not_before",
            ],
            rows,
        )
        .on_conflict_do_nothing()
    )
    await session.execute(stmt)
    return await count_rows(session, broadcast_id)


async def queue_people(
    session: AsyncSession,
    broadcast_id: int,
    recipients: Iterable[tuple[int, int, str | None, dict[str, Any] | None]],
    now: datetime,
) -> int:
    """Queue named people: (person_id, chat_id, village_kode, payload). Never muted: these
    messages are about the person's own work."""
    values = [
        {
            "broadcast_id": broadcast_id,
            "person_id": person_id,
            "chat_id": chat_id,
            "village_kode": village,
            "payload": json.dumps(payload, ensure_ascii=False) if payload is not None else None,
            "status": "pending",
            "attempts": 0,
            "not_before": now,
        }
        for person_id, chat_id, village, payload in recipients
    ]
    if values:
        await session.execute(_insert(session, Outbox).on_conflict_do_nothing(), values)
    return await count_rows(session, broadcast_id)


async def count_rows(session: AsyncSession, broadcast_id: int) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).select_from(Outbox).where(Outbox.broadcast_id == broadcast_id)
            )
        ).scalar_one()
    )


# -- the sender's side -------------------------------------------------------------------------


async def release_stale_claims(session: AsyncSession, older_than: datetime | None) -> int:
    """Rows left in `sending` by a sender that died go back to `pending` (sent again).

    `older_than=None` releases every claim: only right when this is the only sender (SQLite).
    """
    stmt = update(Outbox).where(Outbox.status == "sending")
    if older_than is not None:
        stmt = stmt.where(Outbox.claimed_at < older_than)  # type: ignore[operator]
    result = await session.execute(stmt.values(status="pending", claimed_at=None))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def claim(session: AsyncSession, limit: int, now: datetime) -> list[ClaimedRow]:
    """Take up to `limit` due rows. On PostgreSQL several senders share the work without
    waiting on each other (SKIP LOCKED); SQLite has one sender."""
    due = (
        select(Outbox.id)
        .where(Outbox.status == "pending", Outbox.not_before <= now)  # type: ignore[operator]
        .order_by(Outbox.id)
        .limit(limit)
    )
    if session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    result = await session.execute(
        update(Outbox)
        .where(Outbox.id.in_(due.scalar_subquery()))  # type: ignore[union-attr]
        .values(status="sending", claimed_at=now)
        .returning(
            Outbox.id,
            Outbox.broadcast_id,
            Outbox.person_id,
            Outbox.chat_id,
            Outbox.payload,
            Outbox.attempts,
        )
    )
    rows = result.all()
    if not rows:
        return []
    locales = dict(
        (
            await session.execute(
                select(Person.id, Person.locale).where(
                    Person.id.in_({r.person_id for r in rows})  # type: ignore[union-attr]
                )
            )
        ).all()
    )
    return sorted(
        (
            ClaimedRow(
                id=r.id,
                broadcast_id=r.broadcast_id,
                person_id=r.person_id,
                chat_id=r.chat_id,
                locale=locales.get(r.person_id, "id"),
                payload=json.loads(r.payload) if r.payload else None,
                attempts=r.attempts,
            )
            for r in rows
        ),
        key=lambda r: r.id,
    )


_table = Outbox.__table__  # type: ignore[attr-defined]


async def record_outcomes(
    session: AsyncSession, outcomes: Sequence[Outcome], now: datetime
) -> None:
    """Write a batch of results with one statement per kind of result (executemany)."""
    sent = [{"oid": o.id, "mid": o.message_id} for o in outcomes if o.status == "sent"]
    if sent:
        await session.execute(
            _table.update()
            .where(_table.c.id == bindparam("oid"))
            .values(status="sent", message_id=bindparam("mid"), sent_at=now, error=None),
            sent,
        )
    final = [
        {"oid": o.id, "st": o.status, "err": (o.error or "")[:256]}
        for o in outcomes
        if o.status in ("blocked", "failed")
    ]
    if final:
        await session.execute(
            _table.update()
            .where(_table.c.id == bindparam("oid"))
            .values(status=bindparam("st"), error=bindparam("err"), attempts=_table.c.attempts + 1),
            final,
        )
    retry = [
        {
            "oid": o.id,
            "nb": o.retry_at,
            "err": (o.error or "")[:256],
            "inc": int(o.status == "retry"),
        }
        for o in outcomes
        if o.status in ("retry", "later")
    ]
    if retry:
        await session.execute(
            _table.update()
            .where(_table.c.id == bindparam("oid"))
            .values(
                status="pending",
                claimed_at=None,
                not_before=bindparam("nb", type_=UTCDateTime()),
                error=bindparam("err"),
                attempts=_table.c.attempts + bindparam("inc"),
            ),
            retry,
        )
    blocked_people = {o.person_id for o in outcomes if o.status == "blocked" and o.person_id}
    if blocked_people:
        await mark_unreachable(session, blocked_people, now)


async def record_parts(session: AsyncSession, payloads: dict[int, dict[str, Any]]) -> None:
    """Keep how many messages of a multi-message row were delivered before a fault, so that
    its retry sends only the rest."""
    for outbox_id, payload in payloads.items():
        await session.execute(
            update(Outbox)
            .where(Outbox.id == outbox_id)
            .values(payload=json.dumps(payload, ensure_ascii=False))
        )


async def mark_unreachable(session: AsyncSession, person_ids: set[int], now: datetime) -> None:
    """Stop queueing to people Telegram refuses (403) and settle what was still queued."""
    await session.execute(
        update(Person)
        .where(Person.id.in_(person_ids), Person.unreachable_at.is_(None))  # type: ignore[union-attr]
        .values(unreachable_at=now)
    )
    await session.execute(
        update(Outbox)
        .where(Outbox.person_id.in_(person_ids), Outbox.status == "pending")  # type: ignore[attr-defined]
        .values(status="blocked", error="unreachable")
    )


async def mark_reachable(session: AsyncSession, person_id: int) -> None:
    await session.execute(
        update(Person)
        .where(Person.id == person_id, Person.unreachable_at.is_not(None))  # type: ignore[union-attr]
        .values(unreachable_at=None)
    )


async def delivery_counts(session: AsyncSession, broadcast_id: int) -> DeliveryCounts:
    rows = await session.execute(
        select(Outbox.status, func.count())
        .where(Outbox.broadcast_id == broadcast_id)
        .group_by(Outbox.status)
    )
    return DeliveryCounts(**{status: n for status, n in rows.all() if status in _STATUSES})


_STATUSES = frozenset(("pending", "sending", "sent", "blocked", "failed"))


async def counts_by_village(session: AsyncSession, broadcast_id: int) -> list[VillageCounts]:
    rows = await session.execute(
        select(Outbox.village_kode, Region.name, Outbox.status, func.count())
        .outerjoin(Region, Region.kode == Outbox.village_kode)
        .where(Outbox.broadcast_id == broadcast_id)
        .group_by(Outbox.village_kode, Region.name, Outbox.status)
    )
    grouped: dict[str | None, tuple[str | None, dict[str, int]]] = {}
    for kode, name, status, n in rows.all():
        grouped.setdefault(kode, (name, {}))[1][status] = n
    return sorted(
        (
            VillageCounts(
                kode,
                name,
                DeliveryCounts(**{s: n for s, n in c.items() if s in _STATUSES}),
            )
            for kode, (name, c) in grouped.items()
        ),
        key=lambda v: (v.name is None, v.name or ""),
    )


async def pending_exists(session: AsyncSession) -> bool:
    row = await session.execute(select(Outbox.id).where(Outbox.status == "pending").limit(1))
    return row.first() is not None


async def outbox_depth(session: AsyncSession) -> int:
    """Messages still to send: queued, or claimed by a sender that has not reported yet."""
    found = await session.execute(
        select(func.count()).select_from(Outbox).where(Outbox.status.in_(OPEN))
    )
    return int(found.scalar_one())


async def acknowledge(
    session: AsyncSession, outbox_id: int, person_id: int, now: datetime
) -> bool | None:
    """Set the acknowledgement once. None: not this person's reminder."""
    row = await session.get(Outbox, outbox_id)
    if row is None or row.person_id != person_id:
        return None
    if row.acked_at is not None:
        return False
    row.acked_at = now
    return True


# -- reminder marks ----------------------------------------------------------------------------


async def insert_marks(
    session: AsyncSession, marks: Sequence[tuple[str, int]], day: str, now: datetime
) -> set[tuple[str, int]]:
    """Insert (key, person) marks; returns the ones this caller inserted (won)."""
    if not marks:
        return set()
    won: set[tuple[str, int]] = set()
    for key, person_id in marks:
        result = await session.execute(
            _insert(session, ReminderMark)
            .values(key=key, person_id=person_id, day=day, marked_at=now)
            .on_conflict_do_nothing()
        )
        if result.rowcount:  # type: ignore[attr-defined]
            won.add((key, person_id))
    return won


async def attach_marks(
    session: AsyncSession, marks: Iterable[tuple[str, int]], broadcast_id: int
) -> None:
    for key, person_id in marks:
        await session.execute(
            update(ReminderMark)
            .where(ReminderMark.key == key, ReminderMark.person_id == person_id)
            .values(broadcast_id=broadcast_id)
        )


async def marked(session: AsyncSession, keys: Sequence[str]) -> set[tuple[str, int]]:
    if not keys:
        return set()
    rows = await session.execute(
        select(ReminderMark.key, ReminderMark.person_id).where(ReminderMark.key.in_(keys))  # type: ignore[attr-defined]
    )
    return {(k, p) for k, p in rows.all()}


async def reminded_on(session: AsyncSession, person_ids: Sequence[int], day: str) -> set[int]:
    """People who already got a reminder message on this local day."""
    if not person_ids:
        return set()
    rows = await session.execute(
        select(ReminderMark.person_id)
        .where(ReminderMark.person_id.in_(person_ids), ReminderMark.day == day)  # type: ignore[attr-defined]
        .distinct()
    )
    return set(rows.scalars())


async def delete_broadcast(session: AsyncSession, broadcast_id: int) -> None:
    await session.execute(delete(Broadcast).where(Broadcast.id == broadcast_id))


# -- committees and reminders ------------------------------------------------------------------


@dataclass(frozen=True)
class CommitteeMember:
    person_id: int
    chat_id: int
    full_name: str
    village_kode: str
    village_name: str
    submitted: int
    drafts: int


async def committee_progress(session: AsyncSession, round_id: int) -> list[CommitteeMember]:
    """Every reachable PAKEM member of the round with their village's submitted and open draft
    counts; a discarded draft is in neither."""
    village_proposals = select(func.count(Proposal.id)).where(  # type: ignore[arg-type]
        Proposal.round_id == round_id, Proposal.village_kode == RoleGrant.village_kode
    )
    submitted = village_proposals.where(Proposal.status.in_(PAST_DRAFT)).scalar_subquery()  # type: ignore[attr-defined]
    drafts = village_proposals.where(Proposal.status.in_(OPEN_DRAFT)).scalar_subquery()  # type: ignore[attr-defined]
    rows = await session.execute(
        select(
            Person.id,
            Person.telegram_id,
            Person.full_name,
            RoleGrant.village_kode,
            Region.name,
            submitted,
            drafts,
        )
        .join(Person, Person.id == RoleGrant.person_id)
        .join(Region, Region.kode == RoleGrant.village_kode)
        .where(
            RoleGrant.role == Role.PAKEM.value,
            RoleGrant.round_id == round_id,
            RoleGrant.revoked_at.is_(None),  # type: ignore[union-attr]
            Person.unreachable_at.is_(None),  # type: ignore[union-attr]
        )
        .distinct()
        .order_by(Region.name, Person.id)
    )
    return [CommitteeMember(*r) for r in rows.all()]


@dataclass(frozen=True)
class ReminderReceipt:
    village_kode: str | None
    village_name: str | None
    full_name: str
    sent_at: datetime | None
    acked_at: datetime | None
    status: str


async def reminder_receipts(session: AsyncSession, district_id: int) -> list[ReminderReceipt]:
    """Each committee member's latest reminder in the district: delivered, acknowledged."""
    latest = (
        select(func.max(Outbox.id).label("id"))
        .join(Broadcast, Broadcast.id == Outbox.broadcast_id)
        .where(Broadcast.kind == BroadcastKind.REMINDER, Broadcast.district_id == district_id)
        .group_by(Outbox.person_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Outbox.village_kode,
            Region.name,
            Person.full_name,
            Outbox.sent_at,
            Outbox.acked_at,
            Outbox.status,
        )
        .join(latest, latest.c.id == Outbox.id)
        .join(Person, Person.id == Outbox.person_id)
        .outerjoin(Region, Region.kode == Outbox.village_kode)
        .order_by(Region.name, Person.full_name)
    )
    return [ReminderReceipt(*r) for r in rows.all()]


async def revisions_open(session: AsyncSession, district_id: int, now: datetime) -> list[Proposal]:
    """Proposals sent back for revision whose revision deadline is still ahead."""
    rows = await session.execute(
        select(Proposal)
        .join(Round, Round.id == Proposal.round_id)
        .where(
            Round.district_id == district_id,
            Proposal.status == ProposalStatus.REVISION,
            Proposal.revision_deadline > now,  # type: ignore[operator]
        )
        .order_by(Proposal.id)
    )
    return list(rows.scalars())
