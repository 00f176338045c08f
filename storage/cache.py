"""A per-process cache of what rarely changes (rounds with their district's zone, village names),
kept correct across processes by a version stamp in the database.

Why a version stamp and not a TTL alone: with several instances on PostgreSQL, a calendar change
made through one instance must be seen by the next update any instance handles; a TTL would
serve the old deadline for its whole length. The stamp is one `Setting` row, replaced in the
same transaction as any change to a round, its villages, a district or a region (an ORM flush
hook, so no writer can forget it). Each update reads the stamp in the statement that loads the
person anyway (`queries.person_for_update`), so the check costs no extra statement. An entry is
used only when it was read under the very stamp the update's session read; otherwise the cache
is emptied and filled again. Outside an update (scheduler, CLI) the session carries no stamp
and every read goes to the database.

Grants are deliberately not cached: they are loaded with the person in that one statement, so
a redeemed invite or a revoked role takes effect on the very next update, in every process.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from storage.models import District, Region, Round, RoundVillage, Setting

VERSION_KEY = "cache.version"
# session.info key: the stamp this session's update read with its person.
SESSION_VERSION = "cache_version"
_BUMP = "cache_bump"
# session.info key: rows loaded during one update, held so that reloading one is free.
HELD = "held_rows"
WATCHED = (Round, RoundVillage, District, Region)


class Cache:
    """Values read under one version stamp; a different stamp empties it."""

    def __init__(self) -> None:
        self.version: str | None = None
        self.values: dict[Any, Any] = {}
        self.hits = 0
        self.misses = 0

    def get(self, session_info: dict[str, Any], key: Any) -> Any:
        version = session_info.get(SESSION_VERSION)
        if version is None:
            return None
        if version != self.version:
            self.values.clear()
            self.version = version
        value = self.values.get(key)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, session_info: dict[str, Any], key: Any, value: Any) -> None:
        if session_info.get(SESSION_VERSION) is not None and (
            session_info[SESSION_VERSION] == self.version
        ):
            self.values[key] = value

    def clear(self) -> None:
        self.values.clear()
        self.version = None


CACHE = Cache()


def new_version() -> str:
    return uuid.uuid4().hex


def touches_watched(session: Session) -> bool:
    return any(
        isinstance(obj, WATCHED)
        for group in (session.new, session.dirty, session.deleted)
        for obj in group
    )


@event.listens_for(Session, "before_flush")
def _note_change(session: Session, _context: Any, _instances: Any) -> None:
    if touches_watched(session):
        session.info[_BUMP] = True


@event.listens_for(Session, "after_flush")
def _bump_version(session: Session, _context: Any) -> None:
    """Replace the stamp in the writer's own transaction: every process's cache is stale the
    moment this change commits, and not before."""
    if not session.info.pop(_BUMP, False):
        return
    bump(session.connection())
    # From here this transaction reads its own uncommitted change: it must neither use nor
    # fill the shared cache.
    session.info[SESSION_VERSION] = None
    # This process's other updates read the old stamp until the commit: they keep using
    # entries read under it, which is right for their snapshot. Empty it anyway, to be safe.
    CACHE.clear()


@event.listens_for(Session, "loaded_as_persistent")
def _hold(session: Session, instance: object) -> None:
    """The identity map holds rows only weakly: a draft loaded, dropped and loaded again in
    one update costs a second SELECT. An update's session (marked by `hold_rows`) keeps what
    it loaded until it ends, as a strong identity map would."""
    held = session.info.get(HELD)
    if held is not None:
        held.append(instance)


def hold_rows(session_info: dict[str, Any]) -> None:
    session_info.setdefault(HELD, [])


def bump(connection: Any) -> None:
    """A new stamp (an upsert on the `Setting` row), on a sync connection."""
    table = Setting.__table__  # type: ignore[attr-defined]
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    value = new_version()
    connection.execute(
        insert(table)
        .values(key=VERSION_KEY, value=value)
        .on_conflict_do_update(index_elements=[table.c.key], set_={"value": value})
    )
