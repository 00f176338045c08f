"""Start-up: the same coroutine runs in production and in the end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiohttp import web as aioweb
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import commands, reminders
from bot.after_commit import HoldUntilCommit
from bot.config import Settings
from bot.i18n import N_, build_i18n
from bot.inbox import KEEP_DAYS
from bot.leader import PollingLeader, lead
from bot.middlewares import PersonI18nMiddleware, SessionMiddleware
from bot.sender import Sender
from bot.startup import check_database, reach_telegram
from bot.telegram import FloodGate, HarmlessRefusals, WaitOutFloodLimits
from bot.web import (
    InboxState,
    build_web_app,
    queue_depths,
    start_web,
    stop_web,
    webhook_path_of,
    webhook_secret,
)
from bot.workers import Intake, Poller, Workers
from handlers import build_root_router, describe
from handlers.outbound import OutboundRenderer
from storage import inbox, migrate, queries
from storage.db import (
    READ_ONLY_OPTION,
    create_engine,
    is_sqlite,
    ping,
    session_factory,
)
from storage.fsm import DatabaseStorage
from storage.types import utcnow

log = logging.getLogger("paket")


def build_bot(settings: Settings, *, for_sender: bool = False) -> Bot:
    """The bot for replies waits out a 429 itself; the sender's bot reports it instead, because
    the sender pauses all its sending at once."""
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.telegram_api_url),
        limit=max(10, settings.outbox_batch) if for_sender else 100,
    )
    if not for_sender:
        add_reply_middlewares(session)
    return Bot(
        token=settings.require_token(),
        session=session,
        default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True),
    )


def add_reply_middlewares(session: BaseSession) -> None:
    """The replying bot's way of calling Telegram: replies held until the update commits
    (outermost), flood limits waited out per chat, harmless refusals taken as done."""
    gate = FloodGate()
    session.middleware(HoldUntilCommit(gate))
    session.middleware(WaitOutFloodLimits(gate=gate))
    session.middleware(HarmlessRefusals())


def build_storage(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> tuple[BaseStorage, BaseEventIsolation]:
    """Conversation state in our own database, always, in the transaction of the update that
    changes it: an update rolled back (and tried again by the inbox) rolls its state back too,
    which state kept in Redis could not. Instances share it through the database, and the
    inbox's claim per chat already keeps one chat's updates apart across instances."""
    if settings.redis_url:
        log.info("REDIS_URL is not needed: conversation state is kept in the database")
    return DatabaseStorage(sessions), SimpleEventIsolation()


def build_dispatcher(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    i18n: I18n,
    clock: Callable[[], datetime] = utcnow,
) -> Dispatcher:
    storage, isolation = build_storage(settings, sessions)
    dp = Dispatcher(storage=storage, events_isolation=isolation)
    # The session opens before aiogram's FSM middleware reads the state, so that read goes
    # through the update's own transaction instead of a second one.
    dp.update.outer_middleware.unregister(dp.fsm)
    dp.update.outer_middleware(SessionMiddleware(sessions, clock, settings.default_locale))
    dp.update.outer_middleware(dp.fsm)
    PersonI18nMiddleware(i18n).setup(dp)
    dp.include_router(build_root_router())
    dp["settings"] = settings
    return dp


MENU_DESCRIPTIONS: dict[commands.Cmd, str] = {
    commands.START: N_("Home: what you can do now"),
    commands.NEW: N_("Write a new proposal"),
    commands.DRAFTS: N_("Your drafts and proposals"),
    commands.VILLAGE: N_("Follow your village"),
    commands.ANNOUNCEMENTS: N_("Recent announcements"),
    commands.CANCEL: N_("Leave the conversation, keeping the draft"),
    commands.LANGUAGE: N_("Change the language"),
    commands.HELP: N_("Help"),
}


def command_menu(i18n: I18n, locale: str) -> list[BotCommand]:
    """The menu in the reader's language: Indonesian names for Indonesian, English for English."""
    return [
        BotCommand(command=cmd.name(locale), description=i18n.gettext(d, locale=locale))
        for cmd, d in MENU_DESCRIPTIONS.items()
    ]


async def register_commands(bot: Bot, i18n: I18n, default_locale: str) -> None:
    await bot.set_my_commands(command_menu(i18n, default_locale), scope=BotCommandScopeDefault())
    for locale in i18n.available_locales:
        await bot.set_my_commands(
            command_menu(i18n, locale), scope=BotCommandScopeDefault(), language_code=locale
        )


