"""Every callback_data factory. Short prefixes, ids only, never free text (64-byte limit).

Anyone can send any callback_data, so each factory refuses at unpacking what its handler could
not use: numbers outside a database integer, and arguments that are not of the kind their action
expects. A refused payload matches no handler and gets the fallback's translated "this button no
longer works", never an exception halfway through a handler.
"""

from __future__ import annotations

from typing import Annotated, Self

from aiogram.filters.callback_data import CallbackData
from pydantic import Field, model_validator

from bot.config import SUPPORTED_LOCALES
from storage.views import Scope

# Every number in a button is an id, an index or a page: it fits a 32-bit database integer.
Int = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
SCOPES = frozenset(s.value for s in Scope)


def digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes "²", which int() refuses."""
    return text.isascii() and text.isdigit()


def require(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(what)


class LangCb(CallbackData, prefix="l"):
    code: str

    @model_validator(mode="after")
    def _supported(self) -> Self:
        require(self.code in SUPPORTED_LOCALES, "locale")
        return self


class MenuCb(CallbackData, prefix="m"):
    """Home-screen buttons. action: n=new proposal, d=my proposals, l=language, h=help."""

    action: str


class RoundCb(CallbackData, prefix="r"):
    """Start a new draft in this round."""

    round_id: Int


DRAFT_ACTIONS = frozenset("ovasbEXexDgSkqACMwtyn")


class DraftCb(CallbackData, prefix="d"):
    """A button on a draft.

    action: o=open/resume, v=view, a=activity, s=source, b=add line, E=pick line to correct,
    X=pick line to remove, e=correct line, x=remove line, D=budget done, g=go to field,
    S=submit, k=skip, q=save and leave, A=attachments done, C=clear attachments,
    M=budget menu, w=the whole summary after seeing only the changes, t=discard the draft
    (asks first), y=yes, discard it, n=no, keep it.
    """

    action: str
    id: Int
    arg: Int = 0

    @model_validator(mode="after")
    def _known(self) -> Self:
        require(self.action in DRAFT_ACTIONS, "action")
        return self


class VillageCb(CallbackData, prefix="v"):
    """Following villages. action: b=browse kecamatan (kode=district), k=open kecamatan,
    f=follow village, u=unfollow village, p=poster of the village, s=page of search results
    (the query is kept in the search's state)."""

    action: str
    kode: str = ""
    page: Int = 0


class AnnCb(CallbackData, prefix="a"):
    """A button on an announcement draft.

    action: D=choose district (id=district), s=scope (arg=scope), t=toggle place (arg=kode),
    k=villages of a kecamatan (arg=kode), l=list kecamatan, f=finish picking, e=edit text,
    a=edit audience, c=confirm and send, x=discard.
    """

    action: str
    id: Int
    arg: str = ""
    page: Int = 0

    @model_validator(mode="after")
    def _arg_fits(self) -> Self:
        if self.action == "s":
            require(self.arg in SCOPES, "scope")
        return self


class AckCb(CallbackData, prefix="k"):
    """ "Read" under a reminder: the outbox row it acknowledges."""

    id: Int


class QueueCb(CallbackData, prefix="q"):
    """The review queue of a round with its filters. pick: "" the list, v/s/a choose a village,
    status or activity filter."""

    round: Int
    village: str = ""
    status: str = ""
    activity: str = ""
    page: Int = 0
    pick: str = ""


class RevCb(CallbackData, prefix="rv"):
    """A reviewer's button on one proposal; `v` is the version the view showed.

    action: o=open, a=attachments, c=checklist, m=pick item (arg=index), k=mark (arg=index-value),
    V=start field verification, S=save it, X=discard it, d=decide (arg=decision),
    n=revision days (arg=days), f=name winner, t=timeline, j=objections.
    """

    action: str
    id: Int
    v: Int = 0
    arg: str = ""

    @model_validator(mode="after")
    def _arg_fits(self) -> Self:
        if self.action in ("m", "n"):
            require(digits(self.arg), "number")
        elif self.action == "k":
            index, _sep, value = self.arg.partition("-")
            require(digits(index) and bool(value), "index-value")
        return self


class ObjCb(CallbackData, prefix="o"):
    """Objections. n=new against a candidate (id=proposal), R=round, V=village (arg=kode),
    C=candidate (id=proposal), K=category, E=evidence done, I=identity (arg n|a), F=file,
    B=back, x=discard; r=committee reply, o=open (POKJA), u=uphold, d=dismiss, M=unmask."""

    action: str
    id: Int = 0
    arg: str = ""

    @model_validator(mode="after")
    def _arg_fits(self) -> Self:
        if self.action in ("R", "C"):
            require(self.arg == "" or digits(self.arg), "number")
        return self


class DeskCb(CallbackData, prefix="c"):
    """/round and the POKJA desk. action: s=show round, e=edit date (arg=field), v=villages,
    k=checklist, t=toggle default item (arg), +=add item, p=self-help minimum, n=new round,
    C=candidates preview, P=publish candidates (arg=stamp), W=winners preview,
    Q=publish winners (arg=stamp), x=exports, q=review queue, o=objections."""

    action: str
    id: Int = 0
    arg: str = ""

    @model_validator(mode="after")
    def _arg_fits(self) -> Self:
        if self.action in ("P", "Q"):
            require(digits(self.arg), "stamp")
        return self


class InviteCb(CallbackData, prefix="i"):
    """/undang: p=POKJA invite (id=district), k=PAKEM: choose a village, v=village (arg=kode)."""

    action: str
    id: Int = 0
    arg: str = ""


class MemberCb(CallbackData, prefix="mb"):
    """Members of a district's committees. l=list (id=district), r=remove (id=role grant)."""

    action: str
    id: Int = 0
