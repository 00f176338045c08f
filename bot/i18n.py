"""Translations and locale-aware formatting of money, numbers and times.

Catalogs are compiled from the `.po` files in memory at start-up, so no `.mo` file is committed
and none can go stale against its source.
"""

from __future__ import annotations

import gettext
import io
import re
import tempfile
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.config import N_ as N_
from bot.config import SUPPORTED_LOCALES

if TYPE_CHECKING:
    from aiogram.utils.i18n import I18n

DOMAIN = "messages"
_TAG_RE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
_ZONE_ABBR = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}


def locales_path() -> Path:
    return Path(str(resources.files("locales")))


def normalize_locale(tag: str | None, default: str = "id") -> str:
    """Map a Telegram `language_code` onto a locale we have catalogs for.

    `en-US` becomes `en` (its primary language is supported); `pt-br`, `zz` or garbage fall
    back to the default, so no update is ever dropped over a language tag.
    """
    if not tag or not isinstance(tag, str) or not _TAG_RE.match(tag.strip()):
        return default
    primary = re.split(r"[-_]", tag.strip())[0].lower()
    return primary if primary in SUPPORTED_LOCALES else default


def build_i18n(default_locale: str = "id") -> I18n:
    """aiogram's I18n over catalogs compiled from the `.po` sources into a private directory.

    The installed package may be read-only, and a `.mo` file left beside its `.po` could go
    stale, so every start compiles afresh.
    """
    from aiogram.utils.i18n import I18n

    target = Path(tempfile.mkdtemp(prefix="paket-locales-"))
    compile_catalogs(locales_path(), target)
    return I18n(path=target, default_locale=default_locale, domain=DOMAIN)


def compile_catalogs(source: Path, target: Path | None = None) -> list[Path]:
    """Compile each `<lang>/LC_MESSAGES/messages.po` under `source` into `target` or beside it."""
    written = []
    for po_path in sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        locale = po_path.parent.parent.name
        with po_path.open("rb") as fp:
            catalog = read_po(fp, locale=locale)
        out_dir = (target / locale / "LC_MESSAGES") if target else po_path.parent
        out_dir.mkdir(parents=True, exist_ok=True)
        mo_path = out_dir / f"{DOMAIN}.mo"
        with mo_path.open("wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        written.append(mo_path)
    return written


def money(amount: int, locale: str) -> str:
    """Whole Rupiah with the locale's grouping: "Rp 1.500.000" (id) or "Rp 1,500,000" (en)."""
    return "Rp " + format_decimal(amount, format="#,##0", locale=locale)


def number(value: int, locale: str) -> str:
    return format_decimal(value, format="#,##0", locale=locale)


def quantity(milli: int, locale: str) -> str:
    """A volume kept in thousandths: 12500 -> "12,5" (id)."""
    whole, frac = divmod(milli, 1000)
    if not frac:
        return number(whole, locale)
    from decimal import Decimal

    return format_decimal(Decimal(milli) / 1000, format="#,##0.###", locale=locale)


def when(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    """A time in the district's zone: "1 Desember 2026, 23:59 WIB"."""
    text = format_datetime(moment, "d MMMM y, HH:mm", tzinfo=zone, locale=locale)
    return f"{text} {zone_abbr(zone, moment)}"


def zone_abbr(zone: ZoneInfo, moment: datetime | None = None) -> str:
    """WIB, WITA or WIT as Indonesians write them; elsewhere the zone's own abbreviation."""
    if zone.key in _ZONE_ABBR:
        return _ZONE_ABBR[zone.key]
    return (moment or datetime.now(zone)).astimezone(zone).strftime("%Z")


@lru_cache(maxsize=4)
def translations(locale: str) -> gettext.NullTranslations:
    """A catalog for code that runs without aiogram (the operator's command line)."""
    path = locales_path() / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)
