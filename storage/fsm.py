"""An aiogram FSM storage in our own database, the embedded default when no Redis is configured."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import current_session
from storage.models import FsmRecord


class DatabaseStorage(BaseStorage):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._keys = DefaultKeyBuilder(with_destiny=True)

    async def close(self) -> None:
        return None

    async def _get(self, key: StorageKey) -> FsmRecord | None:
        session = current_session.get()
        if session is not None:
            return await session.get(FsmRecord, self._keys.build(key))
        async with self._sessions() as own:
            return await own.get(FsmRecord, self._keys.build(key))

    async def _put(self, key: StorageKey, **values: Any) -> None:
        session = current_session.get()
        if session is not None:
            await self._write(session, key, values)
            return
        async with self._sessions() as own, own.begin():
            await self._write(own, key, values)

    async def _write(self, session: AsyncSession, key: StorageKey, values: dict[str, Any]) -> None:
        storage_key = self._keys.build(key)
        record = await session.get(FsmRecord, storage_key)
        state = values.get("state", record.state if record else None)
        data = values.get("data", record.data if record else "{}")
        if state is None and data == "{}":
            if record is not None:
                await session.delete(record)
            return
        if record is None:
            session.add(FsmRecord(key=storage_key, state=state, data=data))
        else:
            record.state, record.data = state, data

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._put(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        record = await self._get(key)
        return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._put(key, data=json.dumps(dict(data), ensure_ascii=False))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = await self._get(key)
        return dict(json.loads(record.data)) if record else {}
