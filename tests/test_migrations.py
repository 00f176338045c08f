"""The migrations build exactly the schema the models describe, and step down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.db import create_engine
from storage.models import metadata


async def diff(engine: AsyncEngine) -> list:
    def _compare(conn):
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with engine.connect() as conn:
        return await conn.run_sync(_compare)


async def test_upgrade_from_empty_matches_models(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await migrate.upgrade(engine)
        assert await migrate.is_current(engine)
        assert await diff(engine) == []
    finally:
        await engine.dispose()


async def test_stairway_down_and_up(db_url: str) -> None:
    engine = create_engine(db_url)
    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = list(reversed(list(script.walk_revisions())))
    try:
        for revision in revisions:
            await migrate.upgrade(engine, revision.revision)
            await migrate.downgrade(engine, revision.down_revision or "base")
            await migrate.upgrade(engine, revision.revision)
        assert await diff(engine) == []
    finally:
        await engine.dispose()
