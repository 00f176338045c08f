"""Texts for invitations, for taking roles away, and for the limits on piling things up."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.errors import Code
from bot.sender import OutMessage
from bot.text import q
from handlers.formats import ErrorText, says, when
from storage.views import BroadcastView

# Refusals of invitations, roles and the limits on what one person can pile up.
ROLE_TEXTS: dict[Code, ErrorText] = {
    Code.INVITE_UNKNOWN: says(
        __("This invitation code is not known. Check it, or ask the POKJA for a new link.")
    ),
    Code.INVITE_USED: says(
        __("This invitation has already been used. Ask the POKJA for a new link.")
    ),
    Code.INVITE_EXPIRED: lambda p: _(
        "This invitation expired on {when}. Ask the POKJA for a new link."
    ).format(when=when(p["expired_at"], p.get("zone", "Asia/Jakarta"))),
    Code.TOO_MANY_DRAFTS: lambda p: _(
        "You already have {max} unfinished drafts in this round, the most allowed. Finish "
        "and submit one of them, or discard one you no longer need: open it with /drafts and "
        "press 🗑 Discard draft."
    ).format(max=p["max"]),
    Code.TOO_MANY_INVITES: lambda p: _(
        "You have {max} invitations that nobody has used yet, the most allowed. Make new "
        "ones when some of them are used or have expired."
    ).format(max=p["max"]),
    Code.MEMBER: says(
        __("That person no longer holds this role. /members shows the current members.")
    ),
    Code.REVOKE_SELF: says(__("You cannot remove yourself. Ask another admin of your district.")),
    Code.NO_SUCH_ROLE: says(__("That person does not hold this role here.")),
}


def role_label(role: str) -> str:
    return {
        "pokja": _("a POKJA member"),
        "pakem": _("a PAKEM member"),
        "admin": _("an admin"),
    }.get(role, role)


def role_event(broadcast: BroadcastView) -> OutMessage:
    """The message that tells a person their role was taken away, in their language."""
    p = broadcast.params
    villages = str(p.get("villages") or "")
    head = (
        _("ℹ️ You are no longer {role} of {villages} ({district}).")
        if villages
        else _("ℹ️ You are no longer {role} of {district}.")
    ).format(role=role_label(str(p.get("role"))), villages=q(villages), district=q(p["district"]))
    return OutMessage(
        "\n".join(
            [
                head,
                _("Reason: {reason}").format(reason=q(p.get("reason"))),
                _(
                    "The buttons of that role no longer work for you. If this is a mistake, "
                    "please talk to your POKJA."
                ),
            ]
        )
    )
