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
    f=follow village, u=unfollow village, p=poster of the village, s=page of search results
    (the query is kept in the search's state)."""

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


class QueueCb(CallbackData, prefix="q"):
    """The review queue of a round with its filters. pick: "" the list, v/s/a choose a village,
    status or activity filter."""

    round: int
    village: str = ""
    status: str = ""
    activity: str = ""
    page: int = 0
    pick: str = ""


class RevCb(CallbackData, prefix="rv"):
    """A reviewer's button on one proposal; `v` is the version the view showed.

    action: o=open, a=attachments, c=checklist, m=pick item (arg=index), k=mark (arg=index-value),
    V=start field verification, S=save it, X=discard it, d=decide (arg=decision),
    n=revision days (arg=days), f=name winner, t=timeline, j=objections.
    """

    action: str
    id: int
    v: int = 0
    arg: str = ""


class ObjCb(CallbackData, prefix="o"):
    """Objections. n=new against a candidate (id=proposal), R=round, V=village (arg=kode),
    C=candidate (id=proposal), K=category, E=evidence done, I=identity (arg n|a), F=file,
    B=back, x=discard; r=committee reply, o=open (POKJA), u=uphold, d=dismiss, M=unmask."""

    action: str
    id: int = 0
    arg: str = ""


class DeskCb(CallbackData, prefix="c"):
    """/round and the POKJA desk. action: s=show round, e=edit date (arg=field), v=villages,
    k=checklist, t=toggle default item (arg), +=add item, p=self-help minimum, n=new round,
    C=candidates preview, P=publish candidates (arg=stamp), W=winners preview,
    Q=publish winners (arg=stamp), x=exports, q=review queue, o=objections."""

    action: str
    id: int = 0
    arg: str = ""


class InviteCb(CallbackData, prefix="i"):
    """/undang: p=POKJA invite (id=district), k=PAKEM: choose a village, v=village (arg=kode)."""

    action: str
    id: int = 0
    arg: str = ""
