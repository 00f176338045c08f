"""One polling instance: the PostgreSQL advisory-lock election and the SQLite file lock."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import ConfigError
from bot.leader import (
    AlreadyRunning,
    PollingLeader,
    SingleInstanceLock,
    lead,
    sqlite_file,
)
from storage.db import create_engine

PG_URL = os.environ.get("TEST_DATABASE_URL")
ROOT = Path(__file__).resolve().parents[1]
needs_pg = pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set")


def leaders(n: int) -> list[PollingLeader]:
    """Instances contending for one fresh lock name, fast enough for a test."""
    assert PG_URL
    name = f"test:{uuid.uuid4().hex}"
    return [
        PollingLeader(PG_URL, name=name, retry_every=0.2, check_every=0.2, check_timeout=2)
        for _ in range(n)
    ]


async def backend_pid(leader: PollingLeader) -> int:
    assert leader._conn is not None
    return int((await leader._conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def terminate(pid: int) -> None:
    assert PG_URL
    admin = create_engine(PG_URL)
    try:
        async with admin.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await conn.commit()
    finally:
        await admin.dispose()


async def first_to_lead(contenders: list[PollingLeader]) -> tuple[PollingLeader, asyncio.Task]:
    tasks = {asyncio.create_task(c.wait_until_leader()): c for c in contenders}
    done, _ = await asyncio.wait(tasks, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    assert len(done) == 1, "exactly one instance leads"
    winner = tasks[next(iter(done))]
    (waiting,) = (t for t in tasks if t not in done)
    return winner, waiting


@needs_pg
async def test_only_one_leads_and_the_other_takes_over_when_it_dies() -> None:
    one, two = leaders(2)
    try:
        winner, waiting = await first_to_lead([one, two])
        other = two if winner is one else one
        await asyncio.sleep(1.0)  # several retries: still only one
        assert not waiting.done()
        assert winner.is_leader and not other.is_leader

        await terminate(await backend_pid(winner))
        started = time.monotonic()
        await asyncio.wait_for(waiting, 5)
        assert time.monotonic() - started < 5
        assert other.is_leader
        # The dead leader notices that it lost the lock.
        await asyncio.wait_for(winner.lost.wait(), 5)
        assert not winner.is_leader
    finally:
        for c in (one, two):
            await c.release()


LEADER_PROCESS = """
import asyncio, sys
from bot.leader import PollingLeader

async def main():
    leader = PollingLeader(sys.argv[1], name=sys.argv[2], retry_every=0.2, check_every=0.2)
    await leader.wait_until_leader()
    print("leading", flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


@needs_pg
async def test_a_killed_leader_process_is_replaced_within_seconds() -> None:
    """kill -9 of the polling process: the kernel closes its socket, PostgreSQL ends its
    session and releases the lock, and the follower leads."""
    assert PG_URL
    name = f"test:{uuid.uuid4().hex}"
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LEADER_PROCESS,
        PG_URL,
        name,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    follower = PollingLeader(PG_URL, name=name, retry_every=0.2, check_every=0.2)
    try:
        assert holder.stdout is not None
        line = await asyncio.wait_for(holder.stdout.readline(), 20)
        assert line.strip() == b"leading"
        waiting = asyncio.create_task(follower.wait_until_leader())
        await asyncio.sleep(0.6)
        assert not waiting.done(), "two leaders at once"
        holder.kill()
        await holder.wait()
        started = time.monotonic()
        await asyncio.wait_for(waiting, 5)
        assert time.monotonic() - started < 5 and follower.is_leader
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()
        await follower.release()


@needs_pg
async def test_release_hands_over_and_the_lost_leader_can_lead_again() -> None:
    one, two = leaders(2)
    try:
        winner, waiting = await first_to_lead([one, two])
        other = two if winner is one else one
        await winner.release()
        await asyncio.wait_for(waiting, 5)
        assert other.is_leader
        again = asyncio.create_task(winner.wait_until_leader())
        await asyncio.sleep(0.6)
        assert not again.done()
        await terminate(await backend_pid(other))
        await asyncio.wait_for(again, 5)
        assert winner.is_leader and not winner.lost.is_set()
    finally:
        for c in (one, two):
            await c.release()


@needs_pg
async def test_lead_stops_the_work_when_leadership_is_lost_and_resumes_it() -> None:
    (leader,) = leaders(1)
    runs: list[asyncio.Event] = []

    async def poll_forever() -> None:
        runs.append(asyncio.Event())
        runs[-1].set()
        await asyncio.Event().wait()

    task = asyncio.create_task(lead(leader, poll_forever))
    try:
        for _ in range(50):
            if runs:
                break
            await asyncio.sleep(0.1)
        assert len(runs) == 1
        await terminate(await backend_pid(leader))
        for _ in range(100):
            if len(runs) == 2:
                break
            await asyncio.sleep(0.1)
        assert len(runs) == 2, "polling resumed after the connection came back"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert not leader.is_leader


@needs_pg
async def test_lead_returns_what_the_work_raises() -> None:
    (leader,) = leaders(1)

    async def broken() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await asyncio.wait_for(lead(leader, broken), 10)
    assert not leader.is_leader


async def test_a_follower_keeps_trying_while_the_database_is_down() -> None:
    leader = PollingLeader(
        "postgresql+asyncpg://nobody@127.0.0.1:1/none", retry_every=0.05, check_every=0.05
    )
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(leader.wait_until_leader(), 0.5)
        assert not leader.is_leader
    finally:
        await leader.release()


# -- SQLite ----------------------------------------------------------------------------------


def test_second_instance_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "paket.db"
    first, second = SingleInstanceLock(db), SingleInstanceLock(db)
    first.acquire()
    with pytest.raises(AlreadyRunning) as caught:
        second.acquire()
    assert isinstance(caught.value, ConfigError)
    assert str(db.resolve()) in str(caught.value)
    first.release()
    second.acquire()
    second.release()


def test_the_lock_is_per_file(tmp_path: Path) -> None:
    with SingleInstanceLock(tmp_path / "a.db"), SingleInstanceLock(tmp_path / "b.db"):
        assert (tmp_path / "a.db.lock").exists()


def test_a_killed_holder_releases_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "paket.db"
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from bot.leader import SingleInstanceLock\n"
        f"SingleInstanceLock(Path({str(db)!r})).acquire()\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(AlreadyRunning):
            SingleInstanceLock(db).acquire()
        assert (db.with_name("paket.db.lock")).read_text().strip() == str(holder.pid)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        with SingleInstanceLock(db):
            pass
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)


def test_the_refusal_is_one_translated_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import _

    monkeypatch.setenv("DEFAULT_LOCALE", "id")
    with SingleInstanceLock(tmp_path / "paket.db"), pytest.raises(AlreadyRunning) as caught:
        SingleInstanceLock(tmp_path / "paket.db").acquire()
    line = _(caught.value.template).format(**caught.value.params)
    assert "\n" not in line
    assert line.startswith("paket-bot lain sudah berjalan"), line


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:///paket.db", Path("paket.db")),
        ("sqlite+aiosqlite:////var/lib/paket-bot/paket.db", Path("/var/lib/paket-bot/paket.db")),
        ("sqlite+aiosqlite://", None),
        ("sqlite+aiosqlite:///:memory:", None),
        ("postgresql+asyncpg://postgres@127.0.0.1/paket", None),
    ],
)
def test_sqlite_file(url: str, expected: Path | None) -> None:
    assert sqlite_file(url) == expected
