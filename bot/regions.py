"""Importing a district's official region codes (Kepmendagri) from CSV."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.errors import Invalid
from storage.models import District, Region

LEVELS = {"provinsi", "kabupaten", "kota", "kecamatan", "desa", "kelurahan"}
_VOWELS = set("AEIOU")


@dataclass(frozen=True)
class ImportResult:
    district_kode: str
    district_name: str
    kecamatan: int
    villages: int
    created: bool


def default_prefix(name: str) -> str:
    """ "Kabupaten Kendal" -> "KDL": the first letter, then consonants, three letters."""
    word = re.sub(r"^(kabupaten|kota|kab\.?)\s+", "", name.strip(), flags=re.I).upper()
    letters = [c for c in word if c.isalpha()]
    if not letters:
        return "PKT"
    picked = [letters[0]] + [c for c in letters[1:] if c not in _VOWELS]
    prefix = "".join(picked)[:3]
    return prefix if len(prefix) == 3 else "".join(letters)[:3].ljust(3, "X")


def parse_rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"kode", "nama", "tingkat"} - set(reader.fieldnames or ())
    if missing:
        raise Invalid("csv_columns", missing=", ".join(sorted(missing)))
    rows = []
    for number, row in enumerate(reader, start=2):
        kode = (row.get("kode") or "").strip()
        nama = (row.get("nama") or "").strip()
        tingkat = (row.get("tingkat") or "").strip().lower()
        if not kode or not nama or tingkat not in LEVELS:
            raise Invalid("csv_row", line=number)
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
        raise Invalid("csv_one_district", found=len(districts))
    d = districts[0]
    from storage import queries

    existing = await queries.district_by_kode(session, d["kode"])
    if existing is None:
        district = District(
            kode=d["kode"],
            name=d["nama"],
            timezone=timezone,
            prefix=(prefix or default_prefix(d["nama"])).upper()[:8],
        )
        session.add(district)
        await session.flush()
    else:
        district = await session.get(District, existing.id)  # type: ignore[assignment]
        assert district is not None
        district.name = d["nama"]
        if prefix:
            district.prefix = prefix.upper()[:8]
    assert district.id is not None
    counts = {"kecamatan": 0, "village": 0}
    for row in rows:
        if row["tingkat"] not in ("kecamatan", "desa", "kelurahan"):
            continue
        if not row["kode"].startswith(d["kode"] + "."):
            raise Invalid("csv_outside", kode=row["kode"])
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
        d["kode"], d["nama"], counts["kecamatan"], counts["village"], existing is None
    )
