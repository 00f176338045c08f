"""Engine and sessions. SQLite gets WAL, a busy timeout and write-ahead locking at BEGIN."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_MS = 10_000
# execution_options(read_only=True): a transaction that only reads (health checks, metrics).
READ_ONLY_OPTION = "read_only"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    kwargs: dict[str, Any] = {"echo": echo}
    if not is_sqlite(url):
        kwargs["pool_pre_ping"] = True
        return create_async_engine(url, **kwargs)
    # One connection: SQLite has one writer anyway, and waiting for the pool is a fair FIFO
    # queue on the event loop, where waiting on the file lock is sleep-and-retry in a thread.
    engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _sqlite_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
        # another connection wrote meanwhile; taking the write lock up front makes it wait instead.
        # A connection marked READ_ONLY never writes, so it need not wait for the writer (WAL).
        if conn.get_execution_options().get(READ_ONLY_OPTION):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)


# The session of the update being handled. The database FSM storage writes through it, so state
# changes commit atomically with the draft they point to, and SQLite never sees a second writer
# inside one update (which would wait on the first until the busy timeout).
current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)


async def ping(engine: AsyncEngine) -> None:
    """One round trip to the database; raises whatever the driver raises when it cannot.

    Read-only, so on SQLite a health check never waits for, nor holds, the write lock.
    """
    async with engine.connect() as conn:
        await conn.execution_options(**{READ_ONLY_OPTION: True})
        await conn.execute(text("SELECT 1"))
