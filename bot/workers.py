"""Polling into the inbox, and the workers that handle the inbox: in order per chat, fair across
chats, each update's database effect applied once.

The poller asks Telegram for updates with plain HTTP (no aiogram decoding: an update aiogram
cannot read must still be stored), stores them, and only then confirms them with the next
offset. Workers claim one update of a chat nobody is handling, decode it, feed it to the
dispatcher, and mark it done in the handler's own transaction (see `SessionMiddleware`).
After a kill -9, only the updates in flight (at most `WORKERS` per process) are handled again,
and their database effect was rolled back: the bound on repeated replies is the updates in
flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.telegram import TelegramAPIServer
from aiogram.dispatcher.event.bases import CancelHandler, SkipHandler
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import after_commit, metrics
from bot.config import Settings
from bot.i18n import normalize_locale
from bot.inbox import SLOW_DOWN, Ticket, describe, retry_delay, sender_of, store_updates
from bot.middlewares import ClaimLost
from bot.telegram import Lane, LaneMustWait, current_lane
from storage import inbox as store
from storage import queries
from storage.types import utcnow

log = logging.getLogger(__name__)

POLL_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.5, jitter=0.1)
IDLE_POLL = 0.5  # how often an idle worker looks for updates stored by another process


# Tries at sending a committed update's replies (its handling counts as one), with the inbox's
# growing delays in between (at least 2 s, at most 30 s): Telegram away for about 10 minutes.
# Then the replies are set aside as failed, and the chat goes on.
REPLY_ATTEMPTS = 24


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def locale_of(
    sessions: async_sessionmaker[AsyncSession], update: dict[str, Any], default: str
) -> str:
    """The person's chosen language if we know them, else what their Telegram says."""
    user_id, code = sender_of(update)
    if user_id is not None:
        async with sessions() as session:
            person = await queries.person_by_telegram_id(session, user_id)
        if person is not None:
            return person.locale
    return normalize_locale(code, default)


