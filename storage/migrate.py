"""Schema migrations run in-process on the application's own async engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    cfg = alembic_config()

    def _run(sync_conn: Any) -> None:
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_run)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    cfg = alembic_config()

    def _run(sync_conn: Any) -> None:
        cfg.attributes["connection"] = sync_conn
        command.downgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_run)


async def revision(engine: AsyncEngine, message: str, rev_id: str | None = None) -> None:
    """Autogenerate a revision against the database at `engine` (a developer tool)."""
    cfg = alembic_config()

    def _run(sync_conn: Any) -> None:
        cfg.attributes["connection"] = sync_conn
        command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)

    async with engine.begin() as conn:
        await conn.run_sync(_run)


async def is_current(engine: AsyncEngine) -> bool:
    """A read: on SQLite it must not take the write lock from a running bot."""
    from storage.db import READ_ONLY_OPTION

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()

    def _current(sync_conn: Any) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    async with engine.connect() as conn:
        conn = await conn.execution_options(**{READ_ONLY_OPTION: True})
        return await conn.run_sync(_current) == head


async def upgrade_if_needed(engine: AsyncEngine) -> None:
    """The operator's commands run beside a running bot: look before taking the write lock."""
    if not await is_current(engine):
        await upgrade(engine)
