"""Texts for taking roles away and for the limits on what one person can pile up."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.errors import DomainError
from bot.sender import OutMessage
from bot.text import q
from storage.views import BroadcastView


def roles_error(exc: DomainError) -> str | None:
    """Texts for the codes of this part; None leaves it to the other parts."""
    p = exc.params
    code = exc.code
    if code == "too_many_drafts":
        return _(
            "You already have {max} unfinished drafts in this round, the most allowed. Finish "
            "and submit one of them, or discard one you no longer need: open it with /drafts and "
            "press 🗑 Discard draft."
        ).format(max=p["max"])
    if code == "too_many_invites":
        return _(
            "You have {max} invitations that nobody has used yet, the most allowed. Make new "
            "ones when some of them are used or have expired."
        ).format(max=p["max"])
    if code == "member":
        return _("That person no longer holds this role. /members shows the current members.")
    if code == "revoke_self":
        return _("You cannot remove yourself. Ask another admin of your district.")
    if code == "no_such_role":
        return _("That person does not hold this role here.")
    return None


def role_label(role: str) -> str:
    return {
        "pokja": _("a POKJA member"),
        "pakem": _("a PAKEM member"),
        "admin": _("an admin"),
    }.get(role, role)


def role_event(broadcast: BroadcastView) -> OutMessage | None:
    """The message that tells a person their role was taken away, in their language."""
    if broadcast.template != "role_revoked":
        return None
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
