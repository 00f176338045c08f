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


async def test_0004_carries_objection_numbers_and_pseudonyms(db_url: str) -> None:
    """Numbers go on after the old row-id numbers; a pseudonym POKJA has read stays, except the
    second of two people who shared one, who gets a new one when next needed."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from bot import objections
    from storage import queries
    from storage.db import session_factory
    from storage.models import ObjectionCounter

    at = datetime(2026, 11, 1, tzinfo=UTC)
    engine = create_engine(db_url)
    try:
        await migrate.upgrade(engine, "0003")
        async with engine.begin() as conn:
            run = conn.execute
            await run(
                text(
                    "INSERT INTO district (id, kode, name, timezone, prefix) VALUES "
                    "(1, '33.24', 'Kabupaten Kendal', 'Asia/Jakarta', 'KDL')"
                )
            )
            await run(
                text(
                    "INSERT INTO round (id, district_id, name, year, submission_deadline, "
                    "opened_at) VALUES (1, 1, 'Tahap 1', 2026, :at, :at)"
                ),
                {"at": at},
            )
            for pid in (1, 2, 3):
                await run(
                    text(
                        "INSERT INTO person (id, telegram_id, full_name, locale, "
                        "announcements_muted, created_at, last_seen_at) "
                        "VALUES (:id, :tg, 'W', 'id', :f, :at, :at)"
                    ),
                    {"id": pid, "tg": 1000 + pid, "f": False, "at": at},
                )
            rows = [  # id, person, status, number, pseudonym
                (1, 1, "withdrawn", None, None),
                (2, 1, "filed", "KB-2026-0002", "Warga-AAAA"),
                (3, 2, "dismissed", "KB-2026-0003", "Warga-AAAA"),  # shared with person 1
                (4, 3, "filed", "KB-2026-0004", "Warga-BBBB"),
                (5, 1, "upheld", "KB-2026-0005", "Warga-AAAA"),
                (6, 3, "draft", None, None),
            ]
            for oid, pid, status, number, code in rows:
                await run(
                    text(
                        "INSERT INTO objection (id, round_id, person_id, status, step, number, "
                        "pseudonym, created_at) VALUES (:id, 1, :p, :s, 'filed', :n, :c, :at)"
                    ),
                    {"id": oid, "p": pid, "s": status, "n": number, "c": code, "at": at},
                )
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            carried = (await conn.execute(text("SELECT person_id, code FROM pseudonym"))).all()
            districts = (
                await conn.execute(text("SELECT DISTINCT district_id FROM objection"))
            ).all()
        assert sorted(carried) == [(1, "Warga-AAAA"), (3, "Warga-BBBB")]
        assert districts == [(1,)]
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            counter = await session.get(ObjectionCounter, (1, 2026))
            assert counter is not None and counter.last == 5
            assert await queries.next_number(session, ObjectionCounter, 1, 2026) == 6
            assert await objections.pseudonym(session, 1, 1) == "Warga-AAAA"
            fresh = await objections.pseudonym(session, 1, 2)
            assert fresh not in ("Warga-AAAA", "Warga-BBBB")
    finally:
        await engine.dispose()


async def test_0005_keeps_the_handled_update_ids(db_url: str) -> None:
    """The old polling confirmed a batch only with the next getUpdates, so Telegram sends the
    last batch again after an upgrade: those ids must still read as handled, and the inbox takes
    a re-delivery as a no-op. Down again, the old table knows them too."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from bot.inbox import store_updates
    from storage.db import session_factory

    at = datetime(2026, 11, 1, tzinfo=UTC)
    engine = create_engine(db_url)
    try:
        await migrate.upgrade(engine, "0004")
        async with engine.begin() as conn:
            for update_id in (41, 42):
                await conn.execute(
                    text("INSERT INTO handledupdate (update_id, handled_at) VALUES (:u, :at)"),
                    {"u": update_id, "at": at},
                )
        await migrate.upgrade(engine)
        again = {"update_id": 42, "message": {"message_id": 1, "date": 0, "chat": {"id": 7}}}
        fresh = {"update_id": 43, "message": {"message_id": 2, "date": 0, "chat": {"id": 7}}}
        async with session_factory(engine)() as session, session.begin():
            stored = await store_updates(session, [again, fresh], at, 20)
        assert stored.new == 1
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT update_id, status FROM inbox"))).all()
        assert sorted(rows) == [(41, "done"), (42, "done"), (43, "pending")]
        await migrate.downgrade(engine, "0004")
        async with engine.connect() as conn:
            kept = (await conn.execute(text("SELECT update_id FROM handledupdate"))).scalars()
            assert sorted(kept) == [41, 42]
    finally:
        await engine.dispose()
