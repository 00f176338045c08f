"""Setting up audiences in bulk and waiting for the sender, for the outbound tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import announcements
from bot.people import ensure_person
from bot.regions import import_regions
from storage import delivery, queries
from storage.models import Outbox, Person
from storage.views import DeliveryCounts, DistrictView, Grant, PersonView, Role, Scope
from tests.emulator.server import ApiError, Emulator, SimUser

# A second district beside Kendal, so that every audience test can check it stays out.
BATANG_CSV = """kode,nama,tingkat
33.25,Kabupaten Batang,kabupaten
33.25.01,Wonotunggal,kecamatan
33.25.01.2001,Sodong,desa
33.25.01.2002,Brayo,desa
33.25.02,Bandar,kecamatan
33.25.02.1001,Bandar,kelurahan
"""
BATANG_KECAMATAN = "33.25.01"
SODONG = "33.25.01.2001"


async def batang(sessions: async_sessionmaker[AsyncSession], now: datetime) -> DistrictView:
    async with sessions() as session, session.begin():
        await import_regions(session, BATANG_CSV, now, prefix="BTG")
    async with sessions() as session:
        district = await queries.district_by_kode(session, "33.25")
    assert district is not None
    return district


async def followers(
    sessions: async_sessionmaker[AsyncSession],
    emulator: Emulator,
    village: str,
    count: int,
    first_id: int,
    now: datetime,
    locale: str = "id",
) -> list[SimUser]:
    users = []
    async with sessions() as session, session.begin():
        for n in range(count):
            user = emulator.user(first_id + n, f"Warga {n}", locale)
            row = await ensure_person(session, user.id, user.first_name, None, locale, now)
            assert row.id is not None
            await queries.add_follow(session, row.id, village, now)
            users.append(user)
    return users


async def queue_announcement(
    sessions: async_sessionmaker[AsyncSession],
    emulator: Emulator,
    district_id: int,
    text: str,
    now: datetime,
    *,
    scope: Scope = Scope.DISTRICT,
    codes: tuple[str, ...] = (),
    author_telegram_id: int = 999_001,
    progress: bool = False,
) -> int:
    """A POKJA member's confirmed announcement, through the domain functions the wizard uses.

    With `progress`, the author's chat holds a progress message, as the wizard leaves it.
    """
    emulator.user(author_telegram_id, "Pak POKJA", "id")
    shown = None
    if progress:
        message = emulator._store(author_telegram_id, text="📤 …")
        shown = (author_telegram_id, message.message_id)
    async with sessions() as session, session.begin():
        row = await ensure_person(session, author_telegram_id, "Pak POKJA", None, "id", now)
        assert row.id is not None
        author = PersonView(
            row.id,
            author_telegram_id,
            "Pak POKJA",
            "id",
            (Grant(Role.POKJA, district_id, None, None),),
        )
        draft = await announcements.start(session, author, district_id, now)
        await announcements.set_body(session, author, draft.id, text)
        await announcements.choose_scope(session, author, draft.id, scope)
        for kode in codes:
            await announcements.toggle_place(session, author, draft.id, kode)
        if codes:
            await announcements.finish_picking(session, author, draft.id)
        queued = await announcements.confirm(session, author, draft.id, now, progress=shown)
    return queued.id


async def counts(sessions: async_sessionmaker[AsyncSession], broadcast_id: int) -> DeliveryCounts:
    async with sessions() as session:
        return await delivery.delivery_counts(session, broadcast_id)


async def until(condition: Callable[[], object], within: float = 30, what: str = "") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.05)


async def until_delivered(
    sessions: async_sessionmaker[AsyncSession], broadcast_id: int, within: float = 60
) -> DeliveryCounts:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        now_counts = await counts(sessions, broadcast_id)
        if now_counts.open == 0:
            return now_counts
        if loop.time() > deadline:
            raise AssertionError(f"broadcast {broadcast_id} still open: {now_counts}")
        await asyncio.sleep(0.1)


async def unreachable_ids(sessions: async_sessionmaker[AsyncSession]) -> set[int]:
    async with sessions() as session:
        rows = await session.execute(
            select(Person.telegram_id).where(Person.unreachable_at.is_not(None))  # type: ignore[union-attr]
        )
        return set(rows.scalars())


async def outbox_statuses(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(select(Outbox.status))
        out: dict[str, int] = {}
        for status in rows.scalars():
            out[status] = out.get(status, 0) + 1
        return out


async def drained(sessions: async_sessionmaker[AsyncSession], within: float = 60) -> None:
    """Wait until the sender has settled every queued message."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        async with sessions() as session:
            rows = await session.execute(
                select(Outbox.id).where(Outbox.status.in_(("pending", "sending")))  # type: ignore[attr-defined]
            )
            if not rows.first():
                return
        if loop.time() > deadline:
            async with sessions() as session:
                stuck = (
                    await session.execute(
                        select(
                            Outbox.status, Outbox.attempts, Outbox.error, Outbox.not_before
                        ).where(
                            Outbox.status.in_(("pending", "sending"))  # type: ignore[attr-defined]
                        )
                    )
                ).all()
            raise AssertionError(f"the outbox did not drain: {stuck[:5]}")
        await asyncio.sleep(0.05)


@dataclass
class Call:
    """A Bot API call as it arrived: when, what, and the fault it was given, if any."""

    at: float
    method: str
    params: dict[str, Any]
    fault: str | None


class Faults:
    """Transient faults on chosen calls, as Telegram and networks produce them.

    `add` plans one fault for the next call of a method that matches `when`: "500" (a server
    error), "drop" (the connection dies before Telegram did anything) or "429" (a flood limit
    with `retry_after`). Each planned fault is used once, in the order planned. Every call but
    getUpdates is recorded in `calls`, with the fault it met.
    """

    def __init__(self, emulator: Emulator) -> None:
        self.plan: list[tuple[str, Callable[[dict[str, Any]], bool], str, int]] = []
        self.calls: list[Call] = []
        original = emulator._params

        async def params(request: Any) -> dict[str, Any]:
            values = await original(request)
            method = request.match_info["method"].lower()
            if method == "getupdates":
                return values
            fault = self._take(method, values)
            self.calls.append(Call(time.monotonic(), method, values, fault and fault[0]))
            if fault is not None:
                kind, retry_after = fault
                if kind == "500":
                    raise ApiError(500, "Internal Server Error")
                if kind == "429":
                    raise ApiError(
                        429, f"Too Many Requests: retry after {retry_after}", retry_after
                    )
                request.transport.close()
                raise ConnectionResetError("dropped by the test")
            return values

        emulator._params = params  # type: ignore[method-assign]

    def add(
        self,
        method: str,
        fault: str,
        when: Callable[[dict[str, Any]], bool] = lambda params: True,
        *,
        times: int = 1,
        retry_after: int = 1,
    ) -> None:
        assert fault in ("500", "drop", "429"), fault
        self.plan.extend([(method.lower(), when, fault, retry_after)] * times)

    def _take(self, method: str, values: dict[str, Any]) -> tuple[str, int] | None:
        for index, (target, when, fault, retry_after) in enumerate(self.plan):
            if target == method and when(values):
                del self.plan[index]
                return fault, retry_after
        return None

    def of(
        self, method: str, when: Callable[[dict[str, Any]], bool] = lambda p: True
    ) -> list[Call]:
        return [c for c in self.calls if c.method == method.lower() and when(c.params)]