FAILED_KEEP_DAYS = 30


async def purge_inbox(session: AsyncSession) -> None:
    now = utcnow()
    await inbox.purge(
        session,
        now - timedelta(days=KEEP_DAYS),
        failed_before=now - timedelta(days=FAILED_KEEP_DAYS),
    )


@dataclass
class App:
    """One running bot: engine, Bot, Dispatcher. `stop()` ends polling cleanly."""

    settings: Settings
    clock: Callable[[], datetime] = utcnow
    engine: AsyncEngine | None = None
    bot: Bot | None = None
    dp: Dispatcher | None = None
    sessions: async_sessionmaker[AsyncSession] | None = None
    sender: Sender | None = None
    scheduler: AsyncIOScheduler | None = None
    workers: Workers | None = None
    poller: Poller | None = None
    intake: Intake | None = None
    web: aioweb.AppRunner | None = None
    i18n: I18n | None = None
    _background: list[asyncio.Task[None]] = field(default_factory=list)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _stop_asked: bool = False
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def prepare(self) -> None:
        """Everything before the first update; a failure half-way closes what was opened."""
        try:
            await self._prepare()
        except BaseException:
            await self.close()
            raise

    async def _prepare(self) -> None:
        self.settings.require_token()
        self.engine = create_engine(self.settings.database_url)
        await check_database(self.engine, self.settings.database_url)
        await migrate.upgrade(self.engine)
        sessions = session_factory(self.engine)
        i18n = build_i18n(self.settings.default_locale)
        self.bot = build_bot(self.settings)
        self.dp = build_dispatcher(self.settings, sessions, i18n, self.clock)
        self.sessions = sessions
        self.i18n = i18n
        self.sender = Sender(
            build_bot(self.settings, for_sender=True),
            sessions,
            self.settings,
            OutboundRenderer(i18n),
            only_sender=is_sqlite(self.settings.database_url),
            clock=self.clock,
        )
        log.info("routers:\n%s", "\n".join(describe(self.dp)))
        # Telegram away at start-up is an outage, not a defect: one line, then try again.
        me = await reach_telegram(self.bot.me, log.warning, locale=self.settings.default_locale)
        async with sessions() as session, session.begin():
            await queries.put_setting(session, "bot_username", me.username or "")
            await purge_inbox(session)
        await register_commands(self.bot, i18n, self.settings.default_locale)

    async def run_polling(self, *, handle_signals: bool = True) -> None:
        """Fill the inbox (long polling, or the webhook when WEBHOOK_URL is set) and work it
        until stopped.

        An update is confirmed to Telegram (the next offset, or the webhook's 200) only after it
        is stored, and marked done only in the transaction of its handling: a crash at any moment
        loses nothing and applies nothing twice. On PostgreSQL every instance works the inbox and
        the outbox, and exactly one polls, elected by an advisory lock.
        """
        await self.prepare()
        try:
            assert self.bot is not None and self.dp is not None
            self._start_background()
            workers = self._start_workers()
            self.intake = Intake(
                self.settings,
                self._sessions(),
                on_stored=workers.nudge,
                tell=workers.tell_slow_down,
            )
            webhook = self.settings.webhook_url
            secret = await self._webhook_secret() if webhook else None
            await self._start_web(secret)
            if webhook and secret:
                await self.bot.set_webhook(
                    webhook,
                    secret_token=secret,
                    allowed_updates=self.dp.resolve_used_update_types(),
                    drop_pending_updates=False,
                )
            else:
                await self.bot.delete_webhook(drop_pending_updates=False)
                self.poller = Poller(self.settings, self.intake)
            if handle_signals:
                self._handle_signals()
            self._ready.set()
            if not self._stop_asked:
                await self._fill_inbox()
        finally:
            await self.close()

    async def _fill_inbox(self) -> None:
        if self.poller is None:  # webhook mode: the web server stores what Telegram posts
            await self._stopping.wait()
        elif is_sqlite(self.settings.database_url):
            await self.poller.run()
        else:
            # A follower waits for the lock for as long as the leader lives: a stop must not
            # wait for that, so the election is cancelled (which releases what it holds).
            electing = asyncio.create_task(
                lead(PollingLeader(self.settings.database_url), self.poller.run)
            )
            stopping = asyncio.create_task(self._stopping.wait())
            try:
                await asyncio.wait({electing, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
                if not electing.done():
                    electing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await electing

    async def _webhook_secret(self) -> str:
        async with self._sessions()() as session, session.begin():
            return await webhook_secret(session, self.settings.webhook_secret)

    async def _start_web(self, secret: str | None) -> None:
        """/healthz and /metrics always (on 127.0.0.1 by default); the webhook in webhook mode."""
        assert self.engine is not None and self.intake is not None
        engine, sessions = self.engine, self._sessions()

        async def inbox_state() -> InboxState:
            async with sessions() as session:
                await session.connection(execution_options={READ_ONLY_OPTION: True})
                found = await inbox.depth(session)
            pending = sum(found.by_status.get(s, 0) for s in inbox.UNHANDLED)
            oldest = found.oldest_pending
            age = (utcnow() - oldest).total_seconds() if oldest is not None else None
            return InboxState(pending, age)

        async def inbox_depth(session: AsyncSession) -> int:
            found = await inbox.depth(session)
            return sum(found.by_status.get(s, 0) for s in inbox.UNHANDLED)

        app = build_web_app(
            database=lambda: ping(engine),
            inbox=inbox_state,
            depths=queue_depths(sessions, inbox_depth),
            store=self.intake.store if secret else None,
            secret=secret,
            webhook_path=webhook_path_of(self.settings.webhook_url or "/telegram"),
        )
        self.web = await start_web(app, self.settings.web_host, self.settings.web_port)

    def _sessions(self) -> async_sessionmaker[AsyncSession]:
        assert self.sessions is not None
        return self.sessions

    def _start_workers(self) -> Workers:
        """Workers handle the inbox, whoever filled it (this poller, another's, a webhook)."""
        assert self.bot is not None and self.dp is not None and self.i18n is not None
        self.workers = Workers(
            self.bot,
            self.dp,
            self._sessions(),
            self.settings,
            self.i18n,
            only_worker=is_sqlite(self.settings.database_url),
        )
        self._background.append(asyncio.create_task(self.workers.run(), name="workers"))
        return self.workers

    def _handle_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, lambda: asyncio.ensure_future(self.stop()))

    def _start_background(self) -> None:
        """The sender drains the outbox; the scheduler ticks the reminders (the DB decides)."""
        assert self.sender is not None
        self._background.append(asyncio.create_task(self.sender.run(), name="sender"))
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.scheduler.add_job(
            self.remind,
            "interval",
            seconds=self.settings.reminder_every,
            next_run_time=utcnow(),
            max_instances=1,
            coalesce=True,
            id="reminders",
        )
        # The inbox is forgotten as it ages, while the bot runs, not only at start-up: one
        # person's flood must not grow the database until the next restart.
        self.scheduler.add_job(
            self.purge_inbox, "interval", hours=1, max_instances=1, coalesce=True, id="purge"
        )
        self.scheduler.start()

    async def purge_inbox(self) -> None:
        try:
            async with self._sessions()() as session, session.begin():
                await purge_inbox(session)
        except Exception:
            log.exception("purging the inbox failed; the next hour tries again")

    async def remind(self) -> int:
        """One reminder tick at the application's clock."""
        assert self.sessions is not None
        try:
            async with self.sessions() as session, session.begin():
                queued = await reminders.tick(
                    session,
                    self.clock(),
                    default_offsets=self.settings.reminder_offsets,
                    quiet_hours=self.settings.quiet_hours,
                )
        except Exception:
            log.exception("reminder tick failed; the next tick tries again")
            return 0
        if queued and self.sender is not None:
            self.sender.nudge()
        return queued

    async def wait_ready(self) -> None:
        await self._ready.wait()

    async def stop(self) -> None:
        """Stop polling and the workers; `run_polling` then closes everything and returns."""
        self._stop_asked = True
        self._stopping.set()
        if self.poller is not None:
            self.poller.stop()
        if self.workers is not None:
            self.workers.stop()

    async def close(self) -> None:
        if self.web is not None:
            # First: no new webhook request is accepted while the rest shuts down.
            await stop_web(self.web)
            self.web = None
        if self.workers is not None:
            self.workers.stop()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.sender is not None:
            self.sender.stop()
        for task in self._background:
            try:
                await asyncio.wait_for(task, 15)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
            except Exception:
                log.exception("background task failed")
        if self.sender is not None:
            await self.sender.bot.session.close()
        if self.dp is not None:
            await self.dp.storage.close()
        if self.bot is not None:
            await self.bot.session.close()
        if self.engine is not None:
            await self.engine.dispose()
