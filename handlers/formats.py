"""How values read in every conversation: money, dates, zones, coded labels, and the shape of an
error's text. Imports nothing from `handlers`, so every text module can use it without cycles."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.lazy_proxy import LazyProxy

from bot import i18n as fmt
from bot import labels

# What a person reads for one error code: a function of the error's params, called in the
# reader's locale. Each conversation's text module holds a table of them.
ErrorText = Callable[[Mapping[str, Any]], str]


def says(message: LazyProxy) -> ErrorText:
    """A lazily translated text; its {names} are filled from the error's params as they are."""
    return lambda params: str(message).format(**params)


def locale() -> str:
    return get_i18n().current_locale


def money(amount: int) -> str:
    return fmt.money(amount, locale())


def when(moment: datetime, zone: str) -> str:
    return fmt.when(moment, ZoneInfo(zone), locale())


def zone_label(zone: str) -> str:
    """The zone as every date shows it (WIB, WITA, WIT), not its IANA name."""
    return fmt.zone_abbr(ZoneInfo(zone))


def activity_label(code: str | None) -> str:
    return labels.activity_label(code, _)


def source_label(code: str | None) -> str:
    names = {
        "swadaya": _("Self-help (swadaya)"),
        "apbd": _("District budget (APBD)"),
        "apbn": _("National budget (APBN)"),
        "other": _("Other source"),
    }
    return names.get(code or "", "—")


def proposal_status(status: str) -> str:
    return {
        "draft": _("draft"),
        "submitted": _("in review"),
        "revision": _("revision requested"),
        "rejected": _("rejected"),
        "candidate": _("candidate winner"),
        "winner": _("winner"),
    }.get(status, status)
