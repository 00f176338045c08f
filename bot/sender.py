"""The delivery engine: drains the outbox at Telegram's pace, never faster.

Rows are claimed in small batches (status `sending`), sent under a global and a per-chat rate
limit, and their results written back in batches. A sender never holds more than
`outbox_batch` rows in `sending`: after a kill -9 those rows are sent again, so that is the
bound on duplicates a crash can cause. Nothing else is ever sent twice or lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup
from aiohttp import ClientError
from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import announcements, metrics
from bot.config import Settings
from storage import delivery
from storage.types import utcnow
from storage.views import BroadcastView, ClaimedRow, DeliveryCounts, Outcome

log = logging.getLogger(__name__)

MAX_FLOOD_RETRIES = 20
MAX_BACKOFF = 300.0
PARTS_SENT = "parts_sent"
# A progress message is brought to its end for this long after its broadcast finished.
FINAL_EDIT_WITHIN = timedelta(days=2)


class Edit(Enum):
    """What became of an edit of a progress message."""

    SHOWN = "shown"  # it shows the text (now, or already)
    LATER = "later"  # a passing fault: try again at a later tick
    GONE = "gone"  # the message cannot be edited any more: stop trying


def parts_sent(row: ClaimedRow) -> int:
    """Messages of this row delivered before an earlier attempt met a fault."""
    value = (row.payload or {}).get(PARTS_SENT, 0)
    return value if isinstance(value, int) else 0


@dataclass(frozen=True)
class OutMessage:
    text: str
    media_kind: str | None = None
    file_id: str | None = None
    markup: InlineKeyboardMarkup | None = None


class Renderer(Protocol):
    """Turns broadcasts into messages in a given language (lives with the other texts)."""

    def message(self, broadcast: BroadcastView, row: ClaimedRow) -> list[OutMessage]: ...

    def progress(
        self, broadcast: BroadcastView, counts: DeliveryCounts, eta: float | None, locale: str
    ) -> str: ...


@dataclass
class _Progress:
    samples: list[tuple[float, int]] = field(default_factory=list)

    def eta(self, done: int, remaining: int, pace: float) -> float | None:
        now = time.monotonic()
        self.samples.append((now, done))
        self.samples = [s for s in self.samples if now - s[0] <= 30] or [(now, done)]
        first_t, first_done = self.samples[0]
        if now - first_t >= 2 and done > first_done:
            return remaining / ((done - first_done) / (now - first_t))
        return remaining / pace if pace > 0 else None


class Sender:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        renderer: Renderer,
        *,
        only_sender: bool,
        wall: Callable[[], datetime] = utcnow,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.settings = settings
        self.renderer = renderer
        self.only_sender = only_sender
        self.wall = wall
        # The application's clock stamps what is due; pacing and backoff run on the wall clock.
        self.clock = clock or wall
        rate = settings.send_rate
        # Capacity one, refilled every 1/rate s: an even pace with no burst at the start, which
        # Telegram's sliding one-second window would count against us.
        self.limiter = AsyncLimiter(1, 1.0 / rate) if rate > 0 else None
        self.chat_interval = settings.send_chat_interval
        self._chat_limiters: dict[int, tuple[AsyncLimiter, float]] = {}
        self._resume_at = 0.0
        self._open = asyncio.Event()
        self._open.set()
        self._reopen: asyncio.TimerHandle | None = None
        self._in_flight = 0
        self._room = asyncio.Event()
        self._wake = asyncio.Event()
        self._outcomes: list[Outcome] = []
        self._parts: dict[int, dict[str, Any]] = {}
        self._edit_after: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._broadcasts: dict[int, BroadcastView] = {}
        self._progress: dict[int, _Progress] = {}
        self._locales: dict[int, str] = {}
        self._stopping = asyncio.Event()
        self.sent = 0

    # -- lifecycle -----------------------------------------------------------------------------

    def nudge(self) -> None:
        """Something was queued: look now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        await self._release_claims()
        helpers = [
            asyncio.create_task(self._flush_loop()),
            asyncio.create_task(self._progress_loop()),
        ]
        try:
            await self._claim_loop()
        finally:
            self._stopping.set()
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=10)
            for task in helpers:
                task.cancel()
            for task in helpers:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self._flush()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._room.set()

    async def _release_claims(self) -> None:
        lease = (
            None
            if self.only_sender
            else self.wall() - timedelta(seconds=self.settings.outbox_lease)
        )
        async with self.sessions() as session, session.begin():
            released = await delivery.release_stale_claims(session, lease)
        if released:
            log.warning(
                "%s outbox rows left in 'sending' by a stopped sender are sent again", released
            )

    # -- claiming and sending ------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        last_release = time.monotonic()
        while not self._stopping.is_set():
            room = self.settings.outbox_batch - self._in_flight
            if room <= 0:
                self._room.clear()
                await self._room.wait()
                continue
            try:
                async with self.sessions() as session, session.begin():
                    due = max(self.wall(), self.clock())
                    rows = await delivery.claim(session, room, due)
            except Exception:  # the database may be briefly away; the rows stay queued
                log.exception("claiming outbox rows failed")
                rows = []
            if not rows:
                if not self.only_sender and time.monotonic() - last_release > 30:
                    last_release = time.monotonic()
                    await self._release_claims()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.sender_poll)
                continue
            self._in_flight += len(rows)
            for row in rows:
                task = asyncio.create_task(self._deliver(row))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _deliver(self, row: ClaimedRow) -> None:
        try:
            outcome = await self._attempt(row)
        except Exception as exc:  # a rendering bug must not kill the sender nor lose the row
            log.exception("outbox row %s failed", row.id)
            outcome = Outcome(row.id, "failed", error=f"internal: {type(exc).__name__}")
        self._outcomes.append(outcome)

    async def _attempt(self, row: ClaimedRow) -> Outcome:
        broadcast = await self._broadcast(row.broadcast_id)
        if broadcast is None:
            return Outcome(row.id, "failed", error="broadcast gone")
        messages = self.renderer.message(broadcast, row)
        # A row of several messages resumes after the last one delivered, so that a fault in
        # the middle never sends the first ones twice.
        before = parts_sent(row)
        done = before
        await self._chat_turn(row.chat_id)
        floods = 0
        message_id = None
        while True:
            await self._gate()
            try:
                for message in messages[done:]:
                    message_id = await self._send(row.chat_id, message)
                    done += 1
                    metrics.message_sent()
                self.sent += 1
                return Outcome(row.id, "sent", message_id=message_id)
            except TelegramRetryAfter as exc:
                floods += 1
                metrics.send_throttled()
                self._pause(exc.retry_after)
                if floods >= MAX_FLOOD_RETRIES:
                    self._keep_parts(row, before, done)
                    return self._retry(row, f"429 x{floods}", counted=False)
            except TelegramForbiddenError as exc:
                metrics.person_blocked()
                return Outcome(row.id, "blocked", error=exc.message[:256], person_id=row.person_id)
            except TelegramBadRequest as exc:
                return Outcome(row.id, "failed", error=exc.message[:256])
            except (TelegramServerError, TelegramNetworkError, ClientError, TimeoutError) as exc:
                self._keep_parts(row, before, done)
                return self._retry(row, f"{type(exc).__name__}: {exc}"[:256], counted=True)

    def _keep_parts(self, row: ClaimedRow, before: int, done: int) -> None:
        """Written with the row's retry, in the same transaction (see `_flush`)."""
        if done > before:
            self._parts[row.id] = {**(row.payload or {}), PARTS_SENT: done}

    def _retry(self, row: ClaimedRow, error: str, *, counted: bool) -> Outcome:
        attempt = row.attempts + 1
        if counted and attempt >= self.settings.send_attempts:
            return Outcome(row.id, "failed", error=error)
        delay = min(MAX_BACKOFF, 2.0**attempt)
        return Outcome(
            row.id,
            "retry" if counted else "later",
            error=error,
            retry_at=self.wall() + timedelta(seconds=delay),
        )

    async def _send(self, chat_id: int, message: OutMessage) -> int:
        if self.limiter is not None:
            await self.limiter.acquire()
        if message.media_kind in ("photo", "document"):
            send_file = (
                self.bot.send_photo if message.media_kind == "photo" else self.bot.send_document
            )
            sent = await send_file(
                chat_id,
                message.file_id or "",
                caption=message.text or None,
                reply_markup=message.markup,
            )
        else:
            sent = await self.bot.send_message(chat_id, message.text, reply_markup=message.markup)
        return sent.message_id

    async def _chat_turn(self, chat_id: int) -> None:
        """At most one message a second into one chat (Telegram's own per-chat limit)."""
        if self.chat_interval <= 0:
            return
        now = time.monotonic()
        entry = self._chat_limiters.get(chat_id)
        if entry is None:
            if len(self._chat_limiters) > 10_000:
                # Limiters idle for longer than the interval hold no state worth keeping.
                cutoff = now - 2 * self.chat_interval
                self._chat_limiters = {
                    k: v for k, v in self._chat_limiters.items() if v[1] > cutoff
                }
            limiter = AsyncLimiter(1, self.chat_interval)
        else:
            limiter = entry[0]
        self._chat_limiters[chat_id] = (limiter, now)
        await limiter.acquire()

    def _pause(self, seconds: float) -> None:
        """A 429 stops every sender task, not just the one that met it."""
        resume = time.monotonic() + seconds
        if resume <= self._resume_at:
            return
        log.warning("flood limit: all sending paused for %s s", seconds)
        self._resume_at = resume
        self._open.clear()
        if self._reopen is not None:
            self._reopen.cancel()
        self._reopen = asyncio.get_running_loop().call_later(seconds, self._open.set)

    async def _gate(self) -> None:
        await self._open.wait()

    async def _broadcast(self, broadcast_id: int) -> BroadcastView | None:
        cached = self._broadcasts.get(broadcast_id)
        if cached is not None:
            return cached
        async with self.sessions() as session:
            view = await delivery.broadcast_view(session, broadcast_id)
        if view is not None:
            if len(self._broadcasts) > 500:
                self._broadcasts.clear()
            self._broadcasts[broadcast_id] = view
        return view

    # -- writing results -----------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            await self._flush()

    async def _flush(self) -> None:
        if not self._outcomes:
            return
        batch, self._outcomes = self._outcomes, []
        parts, self._parts = self._parts, {}
        try:
            async with self.sessions() as session, session.begin():
                await delivery.record_parts(session, parts)
                await delivery.record_outcomes(session, batch, self.wall())
        except Exception:
            log.exception("writing %s delivery results failed; retrying", len(batch))
            self._outcomes = batch + self._outcomes
            self._parts = {**parts, **self._parts}
            return
        self._in_flight -= len(batch)
        self._room.set()

    # -- progress and reports ------------------------------------------------------------------

    async def _progress_loop(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.settings.progress_every))
            try:
                await self._progress_once()
            except Exception:
                log.exception("progress update failed")

    async def _progress_once(self) -> None:
        async with self.sessions() as session:
            active = await delivery.active_broadcasts(session)
        for broadcast in active:
            await self._progress_of(broadcast)
        async with self.sessions() as session:
            owed = await delivery.final_edits_owed(session, self.wall() - FINAL_EDIT_WITHIN)
        for broadcast in owed:
            await self._final_edit(broadcast)

    async def _progress_of(self, broadcast: BroadcastView) -> None:
        """Close a settled broadcast (its report goes through the outbox), or show progress."""
        finished = edit = False
        async with self.sessions() as session, session.begin():
            counts = await delivery.delivery_counts(session, broadcast.id)
            if counts.open == 0:
                finished = await announcements.finish(session, broadcast, self.wall())
            else:
                edit = (
                    broadcast.progress_message_id is not None
                    and not self._edit_waits(broadcast.id)
                    and await delivery.claim_progress(
                        session, broadcast.id, self.wall(), self.settings.progress_every
                    )
                )
        if finished:
            self._progress.pop(broadcast.id, None)
            self._broadcasts.pop(broadcast.id, None)
            self.nudge()  # its report is queued (and committed): send it now
        if not edit:
            return
        done = counts.sent + counts.blocked + counts.failed
        eta = self._progress.setdefault(broadcast.id, _Progress()).eta(
            done, counts.open, self.settings.send_rate
        )
        locale = await self._author_locale(broadcast)
        await self._show(broadcast, self.renderer.progress(broadcast, counts, eta, locale))

    async def _final_edit(self, broadcast: BroadcastView) -> None:
        """The progress message's last edit: owed until it is shown, whatever faults it meets."""
        if self._edit_waits(broadcast.id):
            return
        async with self.sessions() as session, session.begin():
            if not await delivery.claim_final_edit(session, broadcast.id, self.wall()):
                return
            counts = await delivery.delivery_counts(session, broadcast.id)
        locale = await self._author_locale(broadcast)
        shown = await self._show(broadcast, self.renderer.progress(broadcast, counts, None, locale))
        if shown is Edit.LATER:
            async with self.sessions() as session, session.begin():
                await delivery.release_final_edit(session, broadcast.id)
        else:
            self._edit_after.pop(broadcast.id, None)

    def _edit_waits(self, broadcast_id: int) -> bool:
        return time.monotonic() < self._edit_after.get(broadcast_id, 0.0)

    async def _show(self, broadcast: BroadcastView, text: str) -> Edit:
        """Edit the progress message when its text changed since the last edit that landed.

        Progress is a courtesy: a fault never stops deliveries nor waits for them. A passing
        fault is tried again at a later tick (after `retry_after` for a 429, which pauses this
        message's edits only); a message that is gone is let go.
        """
        if text == broadcast.params.get(delivery.PROGRESS_TEXT):
            return Edit.SHOWN
        if broadcast.progress_chat_id is None or broadcast.progress_message_id is None:
            return Edit.GONE
        result = await self._edit(broadcast, text)
        if result is Edit.LATER:
            return result
        async with self.sessions() as session, session.begin():
            if result is Edit.SHOWN:
                await delivery.remember_progress(session, broadcast.id, text)
            else:
                await delivery.forget_progress_message(session, broadcast.id)
        return result

    async def _edit(self, broadcast: BroadcastView, text: str) -> Edit:
        if self.limiter is not None:
            await self.limiter.acquire()
        await self._gate()
        try:
            await self.bot.edit_message_text(
                text=text,
                chat_id=broadcast.progress_chat_id,
                message_id=broadcast.progress_message_id,
            )
            return Edit.SHOWN
        except TelegramRetryAfter as exc:
            self._edit_after[broadcast.id] = time.monotonic() + exc.retry_after
            log.info(
                "progress message of %s: flood limit, next edit in %s s",
                broadcast.id,
                exc.retry_after,
            )
            return Edit.LATER
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:  # an earlier edit landed after all
                return Edit.SHOWN
            log.info("progress message of %s is gone: %s", broadcast.id, exc.message)
            return Edit.GONE
        except TelegramForbiddenError as exc:
            log.info("progress message of %s is gone: %s", broadcast.id, exc.message)
            return Edit.GONE
        except (TelegramServerError, TelegramNetworkError, ClientError, TimeoutError) as exc:
            self._edit_after[broadcast.id] = time.monotonic() + self.settings.progress_every
            log.info("progress message of %s not updated, tried again later: %s", broadcast.id, exc)
            return Edit.LATER
        except TelegramAPIError as exc:  # anything else Telegram refuses will not change
            log.warning("progress message of %s given up: %s", broadcast.id, exc)
            return Edit.GONE

    async def _author_locale(self, broadcast: BroadcastView) -> str:
        if broadcast.author_id is None:
            return self.settings.default_locale
        if broadcast.author_id not in self._locales:
            from storage import queries

            async with self.sessions() as session:
                person = await queries.person_view_by_id(session, broadcast.author_id)
            self._locales[broadcast.author_id] = person.locale if person else "id"
        return self._locales[broadcast.author_id]
