"""Queries of the update inbox: storing raw updates, claiming one per chat, settling them.

Every timestamp here is the wall clock: leases and retry times must not follow a test's
frozen application clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Inbox
from storage.queries import _insert

_t = Inbox.__table__  # type: ignore[attr-defined]


class InboxStatus(StrEnum):
    PENDING = "pending"
    HANDLING = "handling"
    DONE = "done"
    FAILED = "failed"
    DROPPED = "dropped"


UNHANDLED = (InboxStatus.PENDING.value, InboxStatus.HANDLING.value)


@dataclass(frozen=True)
class NewUpdate:
    update_id: int
    chat_id: int | None
    kind: str
    raw: str
    status: InboxStatus


@dataclass(frozen=True)
class ClaimedUpdate:
    update_id: int
    chat_id: int | None
    raw: str
    attempts: int  # including this one
    replies: str | None = None  # set: the update was applied, only these remain to be sent


@dataclass(frozen=True)
class FailedUpdate:
    update_id: int
    chat_id: int | None
    kind: str
    attempts: int
    error: str | None
    received_at: datetime


@dataclass(frozen=True)
class InboxDepth:
    by_status: dict[str, int]
    oldest_pending: datetime | None


# -- storing -----------------------------------------------------------------------------------


async def unhandled_counts(session: AsyncSession, chats: Iterable[int]) -> dict[int, int]:
    chats = set(chats)
    if not chats:
        return {}
    rows = await session.execute(
        select(_t.c.chat_id, func.count())
        .where(_t.c.chat_id.in_(chats), _t.c.status.in_(UNHANDLED))
        .group_by(_t.c.chat_id)
    )
    return {chat: int(n) for chat, n in rows.all()}


async def insert(session: AsyncSession, rows: Sequence[NewUpdate], now: datetime) -> set[int]:
    """Insert what is new; an update stored before is left as it is. Returns the new ids."""
    if not rows:
        return set()
    values = [
        {
            "update_id": r.update_id,
            "chat_id": r.chat_id,
            "kind": r.kind[:32],
            "raw": r.raw,
            "status": r.status.value,
            "attempts": 0,
            "received_at": now,
            "due_at": now,
            "handled_at": now if r.status == InboxStatus.DROPPED else None,
        }
        for r in rows
    ]
    result = await session.execute(
        _insert(session, Inbox).values(values).on_conflict_do_nothing().returning(_t.c.update_id)
    )
    return set(result.scalars())


async def dropped_before_in_overflow(session: AsyncSession, chat_id: int, update_id: int) -> bool:
    """Whether this chat already had an update dropped since its oldest unhandled one: then
    it was told to slow down already, for this same overflow."""
    oldest = (
        select(func.min(_t.c.update_id))
        .where(_t.c.chat_id == chat_id, _t.c.status.in_(UNHANDLED))
        .scalar_subquery()
    )
    found = await session.execute(
        select(_t.c.update_id)
        .where(
            _t.c.chat_id == chat_id,
            _t.c.status == InboxStatus.DROPPED.value,
            _t.c.update_id < update_id,
            _t.c.update_id > func.coalesce(oldest, update_id),
        )
        .limit(1)
    )
    return found.first() is not None


# -- claiming and settling ---------------------------------------------------------------------


async def claim(session: AsyncSession, worker: str, now: datetime) -> ClaimedUpdate | None:
    """Take the next update of a chat nobody is handling; the chat waiting longest goes first.

    An update is its chat's next when no earlier one of that chat is pending; a chat with an
    update in `handling` is skipped. On PostgreSQL several workers claim at once without
    waiting on each other (SKIP LOCKED); the partial unique index refuses a second claim on
    one chat in any race the query misses.
    """
    c = _t.alias("c")
    busy = _t.alias("busy")
    earlier = _t.alias("earlier")
    head = (
        select(c.c.update_id)
        .where(
            c.c.status == InboxStatus.PENDING.value,
            c.c.due_at <= now,
            ~exists().where(
                busy.c.chat_id == c.c.chat_id, busy.c.status == InboxStatus.HANDLING.value
            ),
            ~exists().where(
                earlier.c.chat_id == c.c.chat_id,
                earlier.c.status == InboxStatus.PENDING.value,
                earlier.c.update_id < c.c.update_id,
            ),
        )
        .order_by(c.c.due_at, c.c.update_id)
        .limit(1)
    )
    if session.bind.dialect.name == "postgresql":
        head = head.with_for_update(skip_locked=True, of=c)
    try:
        async with session.begin_nested():
            result = await session.execute(
                update(_t)
                .where(_t.c.update_id == head.scalar_subquery())
                .values(
                    status=InboxStatus.HANDLING.value,
                    claimed_by=worker,
                    claimed_at=now,
                    attempts=_t.c.attempts + 1,
                )
                .returning(_t.c.update_id, _t.c.chat_id, _t.c.raw, _t.c.attempts, _t.c.replies)
            )
            row = result.first()
    except IntegrityError:  # another worker claimed this chat in the same instant
        return None
    return ClaimedUpdate(*row) if row else None


def _mine(update_id: int, worker: str) -> Any:
    return (
        (_t.c.update_id == update_id)
        & (_t.c.status == InboxStatus.HANDLING.value)
        & (_t.c.claimed_by == worker)
    )


async def _next_in_line(session: AsyncSession, chat_id: int | None, now: datetime) -> None:
    """The chat's next update queues from now: behind chats that waited while this one ran."""
    if chat_id is None:
        return
    following = (
        select(func.min(_t.c.update_id))
        .where(_t.c.chat_id == chat_id, _t.c.status == InboxStatus.PENDING.value)
        .scalar_subquery()
    )
    await session.execute(
        update(_t).where(_t.c.update_id == following, _t.c.due_at < now).values(due_at=now)
    )


