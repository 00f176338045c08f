"""An aiogram FSM storage in our own database, the embedded default when no Redis is configured."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import make_transient_to_detached

from storage.db import current_session
from storage.models import FsmRecord

_RECORDS = "fsm_records"  # session.info key


class DatabaseStorage(BaseStorage):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._keys = DefaultKeyBuilder(with_destiny=True)

    async def close(self) -> None:
        return None

    async def _get(self, key: StorageKey) -> FsmRecord | None:
        session = current_session.get()
        if session is not None:
            return await self._read(session, self._keys.build(key))
        async with self._sessions() as own:
            return await own.get(FsmRecord, self._keys.build(key))

    @staticmethod
    async def _read(session: AsyncSession, storage_key: str) -> FsmRecord | None:
        """One read per key and update: the state (middleware) and the data (handler) come
        from the same row, held in `session.info` (the identity map holds rows only weakly,
        and does not remember that a row is absent)."""
        records: dict[str, FsmRecord | None] = session.info.setdefault(_RECORDS, {})
        if storage_key not in records:
            records[storage_key] = await session.get(FsmRecord, storage_key)
        return records[storage_key]

    async def _put(self, key: StorageKey, **values: Any) -> None:
        session = current_session.get()
        if session is not None:
            await self._write(session, key, values)
            return
        async with self._sessions() as own, own.begin():
            await self._write(own, key, values)

    async def _write(self, session: AsyncSession, key: StorageKey, values: dict[str, Any]) -> None:
        storage_key = self._keys.build(key)
        record = await self._read(session, storage_key)
        records = session.info[_RECORDS]
        state = values.get("state", record.state if record else None)
        data = values.get("data", record.data if record else "{}")
        if state is None and data == "{}":
            if record is not None:
                await session.delete(record)
                records[storage_key] = None
            return
        if record is None:
            records[storage_key] = FsmRecord(key=storage_key, state=state, data=data)
            session.add(records[storage_key])
        else:
            record.state, record.data = state, data

    def key_of(self, key: StorageKey) -> str:
        return self._keys.build(key)

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


async def prime(
    session: AsyncSession, storage_key: str, record: tuple[str | None, str] | None
) -> None:
    """Hand the update's session an FSM record read along with the person: the storage then
    reads nothing. It becomes a persistent row without a SELECT, so a change to it is an
    UPDATE as usual."""
    records: dict[str, FsmRecord | None] = session.info.setdefault(_RECORDS, {})
    if record is None:
        records[storage_key] = None
        return
    state, data = record
    row = FsmRecord(key=storage_key, state=state, data=data)
    make_transient_to_detached(row)  # as if loaded by a query, then detached
    records[storage_key] = await session.merge(row, load=False)
