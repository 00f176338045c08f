"""Residents follow villages to hear their announcements; finding a village by name or by map.

Villagers type names as they say them ("blumh", "desa gondang"), so search forgives typos and
shows the kecamatan, which tells apart villages of the same name.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, policy
from bot.errors import Invalid, NotFound
from storage import queries
from storage.views import PersonView, VillageView

SEARCH_LIMIT = 8
MIN_QUERY = 3
_PREFIX = re.compile(r"^(desa|kelurahan|kel\.?|ds\.?)\s+", re.IGNORECASE)


def _key(text: str) -> str:
    return _PREFIX.sub("", text.strip()).casefold()


def rank(query: str, villages: list[VillageView], limit: int = SEARCH_LIMIT) -> list[VillageView]:
    """Exact names first, then names that start with or contain the query, then close spellings."""
    wanted = _key(query)
    scored: list[tuple[float, str, VillageView]] = []
    for village in villages:
        name = _key(village.name)
        if name == wanted:
            score = 3.0
        elif name.startswith(wanted):
            score = 2.0
        elif wanted in name:
            score = 1.5
        else:
            score = difflib.SequenceMatcher(None, wanted, name).ratio()
            if score < 0.75:
                continue
        scored.append((score, village.name, village))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [village for _, _, village in scored[:limit]]


async def search(session: AsyncSession, query: str) -> list[VillageView]:
    if len(_key(query)) < MIN_QUERY:
        raise Invalid("query_short", min=MIN_QUERY)
    return rank(query, await queries.all_villages(session))


@dataclass(frozen=True)
class Followed:
    village: VillageView
    already: bool


async def follow(session: AsyncSession, person_id: int, kode: str, now: datetime) -> Followed:
    village = await queries.village_view(session, kode)
    if village is None:
        raise NotFound("unknown_village")
    added = await queries.add_follow(session, person_id, kode, now)
    if added:
        audit.record(
            session, "village.follow", at=now, actor_id=person_id, subject=f"village:{kode}"
        )
    return Followed(village, not added)


async def unfollow(session: AsyncSession, person_id: int, kode: str, now: datetime) -> VillageView:
    village = await queries.village_view(session, kode)
    if village is None:
        raise NotFound("unknown_village")
    if await queries.remove_follow(session, person_id, kode):
        audit.record(
            session, "village.unfollow", at=now, actor_id=person_id, subject=f"village:{kode}"
        )
    return village


def follow_link(bot_username: str, kode: str) -> str:
    """The deep link printed on posters: opening it follows the village in one tap."""
    return f"https://t.me/{bot_username}?start=v_{kode}"


async def poster_village(session: AsyncSession, person: PersonView, kode: str) -> VillageView:
    """The village a poster is asked for, if this person works for its district."""
    village = await queries.village_view(session, kode)
    if village is None:
        raise NotFound("unknown_village")
    policy.require_pokja(person, village.district_id)
    return village


async def set_muted(session: AsyncSession, person_id: int, muted: bool, now: datetime) -> None:
    """/berhenti and /mulai: announcements only; a person's own business is never muted."""
    await queries.set_announcements_muted(session, person_id, muted)
    audit.record(
        session,
        "announcements.mute" if muted else "announcements.resume",
        at=now,
        actor_id=person_id,
        subject=f"person:{person_id}",
    )
