"""Every callback_data factory. Short prefixes, ids only, never free text (64-byte limit)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LangCb(CallbackData, prefix="l"):
    code: str


class MenuCb(CallbackData, prefix="m"):
    """Home-screen buttons. action: n=new proposal, d=my proposals, l=language, h=help."""

    action: str


class RoundCb(CallbackData, prefix="r"):
    """Start a new draft in this round."""

    round_id: int


class DraftCb(CallbackData, prefix="d"):
    """A button on a draft.

    action: o=open/resume, v=view, a=activity, s=source, b=add line, E=pick line to correct,
    X=pick line to remove, e=correct line, x=remove line, D=budget done, g=go to field,
    S=submit, k=skip, B=back, q=save and leave, A=attachments done, C=clear attachments,
    M=budget menu.
    """

    action: str
    id: int
    arg: int = 0


class VillageCb(CallbackData, prefix="v"):
    """Following villages. action: b=browse kecamatan (kode=district), k=open kecamatan,
    f=follow village, u=unfollow village, p=poster of the village."""

    action: str
    kode: str = ""
    page: int = 0


class AnnCb(CallbackData, prefix="a"):
    """A button on an announcement draft.

    action: D=choose district (id=district), s=scope (arg=scope), t=toggle place (arg=kode),
    k=villages of a kecamatan (arg=kode), l=list kecamatan, f=finish picking, e=edit text,
    a=edit audience, c=confirm and send, x=discard.
    """

    action: str
    id: int
    arg: str = ""
    page: int = 0


class AckCb(CallbackData, prefix="k"):
    """ "Read" under a reminder: the outbox row it acknowledges."""

    id: int