class Intake:
    """The one way updates enter the inbox, from the poller or from the webhook: store them in
    one transaction, then count them, tell a flooding chat to slow down, and wake the workers."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        *,
        on_stored: Callable[[], None],
        tell: Callable[[int, dict[str, Any]], None],
        wall: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.on_stored = on_stored
        self.tell = tell
        self.wall = wall
        self.received = 0
        self.dropped = 0

    async def store(self, updates: list[dict[str, Any]]) -> int:
        """Store once; raises when the database refused, so the caller does not confirm."""
        async with self.sessions() as session, session.begin():
            stored = await store_updates(session, updates, self.wall(), self.settings.inbox_backlog)
        # Received is counted by whoever received them (the poller, the webhook), not here.
        self.received += stored.new
        if stored.dropped:
            dropped = sum(stored.dropped.values())
            self.dropped += dropped
            metrics.updates_dropped(dropped)
            log.warning("backlog full, updates dropped per chat: %s", stored.dropped)
        for chat_id, update in stored.tell:
            self.tell(chat_id, update)
        if stored.new:
            self.on_stored()
        return stored.new


class Poller:
    """Long polling into the inbox: fetch, store, and only then confirm (the next offset)."""

    def __init__(self, settings: Settings, intake: Intake) -> None:
        self.settings = settings
        self.intake = intake
        self.url = TelegramAPIServer.from_base(settings.telegram_api_url).api_url(
            settings.require_token(), "getUpdates"
        )
        self.offset = 0
        self._stopping = asyncio.Event()

    @property
    def received(self) -> int:
        return self.intake.received

    @property
    def dropped(self) -> int:
        return self.intake.dropped

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        backoff = Backoff(POLL_BACKOFF)
        timeout = aiohttp.ClientTimeout(total=self.settings.polling_timeout + 30)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while not self._stopping.is_set():
                try:
                    updates = await self._until_stopped(self._fetch(http))
                except asyncio.CancelledError:
                    if self._stopping.is_set():
                        return
                    raise
                except Exception as exc:  # Telegram or the network is away: try again later
                    log.error(
                        "getUpdates failed (%s); trying again in %.0f s", exc, backoff.next_delay
                    )
                    await self._until_stopped(backoff.asleep(), quiet=True)
                    continue
                backoff.reset()
                if updates:
                    await self._store(updates)

    async def _until_stopped(self, work: Any, *, quiet: bool = False) -> Any:
        """Run `work` unless `stop()` comes first; then cancel it."""
        task = asyncio.ensure_future(work)
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait((task, stopper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            if quiet:
                return None
            raise asyncio.CancelledError
        return task.result()

    async def _fetch(self, http: aiohttp.ClientSession) -> list[dict[str, Any]]:
        params = {"timeout": self.settings.polling_timeout, "limit": 100}
        if self.offset:
            params["offset"] = self.offset
        async with http.post(self.url, json=params) as response:
            body = await response.json(content_type=None)
        if not isinstance(body, dict) or not body.get("ok"):
            description = body.get("description") if isinstance(body, dict) else None
            raise RuntimeError(f"{response.status} {description or ''}".strip())
        return [u for u in body.get("result") or [] if isinstance(u, dict) and "update_id" in u]

    async def _store(self, updates: list[dict[str, Any]]) -> None:
        """Store, retrying until it works: the offset moves only past what is stored."""
        delay = 0.5
        while True:
            try:
                new = await self.intake.store(updates)
                break
            except Exception:
                log.exception("storing %s updates failed; trying again", len(updates))
                if self._stopping.is_set():
                    return  # not confirmed: Telegram sends them again to whoever polls next
                await self._until_stopped(asyncio.sleep(delay), quiet=True)
                delay = min(10.0, delay * 2)
        metrics.updates_received(new)
        self.offset = max(int(u["update_id"]) for u in updates) + 1


class Workers:
    """`WORKERS` updates handled at once in this process, at most one per chat everywhere."""

    def __init__(
        self,
        bot: Bot,
        dp: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        i18n: I18n,
        *,
        only_worker: bool,
        wall: Callable[[], datetime] = utcnow,
    ) -> None:
        self.bot = bot
        self.dp = dp
        self.sessions = sessions
        self.settings = settings
        self.i18n = i18n
        self.only_worker = only_worker
        self.wall = wall
        self.name = worker_name()
        self.slots = asyncio.Semaphore(settings.worker_count)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_hand: set[int] = set()
        self.handled = 0
        self.failed = 0

    # -- lifecycle -----------------------------------------------------------------------------

    def nudge(self) -> None:
        """New updates were stored, or a chat became free: look now."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        await self._release(older_than=None if self.only_worker else self._lease_cutoff())
        last_release = time.monotonic()
        keeper = asyncio.create_task(self._keep_claims())
        try:
            while not self._stopping.is_set():
                await self.slots.acquire()
                claimed = None if self._stopping.is_set() else await self._claim()
                if claimed is not None:
                    task = asyncio.create_task(self._handle(claimed))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                    continue
                self.slots.release()
                if time.monotonic() - last_release > self._lease_check():
                    last_release = time.monotonic()
                    if not self.only_worker:
                        await self._release(older_than=self._lease_cutoff(), not_of=self.name)
                    # Its own claims that no task holds any more (settling them failed).
                    await self._release(
                        older_than=self._lease_cutoff(),
                        worker=self.name,
                        except_ids=set(self._in_hand),
                    )
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL)
        finally:
            await self._drain()
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def _keep_claims(self) -> None:
        """Renew this worker's claims well within the lease, while it lives."""
        while True:
            await asyncio.sleep(self._lease_check() / 2)
            if not self._in_hand:
                continue
            try:
                async with self.sessions() as session, session.begin():
                    await store.renew(session, self.name, self.wall(), set(self._in_hand))
            except Exception:
                log.exception("renewing inbox claims failed")

    async def _drain(self) -> None:
        """Let the updates in hand finish; what does not in time is rolled back and released."""
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=8)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if late:
                await self._release(worker=self.name)

    def _lease_cutoff(self) -> datetime:
        return self.wall() - timedelta(seconds=self.settings.inbox_lease)

    def _lease_check(self) -> float:
        return min(30.0, max(1.0, self.settings.inbox_lease / 2))

    async def _release(self, **which: Any) -> None:
        try:
            async with self.sessions() as session, session.begin():
                released = await store.release(session, **which)
        except Exception:
            log.exception("releasing inbox claims failed")
            return
        if released:
            log.warning(
                "%s updates left in handling by a stopped worker are handled again", released
            )

    async def _claim(self) -> store.ClaimedUpdate | None:
        try:
            async with self.sessions() as session, session.begin():
                return await store.claim(session, self.name, self.wall())
        except Exception:  # the database may be briefly away; the updates stay stored
            log.exception("claiming an update failed")
            return None

    # -- handling ------------------------------------------------------------------------------

    async def _handle(self, claimed: store.ClaimedUpdate) -> None:
        lane = Lane(claimed.chat_id, self.slots.release, self.slots.acquire)
        token = current_lane.set(lane)
        self._in_hand.add(claimed.update_id)
        try:
            await self._attempt(claimed)
        except Exception:
            log.exception("update %s: settling it failed", claimed.update_id)
            await self._hand_back(claimed)
        finally:
            self._in_hand.discard(claimed.update_id)
            current_lane.reset(token)
            self.slots.release()
            self.nudge()

    async def _hand_back(self, claimed: store.ClaimedUpdate) -> None:
        """Settling failed (the database away for a moment): put the update back in its lane,
        or its chat would wait behind a claim nobody works. If even that fails, the claim is no
        longer renewed, and runs out its lease (or is released at the next start)."""
        for delay in (0.5, 1.0, 2.0, 4.0):
            try:
                await self._later(claimed, delay, "settling failed", counted=False)
                return
            except Exception:
                await asyncio.sleep(delay)

    async def _attempt(self, claimed: store.ClaimedUpdate) -> None:
        attempts = self.settings.inbox_attempts
        if claimed.replies is not None:  # applied already: only its replies are left to send
            try:
                replies = after_commit.load(claimed.replies)
            except Exception as exc:
                await self._give_up(claimed, f"its replies cannot be read: {describe(exc)}")
                return
            await self._send_replies(claimed, replies)
            return
        if claimed.attempts > attempts:
            # A worker stopped in the middle of this update that many times: set it aside.
            await self._give_up(claimed, f"stopped mid-update {claimed.attempts - 1} times")
            return
        try:
            update = Update.model_validate(json.loads(claimed.raw), context={"bot": self.bot})
        except Exception as exc:
            await self._failed_attempt(claimed, describe(exc), apologise=True)
            return
        ticket = Ticket(claimed.update_id, claimed.chat_id, self.name, claimed.attempts, attempts)
        started = time.monotonic()
        try:
            await self.dp.feed_update(self.bot, update, inbox_ticket=ticket)
        except LaneMustWait as wait:
            await self._later(claimed, wait.seconds, None, counted=False)
            return
        except ClaimLost:
            log.warning("update %s was taken over by another worker", claimed.update_id)
            return
        except (SkipHandler, CancelHandler):  # a kind of update aiogram does not know yet
            await self._nothing_to_do(claimed)
            return
        except Exception as exc:
            await self._failed_attempt(claimed, ticket.error or describe(exc), apologise=False)
            return
        if ticket.done:
            if ticket.replies:
                await self._send_replies(claimed, ticket.replies)
            self.handled += 1
            metrics.update_handled(time.monotonic() - started)
        else:  # the error handler apologised; the work was rolled back
            await self._give_up(claimed, ticket.error or "handler failed")

    async def _send_replies(
        self, claimed: store.ClaimedUpdate, replies: list[TelegramMethod[Any]]
    ) -> None:
        """The update is committed: its replies go out, and only then is its chat free for the
        next update. A flood limit now is waited out without a worker slot; Telegram away for
        longer leaves what is unsent in the row, to be sent when the chat is due again."""
        lane = current_lane.get()
        if lane is not None:
            lane.answered = True  # committed: nothing may roll it back any more
        delivery = await after_commit.deliver(self.bot, replies)
        if not delivery.left:
            await self._nothing_to_do(claimed)
            return
        waiting = f"{len(delivery.left)} replies wait for Telegram"
        if claimed.attempts >= REPLY_ATTEMPTS:
            # Telegram away this long: the chat must not wait for ever behind these replies.
            await self._give_up(claimed, f"{waiting}, given up after {claimed.attempts} tries")
            return
        await self._later(
            claimed,
            max(delivery.retry_in, retry_delay(claimed.attempts)),
            waiting,
            counted=True,
            replies=after_commit.dump(self.bot, delivery.left),
        )

    async def _nothing_to_do(self, claimed: store.ClaimedUpdate) -> None:
        async with self.sessions() as session, session.begin():
            await store.finish(session, claimed.update_id, claimed.chat_id, self.name, self.wall())

    async def _failed_attempt(
        self, claimed: store.ClaimedUpdate, error: str, *, apologise: bool
    ) -> None:
        log.warning("update %s, attempt %s: %s", claimed.update_id, claimed.attempts, error)
        if claimed.attempts < self.settings.inbox_attempts:
            await self._later(claimed, retry_delay(claimed.attempts), error, counted=True)
            return
        if apologise:
            await self._apologise(claimed)
        await self._give_up(claimed, error)

    async def _later(
        self,
        claimed: store.ClaimedUpdate,
        seconds: float,
        error: str | None,
        *,
        counted: bool,
        replies: str | None = None,
    ) -> None:
        due = self.wall() + timedelta(seconds=seconds)
        async with self.sessions() as session, session.begin():
            await store.retry_later(
                session, claimed.update_id, self.name, due, error, counted=counted, replies=replies
            )
        asyncio.get_running_loop().call_later(seconds, self.nudge)

    async def _give_up(self, claimed: store.ClaimedUpdate, error: str) -> None:
        self.failed += 1
        metrics.update_failed()
        log.error("update %s set aside as failed: %s", claimed.update_id, error)
        async with self.sessions() as session, session.begin():
            await store.fail(
                session, claimed.update_id, claimed.chat_id, self.name, self.wall(), error
            )

    async def _apologise(self, claimed: store.ClaimedUpdate) -> None:
        """An update aiogram could not read: the person still hears that it went wrong."""
        from handlers.errors import APOLOGY

        if claimed.chat_id is None or claimed.chat_id < 0:
            return
        try:
            raw = json.loads(claimed.raw)
            locale = await locale_of(self.sessions, raw, self.settings.default_locale)
            await self.bot.send_message(claimed.chat_id, self.i18n.gettext(APOLOGY, locale=locale))
        except (Exception, LaneMustWait) as exc:  # a courtesy, not worth a retry
            log.info("could not apologise for update %s: %s", claimed.update_id, exc)

    # -- telling a flooding chat ---------------------------------------------------------------

    def tell_slow_down(self, chat_id: int, update: dict[str, Any]) -> None:
        """Off the poller's path: a 429 on this chat must not hold up storing the others'."""
        task = asyncio.create_task(self._slow_down(chat_id, update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _slow_down(self, chat_id: int, update: dict[str, Any]) -> None:
        try:
            locale = await locale_of(self.sessions, update, self.settings.default_locale)
            await self.bot.send_message(chat_id, self.i18n.gettext(SLOW_DOWN, locale=locale))
        except Exception as exc:  # a courtesy: the chat's own updates go on regardless
            log.info("could not ask chat %s to slow down: %s", chat_id, exc)
