"""Who polls Telegram: exactly one instance per database.

Telegram serves getUpdates to one caller at a time (a second gets 409), so among several
instances on PostgreSQL one is elected through a session-level advisory lock held on a connection
of its own. When that instance dies, its connection closes, PostgreSQL releases the lock, and a
follower, trying every couple of seconds, takes over. On SQLite a second instance on the same file
is refused outright: the file cannot be shared across machines anyway, and two processes on it
would only fight over its single write lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.config import N_, ConfigError

log = logging.getLogger("paket.leader")

RETRY_EVERY = 2.0
CHECK_EVERY = 2.0
CHECK_TIMEOUT = 5.0


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_try_advisory_lock, from a readable name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PollingLeader:
    """Election of the one polling instance on PostgreSQL.

    `wait_until_leader()` returns once this instance holds the lock; `lost` is set when the
    connection that holds it fails (the lock may then be someone else's within seconds, so
    polling must stop at once). `release()` gives the lock up. After a loss, `wait_until_leader()`
    may be called again.
    """

    def __init__(
        self,
        database_url: str,
        *,
        name: str = "paket-bot:polling",
        retry_every: float = RETRY_EVERY,
        check_every: float = CHECK_EVERY,
        check_timeout: float = CHECK_TIMEOUT,
    ) -> None:
        self.key = lock_key(name)
        self.retry_every = retry_every
        self.check_every = check_every
        self.check_timeout = check_timeout
        # NullPool: closing the connection really closes it, so the lock goes with it. A pooled
        # connection would go back to the pool still holding the lock.
        self._engine: AsyncEngine = create_async_engine(database_url, poolclass=NullPool)
        self._conn: AsyncConnection | None = None
        self._watch: asyncio.Task[None] | None = None
        self.lost = asyncio.Event()
        self.is_leader = False

    async def wait_until_leader(self) -> None:
        warned = False
        while True:
            try:
                if await self._try():
                    break
            except Exception as exc:  # the database is down or restarting: keep trying
                if not warned:
                    log.warning("leader election: database unreachable (%s); retrying", exc)
                    warned = True
                await self._close_connection()
            await asyncio.sleep(self.retry_every)
        self.is_leader = True
        self.lost.clear()
        self._watch = asyncio.create_task(self._watch_connection(), name="leader-watch")
        log.info("this instance polls Telegram (advisory lock %s)", self.key)

    async def _try(self) -> bool:
        if self._conn is None:
            conn = await self._engine.connect()
            # Autocommit: the lock is the session's, and an idle open transaction could be ended
            # by idle_in_transaction_session_timeout, taking the connection with it.
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        got = await self._conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        return bool(got.scalar_one())

    async def _watch_connection(self) -> None:
        """The lock lives exactly as long as the connection: check it is alive."""
        while True:
            await asyncio.sleep(self.check_every)
            try:
                assert self._conn is not None
                await asyncio.wait_for(self._conn.execute(text("SELECT 1")), self.check_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("leader lost its database connection (%s): stops polling", exc)
                self.is_leader = False
                self.lost.set()
                await self._close_connection()
                return

    async def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), self.check_timeout)

    async def release(self) -> None:
        """Give up the lock (closing the connection releases it) and free the engine."""
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        if self._conn is not None and self.is_leader:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}),
                    self.check_timeout,
                )
        self.is_leader = False
        await self._close_connection()
        await self._engine.dispose()


async def lead(leader: PollingLeader, work: Callable[[], Awaitable[None]]) -> None:
    """Run `work` (the polling loop) whenever this instance leads; stop it when leadership is lost.

    Returns when `work` returns by itself; cancelling `lead` cancels `work` and releases the lock.
    """
    try:
        while True:
            await leader.wait_until_leader()
            working = asyncio.create_task(work(), name="leader-work")
            losing = asyncio.create_task(leader.lost.wait(), name="leader-lost")
            try:
                await asyncio.wait({working, losing}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                losing.cancel()
                if not working.done():
                    working.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await working
            if working.done() and not working.cancelled() and not leader.lost.is_set():
                working.result()  # re-raise what the work raised
                return
    finally:
        await leader.release()


# -- SQLite --------------------------------------------------------------------------------------


class AlreadyRunning(ConfigError):
    """A second `paket-bot run` on the same SQLite file; printed as one line by the CLI."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            N_(
                "Another paket-bot is already running on {path}: stop it first, or give this "
                "one a DATABASE_URL of its own."
            ),
            path=str(path),
        )


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory database or another backend."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    name = url.database or ""
    if name in ("", ":memory:") or name.startswith("file::memory:"):
        return None
    return Path(name)


class SingleInstanceLock:
    """An exclusive flock on `<database file>.lock`, held while the bot runs.

    The kernel drops it when the process ends, however it ends, so a kill -9 leaves no stale lock
    to clean up. The operator's other commands do not take it: they may run beside the bot.
    """

    def __init__(self, database_file: Path) -> None:
        self.database_file = database_file
        self.path = database_file.with_name(database_file.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(self.database_file.resolve()) from None
        except BaseException:
            os.close(fd)
            raise
        # For the operator who looks: which process holds it.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> SingleInstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
