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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from aiogram import Bot
from aiogram.exceptions import (
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

from bot.config import Settings
from storage import delivery
from storage.types import utcnow
from storage.views import BroadcastView, ClaimedRow, DeliveryCounts, Outcome, VillageCounts

log = logging.getLogger(__name__)

MAX_FLOOD_RETRIES = 20
MAX_BACKOFF = 300.0


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

    def report(
        self,
        broadcast: BroadcastView,
        counts: DeliveryCounts,
        villages: list[VillageCounts],
        locale: str,
    ) -> list[str]: ...


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
        await self._chat_turn(row.chat_id)
        floods = 0
        while True:
            await self._gate()
            try:
                message_id = None
                for message in messages:
                    message_id = await self._send(row.chat_id, message)
                self.sent += 1
                return Outcome(row.id, "sent", message_id=message_id)
            except TelegramRetryAfter as exc:
                floods += 1
                self._pause(exc.retry_after)
                if floods >= MAX_FLOOD_RETRIES:
                    return self._retry(row, f"429 x{floods}", counted=False)
            except TelegramForbiddenError as exc:
                return Outcome(row.id, "blocked", error=exc.message[:256], person_id=row.person_id)
            except TelegramBadRequest as exc:
                return Outcome(row.id, "failed", error=exc.message[:256])
            except (TelegramServerError, TelegramNetworkError, ClientError, TimeoutError) as exc:
                return self._retry(row, f"{type(exc).__name__}: {exc}"[:256], counted=True)

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
        try:
            async with self.sessions() as session, session.begin():
                await delivery.record_outcomes(session, batch, self.wall())
        except Exception:
            log.exception("writing %s delivery results failed; retrying", len(batch))
            self._outcomes = batch + self._outcomes
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
            async with self.sessions() as session, session.begin():
                counts = await delivery.delivery_counts(session, broadcast.id)
                if counts.open == 0:
                    if not await delivery.finish_broadcast(session, broadcast.id, self.wall()):
                        continue
                    villages = await delivery.counts_by_village(session, broadcast.id)
                    final = True
                else:
                    if broadcast.progress_message_id is None or not await delivery.claim_progress(
                        session, broadcast.id, self.wall(), self.settings.progress_every
                    ):
                        continue
                    villages = []
                    final = False
            await self._show(broadcast, counts, villages, final)
            if final:
                self._progress.pop(broadcast.id, None)
                self._broadcasts.pop(broadcast.id, None)

    async def _show(
        self,
        broadcast: BroadcastView,
        counts: DeliveryCounts,
        villages: list[VillageCounts],
        final: bool,
    ) -> None:
        if broadcast.progress_chat_id is None or broadcast.progress_message_id is None:
            return
        locale = await self._author_locale(broadcast)
        done = counts.sent + counts.blocked + counts.failed
        eta = (
            None
            if final
            else self._progress.setdefault(broadcast.id, _Progress()).eta(
                done, counts.open, self.settings.send_rate
            )
        )
        text = self.renderer.progress(broadcast, counts, eta, locale)
        chat = broadcast.progress_chat_id
        await self._quietly(
            self.bot.edit_message_text(
                text=text, chat_id=chat, message_id=broadcast.progress_message_id
            )
        )
        if final:
            for chunk in self.renderer.report(broadcast, counts, villages, locale):
                await self._quietly(self.bot.send_message(chat, chunk))

    async def _quietly(self, call: Awaitable[Any]) -> None:
        """Progress is a courtesy: a refused edit must not stop deliveries."""
        if self.limiter is not None:
            await self.limiter.acquire()
        await self._gate()
        try:
            await call
        except TelegramRetryAfter as exc:
            self._pause(exc.retry_after)
        except (
            TelegramBadRequest,
            TelegramForbiddenError,
            TelegramServerError,
            TelegramNetworkError,
        ) as exc:
            log.info("progress message not updated: %s", exc)

    async def _author_locale(self, broadcast: BroadcastView) -> str:
        if broadcast.author_id is None:
            return self.settings.default_locale
        if broadcast.author_id not in self._locales:
            from storage import queries

            async with self.sessions() as session:
                person = await queries.person_view_by_id(session, broadcast.author_id)
            self._locales[broadcast.author_id] = person.locale if person else "id"
        return self._locales[broadcast.author_id]