async def finish(
    session: AsyncSession,
    update_id: int,
    chat_id: int | None,
    worker: str,
    now: datetime,
    replies: str | None = None,
) -> bool:
    """Mark handled, in the handler's own transaction. False: the claim was lost (its lease
    ran out and another worker took it), so the caller must roll back.

    With `replies`, the update is applied but stays its chat's update in hand until they are
    sent (and `finish` is called again without them): the chat's next update must not answer
    before this one has."""
    mine = update(_t).where(_mine(update_id, worker))
    if replies is not None:
        result = await session.execute(mine.values(replies=replies, error=None))
        return bool(result.rowcount)  # type: ignore[attr-defined]
    result = await session.execute(
        mine.values(
            status=InboxStatus.DONE.value,
            handled_at=now,
            error=None,
            claimed_by=None,
            replies=None,
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await _next_in_line(session, chat_id, now)
    return True


async def fail(
    session: AsyncSession,
    update_id: int,
    chat_id: int | None,
    worker: str,
    now: datetime,
    error: str,
) -> bool:
    result = await session.execute(
        update(_t)
        .where(_mine(update_id, worker))
        .values(status=InboxStatus.FAILED.value, handled_at=now, error=error[:512], claimed_by=None)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await _next_in_line(session, chat_id, now)
    return True


async def retry_later(
    session: AsyncSession,
    update_id: int,
    worker: str,
    due: datetime,
    error: str | None,
    *,
    counted: bool,
    replies: str | None = None,
) -> bool:
    """Back to pending, due later; still its chat's next update, so the chat waits with it.
    With `replies`: those are what is left to send of an applied update."""
    values: dict[str, Any] = {
        "status": InboxStatus.PENDING.value,
        "due_at": due,
        "claimed_by": None,
        "claimed_at": None,
    }
    if replies is not None:
        values["replies"] = replies
    if error is not None:
        values["error"] = error[:512]
    if not counted:
        values["attempts"] = _t.c.attempts - 1
    result = await session.execute(update(_t).where(_mine(update_id, worker)).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def renew(
    session: AsyncSession, worker: str, now: datetime, update_ids: Iterable[int] | None = None
) -> int:
    """A live worker keeps its claims: the lease runs from its last sign of life, not from
    the claim, so a slow update is never taken over while its worker still handles it. Only
    the updates it has in hand (when given): a claim it failed to settle runs out its lease."""
    where = [_t.c.status == InboxStatus.HANDLING.value, _t.c.claimed_by == worker]
    if update_ids is not None:
        where.append(_t.c.update_id.in_(list(update_ids)))
    result = await session.execute(update(_t).where(*where).values(claimed_at=now))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def release(
    session: AsyncSession,
    *,
    older_than: datetime | None = None,
    worker: str | None = None,
    not_of: str | None = None,
    except_ids: Iterable[int] = (),
) -> int:
    """Claims of a stopped worker go back to pending: all of them (the only worker, at start),
    those not renewed within the lease (a crashed worker elsewhere; never `not_of`'s own), or
    one worker's own (at stop)."""
    stmt = update(_t).where(_t.c.status == InboxStatus.HANDLING.value)
    if older_than is not None:
        stmt = stmt.where(_t.c.claimed_at < older_than)
    if worker is not None:
        stmt = stmt.where(_t.c.claimed_by == worker)
    if not_of is not None:
        stmt = stmt.where(_t.c.claimed_by != not_of)
    kept = list(except_ids)
    if kept:
        stmt = stmt.where(_t.c.update_id.not_in(kept))
    result = await session.execute(
        stmt.values(status=InboxStatus.PENDING.value, claimed_by=None, claimed_at=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def purge(
    session: AsyncSession, before: datetime, failed_before: datetime | None = None
) -> int:
    """Forget handled and dropped updates: Telegram re-delivers only the last 24 hours. Failed
    ones stay longer (`failed_before`), for the operator's `paket-bot inbox retry`."""
    result = await session.execute(
        delete(_t).where(
            _t.c.status.in_((InboxStatus.DONE.value, InboxStatus.DROPPED.value)),
            _t.c.handled_at < before,
        )
    )
    purged = int(result.rowcount)  # type: ignore[attr-defined]
    if failed_before is not None:
        result = await session.execute(
            delete(_t).where(
                _t.c.status == InboxStatus.FAILED.value, _t.c.received_at < failed_before
            )
        )
        purged += int(result.rowcount)  # type: ignore[attr-defined]
    return purged


async def has_unhandled(session: AsyncSession) -> bool:
    row = await session.execute(select(_t.c.update_id).where(_t.c.status.in_(UNHANDLED)).limit(1))
    return row.first() is not None


async def next_due(session: AsyncSession) -> datetime | None:
    return (
        await session.execute(
            select(func.min(_t.c.due_at)).where(_t.c.status == InboxStatus.PENDING.value)
        )
    ).scalar_one_or_none()


# -- the operator's view -----------------------------------------------------------------------


async def depth(session: AsyncSession) -> InboxDepth:
    rows = await session.execute(select(_t.c.status, func.count()).group_by(_t.c.status))
    oldest = (
        await session.execute(select(func.min(_t.c.received_at)).where(_t.c.status.in_(UNHANDLED)))
    ).scalar_one_or_none()
    return InboxDepth({status: int(n) for status, n in rows.all()}, oldest)


async def failed(session: AsyncSession, limit: int = 50) -> list[FailedUpdate]:
    rows = await session.execute(
        select(_t.c.update_id, _t.c.chat_id, _t.c.kind, _t.c.attempts, _t.c.error, _t.c.received_at)
        .where(_t.c.status == InboxStatus.FAILED.value)
        .order_by(_t.c.update_id)
        .limit(limit)
    )
    return [FailedUpdate(*r) for r in rows.all()]


async def retry(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """A failed update goes back to pending with fresh attempts (the operator fixed the cause)."""
    result = await session.execute(
        update(_t)
        .where(_t.c.update_id == update_id, _t.c.status == InboxStatus.FAILED.value)
        .values(
            status=InboxStatus.PENDING.value, attempts=0, due_at=now, handled_at=None, error=None
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def dropped_count(session: AsyncSession, chat_id: int) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).where(
                    _t.c.chat_id == chat_id, _t.c.status == InboxStatus.DROPPED.value
                )
            )
        ).scalar_one()
    )
