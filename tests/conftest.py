"""Fixtures: a fresh database per test (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
the Bot API emulator, and the real application started against them."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import App
from bot.config import Settings
from storage import migrate
from storage.db import create_engine, session_factory
from tests.emulator.server import Emulator
from tests.inbox_helpers import settle_inbox
from tests.people import Person

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
REDIS_URL = os.environ.get("TEST_REDIS_URL")

# Property tests check what is read, not how fast: on a shared 2-core machine running three
# test processes, a case can take longer than hypothesis's default 200 ms deadline.
hypothesis_settings.register_profile("paket", deadline=None)
hypothesis_settings.load_profile("paket")


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'paket.db'}"
        return
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"paket_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.render_as_string(hide_password=False))
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    await migrate.upgrade(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emu = Emulator()
    await emu.start()
    yield emu
    await emu.stop()


class FakeClock:
    """The bot's notion of now; tests move it forward to cross deadlines."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 2, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class Running:
    app: App
    task: asyncio.Task[None]


@pytest.fixture
def settings(db_url: str, emulator: Emulator) -> Settings:
    return Settings(
        bot_token=emulator.token,
        database_url=db_url,
        telegram_api_url=emulator.base_url,
        polling_timeout=5,
        web_port=0,
        redis_url=REDIS_URL if "postgresql" in db_url else None,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def bot(
    settings: Settings, emulator: Emulator, clock: FakeClock, engine: AsyncEngine
) -> AsyncIterator[Callable[[], Running]]:
    """Start (and restart) the real application; stopped at the end of the test."""
    running: list[Running] = []
    emulator.settlers.append(settle_inbox(session_factory(engine)))

    async def start() -> Running:
        app = App(settings, clock=clock)
        task = asyncio.create_task(app.run_polling(handle_signals=False))
        await asyncio.wait_for(app.wait_ready(), 20)
        await emulator.idle()
        run = Running(app, task)
        running.append(run)
        return run

    yield start  # type: ignore[misc]
    for run in running:
        await stop(run)
    if settings.redis_url:
        from redis.asyncio import Redis

        client = Redis.from_url(settings.redis_url)
        await client.flushdb()
        await client.aclose()


async def stop(run: Running) -> None:
    if run.task.done():
        return
    await run.app.stop()
    try:
        await asyncio.wait_for(run.task, 10)
    except (TimeoutError, asyncio.CancelledError):
        run.task.cancel()


@pytest.fixture
def person(emulator: Emulator) -> Callable[..., Person]:
    counter = iter(range(1001, 9999))

    def make(name: str, language_code: str | None = "id", user_id: int | None = None) -> Person:
        return Person(emulator, emulator.user(user_id or next(counter), name, language_code))

    return make
