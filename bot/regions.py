"""Importing a district's official region codes (Kepmendagri) from CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations, count

from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.errors import Code, Invalid
from storage.models import District, Region

LEVELS = {"provinsi", "kabupaten", "kota", "kecamatan", "desa", "kelurahan"}
_VOWELS = set("AEIOU")
_PREFIX_FORMAT = re.compile(r"[A-Z0-9]{2,8}")


@dataclass(frozen=True)
class ImportResult:
    district_kode: str
    district_name: str
    kecamatan: int
    villages: int
    created: bool
    prefix: str


def _words(name: str) -> list[str]:
    """The letters of each word of a district's name, without "Kabupaten" or "Kota"."""
    bare = re.sub(r"^(kabupaten|kota|kab\.?)\s+", "", name.strip(), flags=re.I).upper()
    return [w for w in ("".join(c for c in word if c.isalpha()) for word in bare.split()) if w]


def default_prefix(name: str) -> str:
    """ "Kabupaten Kendal" -> "KND": the first letter, then consonants, three letters."""
    letters = "".join(_words(name))
    if not letters:
        return "PKT"
    picked = [letters[0]] + [c for c in letters[1:] if c not in _VOWELS]
    prefix = "".join(picked)[:3]
    return prefix if len(prefix) == 3 else letters[:3].ljust(3, "X")


def prefix_candidates(name: str) -> Iterator[str]:
    """Prefixes for a district, most natural first; the list never ends, so one is always free.

    After the default come the initials of the words ("Aceh Barat Daya" -> ABD), then the first
    letter with letters of a later word ("Aceh Tenggara" -> ATG), then any three letters of the
    name in order, consonants first, and last the default with a number (KND2, KND3, ...).
    """
    base = default_prefix(name)
    words = _words(name) or ["PKT"]
    first = words[0][0]
    seen: set[str] = set()

    def fresh(candidate: str) -> bool:
        if len(candidate) != 3 or candidate in seen:
            return False
        seen.add(candidate)
        return True

    def consonants_first(letters: str) -> str:
        return "".join(c for c in letters if c not in _VOWELS) + "".join(
            c for c in letters if c in _VOWELS
        )

    initials = "".join(w[0] for w in words)
    ordered = [base, initials[:3]]
    for word in words[1:]:
        ordered += [first + word[0] + c for c in consonants_first(word[1:])]
    letters = "".join(words)
    tail = sorted(
        combinations(range(1, len(letters)), 2),
        key=lambda ij: (
            letters[ij[0]] == letters[ij[1]],
            sum(letters[k] in _VOWELS for k in ij),
            ij,
        ),
    )
    ordered += [first + letters[i] + letters[j] for i, j in tail]
    yield from (c for c in ordered if fresh(c))
    for number in count(2):
        yield f"{base}{number}"


def free_prefix(name: str, taken: Iterable[str]) -> str:
    """The first of the district's prefixes that no other district uses."""
    used = {t.upper() for t in taken}
    return next(c for c in prefix_candidates(name) if c not in used)


def choose_prefix(name: str, wanted: str | None, taken: Iterable[str]) -> str:
    """The prefix a new or re-imported district gets: the one asked for if it is free, else the
    first free one of its name. Two districts with one prefix would confuse people reading
    "SMR-2026-001", even though numbers are unique per district."""
    used = {t.upper() for t in taken}
    if wanted is None:
        return free_prefix(name, used)
    prefix = wanted.strip().upper()
    if not _PREFIX_FORMAT.fullmatch(prefix):
        raise Invalid(Code.PREFIX_FORMAT, prefix=wanted)
    if prefix in used:
        raise Invalid(Code.PREFIX_TAKEN, prefix=prefix, suggestion=free_prefix(name, used))
    return prefix


def parse_rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"kode", "nama", "tingkat"} - set(reader.fieldnames or ())
    if missing:
        raise Invalid(Code.CSV_COLUMNS, missing=", ".join(sorted(missing)))
    rows = []
    for number, row in enumerate(reader, start=2):
        kode = (row.get("kode") or "").strip()
        nama = (row.get("nama") or "").strip()
        tingkat = (row.get("tingkat") or "").strip().lower()
        if not kode or not nama or tingkat not in LEVELS:
            raise Invalid(Code.CSV_ROW, line=number)
        rows.append({"kode": kode, "nama": nama, "tingkat": tingkat})
    return rows


def _parent(kode: str) -> str:
    return kode.rsplit(".", 1)[0]


async def import_regions(
    session: AsyncSession,
    text: str,
    now: datetime,
    *,
    prefix: str | None = None,
    timezone: str = "Asia/Jakarta",
) -> ImportResult:
    """Create or update one district and its kecamatan and villages. Re-running is harmless."""
    rows = parse_rows(text)
    districts = [r for r in rows if r["tingkat"] in ("kabupaten", "kota")]
    if len(districts) != 1:
        raise Invalid(Code.CSV_ONE_DISTRICT, found=len(districts))
    d = districts[0]
    from storage import queries

    existing = await queries.district_by_kode(session, d["kode"])
    taken = [other.prefix for other in await queries.districts(session) if other.kode != d["kode"]]
    if existing is None:
        district = District(
            kode=d["kode"],
            name=d["nama"],
            timezone=timezone,
            prefix=choose_prefix(d["nama"], prefix, taken),
        )
        session.add(district)
        await session.flush()
    else:
        district = await session.get(District, existing.id)  # type: ignore[assignment]
        assert district is not None
        district.name = d["nama"]
        if prefix:
            district.prefix = choose_prefix(d["nama"], prefix, taken)
    assert district.id is not None
    counts = {"kecamatan": 0, "village": 0}
    for row in rows:
        if row["tingkat"] not in ("kecamatan", "desa", "kelurahan"):
            continue
        if not row["kode"].startswith(d["kode"] + "."):
            raise Invalid(Code.CSV_OUTSIDE, kode=row["kode"])
        region = await session.get(Region, row["kode"])
        if region is None:
            region = Region(
                kode=row["kode"], name=row["nama"], level=row["tingkat"], district_id=district.id
            )
            session.add(region)
        region.name = row["nama"]
        region.level = row["tingkat"]
        region.parent_kode = _parent(row["kode"])
        region.district_id = district.id
        counts["kecamatan" if row["tingkat"] == "kecamatan" else "village"] += 1
    audit.record(
        session,
        "regions.import",
        at=now,
        actor_label="cli",
        subject=f"district:{district.id}",
        kecamatan=counts["kecamatan"],
        villages=counts["village"],
    )
    return ImportResult(
        d["kode"],
        d["nama"],
        counts["kecamatan"],
        counts["village"],
        existing is None,
        district.prefix,
    )
