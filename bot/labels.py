"""Names of coded values as people read them, in one place for the chat and the files.

The codes (`road`, `water`…) are stored; a reader, on screen or in a spreadsheet, sees the
label in their language. Handlers translate with aiogram's gettext, exports with the
district's catalog: both go through `activity_label`.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.i18n import N_

ACTIVITY_LABELS: dict[str, str] = {
    "road": N_("Roads and paths"),
    "drainage": N_("Drainage"),
    "water": N_("Clean water"),
    "sanitation": N_("Sanitation (MCK)"),
    "housing": N_("Housing repair"),
    "bridge": N_("Bridge"),
    "economic": N_("Economic activity"),
    "social": N_("Social activity"),
    "other": N_("Other"),
}


def activity_label(code: str | None, gettext: Callable[[str], str]) -> str:
    """A dash for a draft with no activity yet, never the bare code."""
    label = ACTIVITY_LABELS.get(code or "")
    return gettext(label) if label else "—"
