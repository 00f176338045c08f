"""Residents follow villages to hear their announcements; finding a village by name or by map.

Villagers type names as they say them ("blumh", "desa gondang"), so search forgives typos and
shows the kecamatan, which tells apart villages of the same name.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, policy
from bot.errors import Code, Invalid, NotFound
from storage import queries
from storage.views import PersonView, VillageView

SEARCH_LIMIT = 8
PAGE_SIZE = 8
MIN_QUERY = 3
CLOSE = 0.75  # how alike a misspelt name must be, 0..1
EXACT = 3.0
CONTAINS = 1.5
_PREFIX = re.compile(r"^(desa|kelurahan|kel\.?|ds\.?)\s+", re.IGNORECASE)
_PLACE_PREFIX = re.compile(r"^(kecamatan|kec\.?|kabupaten|kab\.?|kota)\s+", re.IGNORECASE)
_DISTRICT_PREFIX = re.compile(r"^(kabupaten|kab\.?|kota)\s+", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s,;/()]+")


def _key(text: str) -> str:
    return _PREFIX.sub("", " ".join(text.split())).casefold()


def osa_distance(a: str, b: str) -> int:
    """Edits between two spellings, where two swapped neighbours ("ponagngan") count as one."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


@lru_cache(maxsize=65536)
def similarity(typed: str, name: str) -> float:
    """0..1: the better of difflib's ratio and a transposition-aware edit distance.
    Cached: a search compares the same few words with the same names again and again."""
    longest = max(len(typed), len(name)) or 1
    if 2 * min(len(typed), len(name)) < CLOSE * (len(typed) + len(name)):
        return 0.0  # too different in length for either measure to reach CLOSE
    return max(
        difflib.SequenceMatcher(None, typed, name).ratio(),
        1 - osa_distance(typed, name) / longest,
    )


def name_score(typed: str, name: str) -> float:
    """Exact names first, then names that start with or contain the query, then close spellings;
    0 when the name does not match at all."""
    if name == typed:
        return EXACT
    if name.startswith(typed):
        return 2.0
    if typed in name:
        return CONTAINS
    score = similarity(typed, name)
    return score if score >= CLOSE else 0.0


class Fit(IntEnum):
    """How much of a query a village accounts for; a search shows only its best kind."""

    NAME = 0  # the words match the village's name
    NAME_AND_DISTRICT = 1  # "Sukamulya Garut"
    NAME_AND_KECAMATAN = 2  # "Mekarsari Cibatu"


def _place_fit(typed: str, village: VillageView) -> Fit | None:
    return _place_fit_of(typed, village.kecamatan_name, village.district_name)


@lru_cache(maxsize=16384)
def _place_fit_of(typed: str, kecamatan_name: str, district_name: str) -> Fit | None:
    """Which of the village's places the typed words name, the kecamatan before the district
    (Kec. Cianjur lies in Kabupaten Cianjur)."""
    said_district = _DISTRICT_PREFIX.match(typed) is not None  # "Kabupaten Cianjur"
    # "Kota Semarang" and "Kab. Semarang" are two districts.
    other_kind = said_district and (typed.casefold().startswith("kota")) != (
        district_name.casefold().startswith("kota")
    )
    said_kecamatan = not said_district and _PLACE_PREFIX.match(typed) is not None
    typed = _PLACE_PREFIX.sub("", typed).casefold()
    if len(typed) < MIN_QUERY:
        return None

    def names(place: str) -> bool:
        return place.startswith(typed) or similarity(typed, place) >= CLOSE

    if not said_district and names(kecamatan_name.casefold()):
        return Fit.NAME_AND_KECAMATAN
    district = _DISTRICT_PREFIX.sub("", district_name).casefold()
    if not said_kecamatan and not other_kind and names(district):
        return Fit.NAME_AND_DISTRICT
    return None


def _narrowed(words: list[str], village: VillageView, name: str) -> tuple[Fit, float]:
    """The best reading of "name place" or "place name": the village's name with its kecamatan
    or district typed beside it, so that "Mekarsari Cibatu" finds the Mekarsari of Kec. Cibatu."""
    best = (Fit.NAME, 0.0)
    for cut in range(1, len(words)):
        for typed_name, place in (
            (" ".join(words[:cut]), " ".join(words[cut:])),
            (" ".join(words[cut:]), " ".join(words[:cut])),
        ):
            fit = _place_fit(place, village)
            score = name_score(_key(typed_name), name) if fit else 0.0
            if fit and score:
                best = max(best, (fit, score))
    return best


