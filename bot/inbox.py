"""The update inbox: what is stored, in which lane, what is dropped, what is tried again.

Polling (and later a webhook) calls `store_updates` before it confirms updates to Telegram;
workers (`bot.workers`) handle them from there. No aiogram here: an update is stored as the
JSON Telegram sent, so an update aiogram cannot read is still kept and set aside.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiogram.methods import TelegramMethod
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from storage import inbox as store
from storage.inbox import InboxStatus, NewUpdate

SLOW_DOWN = N_(
    "You are sending messages faster than I can answer. I am still working on your earlier "
    "ones; the newest were skipped. Please wait for my answer, then go on."
)
KEEP_DAYS = 3
MAX_BACKOFF = 30.0


def update_kind(update: dict[str, Any]) -> str:
    return next((k for k in update if k != "update_id"), "")


def lane_of(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to; the user's id when it has no chat (inline queries);
    None when it has neither (a lane of its own)."""
    payload = update.get(update_kind(update))
    if not isinstance(payload, dict):
        return None
    chat = payload.get("chat")
    if not isinstance(chat, dict):
        message = payload.get("message")
        chat = message.get("chat") if isinstance(message, dict) else None
    for holder in (chat, payload.get("from"), payload.get("user")):
        if isinstance(holder, dict) and isinstance(holder.get("id"), int):
            return int(holder["id"])
    return None


def sender_of(update: dict[str, Any]) -> tuple[int | None, str | None]:
    """(user id, language_code) of whoever sent an update, as far as its JSON says."""
    payload = update.get(update_kind(update))
    person = payload.get("from") if isinstance(payload, dict) else None
    if not isinstance(person, dict):
        return None, None
    user_id = person.get("id")
    code = person.get("language_code")
    return (
        user_id if isinstance(user_id, int) else None,
        code if isinstance(code, str) else None,
    )


@dataclass
class Stored:
    """What one `store_updates` call did: new rows, dropped per chat, chats to tell."""

    new: int = 0
    dropped: dict[int, int] = field(default_factory=dict)
    tell: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


async def store_updates(
    session: AsyncSession, updates: Sequence[dict[str, Any]], now: datetime, backlog: int
) -> Stored:
    """Write raw updates, in the caller's transaction; a re-delivered one is a no-op.

    A chat with `backlog` unhandled updates already gets its excess stored as `dropped`
    (kept small: without its JSON) and is told once per overflow to slow down.
    """
    lanes = [lane_of(u) for u in updates]
    counts = await store.unhandled_counts(session, (c for c in lanes if c is not None))
    rows: list[NewUpdate] = []
    for update, lane in zip(updates, lanes, strict=True):
        full = lane is not None and counts.get(lane, 0) >= backlog
        if lane is not None and not full:
            counts[lane] = counts.get(lane, 0) + 1
        rows.append(
            NewUpdate(
                update_id=int(update["update_id"]),
                chat_id=lane,
                kind=update_kind(update),
                raw="" if full else json.dumps(update, ensure_ascii=False),
                status=InboxStatus.DROPPED if full else InboxStatus.PENDING,
            )
        )
    new = await store.insert(session, rows, now)
    result = Stored(new=len(new))
    for row, update in zip(rows, updates, strict=True):
        if row.status != InboxStatus.DROPPED or row.update_id not in new:
            continue
        assert row.chat_id is not None
        first = row.chat_id not in result.dropped
        result.dropped[row.chat_id] = result.dropped.get(row.chat_id, 0) + 1
        if first and not await store.dropped_before_in_overflow(
            session, row.chat_id, row.update_id
        ):
            result.tell.append((row.chat_id, update))
    return result


def retry_delay(attempt: int) -> float:
    """Seconds before trying a failed update again: short, since its chat waits behind it."""
    return min(MAX_BACKOFF, 0.5 * 2 ** max(0, attempt - 1))


@dataclass
class Ticket:
    """The inbox row an update is being handled for, handed through aiogram's data.

    The session middleware marks the row done in the handler's transaction and notes the
    error of a failed attempt here; the error handler asks it whether to apologise now.
    """

    update_id: int
    chat_id: int | None
    worker: str
    attempt: int
    attempts: int
    done: bool = False
    error: str | None = None
    # The committed update's replies, for the worker to send (see bot/after_commit.py).
    replies: list[TelegramMethod[Any]] = field(default_factory=list)

    def apologise_now(self, *, retryable: bool) -> bool:
        """Apologise on the last attempt, or when trying again could repeat what the person
        already saw (an error from Telegram mid-answer)."""
        return not retryable or self.attempt >= self.attempts


def describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0][:512] if text else type(exc).__name__
