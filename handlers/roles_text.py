"""Texts for taking roles away and for the limits on what one person can pile up."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.errors import DomainError


def roles_error(exc: DomainError) -> str | None:
    """Texts for the codes of this part; None leaves it to the other parts."""
    p = exc.params
    code = exc.code
    if code == "too_many_drafts":
        return _(
            "You already have {max} unfinished drafts in this round, the most allowed. Finish "
            "and submit one of them first: /drafts opens them."
        ).format(max=p["max"])
    if code == "too_many_invites":
        return _(
            "You have {max} invitations that nobody has used yet, the most allowed. Make new "
            "ones when some of them are used or have expired."
        ).format(max=p["max"])
    return None