def rank(
    query: str, villages: list[VillageView], limit: int | None = SEARCH_LIMIT
) -> list[VillageView]:
    """The villages a query means, best first.

    Only the best kind of fit is shown: a place typed beside a name leaves out villages
    elsewhere. Among them, an exact name leaves out the near spellings (Sukamaju for Sukamulya).
    """
    wanted = _key(query)
    words = [w for w in _SEPARATORS.split(wanted) if w]
    scored: list[tuple[Fit, float, VillageView]] = []
    whole_names: list[tuple[Fit, float, VillageView]] = []
    for village in villages:
        name = _key(village.name)
        whole = name_score(wanted, name)
        if whole == EXACT:
            whole_names.append((Fit.NAME, whole, village))
            continue
        fit, score = _narrowed(words, village, name) if len(words) > 1 else (Fit.NAME, 0.0)
        if score:
            scored.append((fit, score, village))
        elif whole:
            scored.append((Fit.NAME, whole, village))
    best_fit = max((fit for fit, _, _ in scored), default=Fit.NAME)
    # A village called exactly what was typed stays, even beside a place ("Sukamulya Kidul").
    kept = whole_names + [item for item in scored if item[0] == best_fit]
    if kept and max(score for _, score, _ in kept) == EXACT:
        kept = [item for item in kept if item[1] >= CONTAINS]
    kept.sort(key=lambda item: (-item[1], item[2].name, item[2].kode))
    found = [village for _, _, village in kept]
    return found if limit is None else found[:limit]


async def search(
    session: AsyncSession,
    query: str,
    limit: int | None = SEARCH_LIMIT,
    *,
    district_id: int | None = None,
) -> list[VillageView]:
    """Villages for what a person typed, of one district or of all; None as limit gives all.
    Narrow to the district before ranking: the best 8 of all districts may hold none of its own."""
    if len(_key(query)) < MIN_QUERY:
        raise Invalid(Code.QUERY_SHORT, min=MIN_QUERY)
    villages = await queries.all_villages(session)
    if district_id is not None:
        villages = [v for v in villages if v.district_id == district_id]
    return rank(query, villages, limit)


@dataclass(frozen=True)
class Page:
    villages: list[VillageView]
    number: int  # from 0
    pages: int
    total: int


def page_of(found: list[VillageView], number: int, size: int = PAGE_SIZE) -> Page:
    """One screen of search results; a page out of range (an old button) shows the nearest."""
    pages = max(1, -(-len(found) // size))
    number = min(max(0, number), pages - 1)
    return Page(found[number * size : (number + 1) * size], number, pages, len(found))


@dataclass(frozen=True)
class Followed:
    village: VillageView
    already: bool


async def follow(session: AsyncSession, person_id: int, kode: str, now: datetime) -> Followed:
    village = await queries.village_view(session, kode)
    if village is None:
        raise NotFound(Code.UNKNOWN_VILLAGE)
    added = await queries.add_follow(session, person_id, kode, now)
    if added:
        audit.record(
            session, "village.follow", at=now, actor_id=person_id, subject=f"village:{kode}"
        )
    return Followed(village, not added)


async def unfollow(session: AsyncSession, person_id: int, kode: str, now: datetime) -> VillageView:
    village = await queries.village_view(session, kode)
    if village is None:
        raise NotFound(Code.UNKNOWN_VILLAGE)
    if await queries.remove_follow(session, person_id, kode):
        audit.record(
            session, "village.unfollow", at=now, actor_id=person_id, subject=f"village:{kode}"
        )
    return village


async def poster_village(session: AsyncSession, person: PersonView, kode: str) -> VillageView:
    """The village a poster is asked for, if this person works for its district."""
    village = await queries.village_view(session, kode)
    if village is None:
        raise NotFound(Code.UNKNOWN_VILLAGE)
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


async def followed(session: AsyncSession, person_id: int) -> list[VillageView]:
    """The villages the person follows, for their overview."""
    return await queries.followed_villages(session, person_id)
