"""Translations and locale-aware formatting of money, numbers and times.

Catalogs are compiled from the `.po` files in memory at start-up, so no `.mo` file is committed
and none can go stale against its source.
"""

from __future__ import annotations

import gettext
import io
import re
from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.config import SUPPORTED_LOCALES

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


class CatalogI18n(I18n):
    """aiogram's I18n, loading `.po` catalogs compiled in memory."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for po_path in sorted(self.path.glob(f"*/LC_MESSAGES/{self.domain}.po")):
            locale = po_path.parent.parent.name
            with po_path.open("rb") as fp:
                catalog = read_po(fp, locale=locale)
            buffer = io.BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            buffer.seek(0)
            translations[locale] = gettext.GNUTranslations(buffer)
        return translations


def build_i18n(default_locale: str = "id") -> CatalogI18n:
    return CatalogI18n(path=locales_path(), default_locale=default_locale, domain=DOMAIN)


def compile_catalogs(path: Path | None = None) -> list[Path]:
    """Write `.mo` files next to the catalogs, for tools that want them on disk."""
    written = []
    for po_path in sorted((path or locales_path()).glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        with po_path.open("rb") as fp:
            catalog = read_po(fp, locale=po_path.parent.parent.name)
        mo_path = po_path.with_suffix(".mo")
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
    abbr = _ZONE_ABBR.get(zone.key) or moment.astimezone(zone).strftime("%Z")
    return f"{text} {abbr}"


def N_(message: str) -> str:
    """Mark a string for extraction where it is translated later, with an explicit locale."""
    return message
