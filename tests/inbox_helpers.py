"""Waiting for the bot's inbox, and flooding it, for the inbox tests and the fixtures."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import inbox
from storage.models import Inbox


def settle_inbox(
    sessions: async_sessionmaker[AsyncSession], poll: float = 0.02
) -> Callable[[], Awaitable[None]]:
    """A wait for `Emulator.settlers`: until no stored update is pending or being handled."""

    async def settled() -> None:
        while True:
            async with sessions() as session:
                if not await inbox.has_unhandled(session):
                    return
            await asyncio.sleep(poll)

    return settled


async def inbox_statuses(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(select(Inbox.status, func.count()).group_by(Inbox.status))
        return {status: int(n) for status, n in rows.all()}


async def inbox_row(sessions: async_sessionmaker[AsyncSession], update_id: int) -> Inbox:
    async with sessions() as session:
        row = await session.get(Inbox, update_id)
        assert row is not None
        return row
