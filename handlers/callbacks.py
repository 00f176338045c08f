"""Every callback_data factory. Short prefixes, ids only, never free text (64-byte limit).

Anyone can send any callback_data, so each factory refuses at unpacking what its handler could
not use: numbers outside a database integer, and arguments that are not of the kind their action
expects. A refused payload matches no handler and gets the fallback's translated "this button no
longer works", never an exception halfway through a handler.

Actions are enums: a button carries the member's value (one or two characters), and a value that
is no member is refused at unpacking like any other foreign payload. Values are never renamed or
reused, since buttons drawn months ago still sit in people's chats.
"""

from __future__ import annotations

from enum import StrEnum
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


class MenuAction(StrEnum):
    NEW = "n"  # a new proposal
    DRAFTS = "d"  # my proposals
    LANGUAGE = "l"


class MenuCb(CallbackData, prefix="m"):
    """Home-screen buttons."""

    action: MenuAction


class RoundCb(CallbackData, prefix="r"):
    """Start a new draft in this round."""

    round_id: Int


class DraftAction(StrEnum):
    OPEN = "o"  # open or resume
    VIEW = "v"
    ACTIVITY = "a"  # arg: index of the activity
    SOURCE = "s"  # arg: index of the source
    ADD_LINE = "b"
    PICK_CORRECT = "E"  # which line to correct
    PICK_REMOVE = "X"  # which line to remove
    CORRECT = "e"  # arg: line id; the lower case of PICK_CORRECT
    REMOVE = "x"  # arg: line id; the lower case of PICK_REMOVE
    BUDGET_DONE = "D"
    GOTO = "g"  # arg: index of the field
    SUBMIT = "S"
    SAVE_AND_LEAVE = "q"
    ATTACHMENTS_DONE = "A"
    CLEAR_ATTACHMENTS = "C"
    BUDGET_MENU = "M"
    WHOLE = "w"  # the whole summary, after seeing only the changes
    DISCARD = "t"  # asks first
    DISCARD_YES = "y"
    DISCARD_NO = "n"


class DraftCb(CallbackData, prefix="d"):
    """A button on a draft."""

    action: DraftAction
    id: Int
    arg: Int = 0


class VillageAction(StrEnum):
    BROWSE = "b"  # the kecamatan of a district (kode=district)
    KECAMATAN = "k"  # the villages of a kecamatan
    FOLLOW = "f"
    UNFOLLOW = "u"
    POSTER = "p"  # the poster of a village
    RESULTS = "s"  # a page of search results (the query is kept in the search's state)


class VillageCb(CallbackData, prefix="v"):
    """Following villages."""

    action: VillageAction
    kode: str = ""
    page: Int = 0


class AnnAction(StrEnum):
    DISTRICT = "D"  # id=district
    SCOPE = "s"  # arg=scope
    TOGGLE = "t"  # a place in or out (arg=kode)
    KECAMATAN = "k"  # the villages of a kecamatan (arg=kode)
    AREAS = "l"  # the list of kecamatan
    FINISH = "f"  # done picking places
    EDIT_TEXT = "e"
    EDIT_AUDIENCE = "a"
    SEND = "c"  # confirm and send
    DISCARD = "x"


class AnnCb(CallbackData, prefix="a"):
    """A button on an announcement draft."""

    action: AnnAction
    id: Int
    arg: str = ""
    page: Int = 0

    @model_validator(mode="after")
    def _arg_fits(self) -> Self:
        if self.action == AnnAction.SCOPE:
            require(self.arg in SCOPES, "scope")
        return self


class AckCb(CallbackData, prefix="k"):
    """ "Read" under a reminder: the outbox row it acknowledges."""

    id: Int


class QueuePick(StrEnum):
    LIST = ""
    VILLAGE = "v"  # choose the village filter
    STATUS = "s"
    ACTIVITY = "a"


class QueueCb(CallbackData, prefix="q"):
    """The review queue of a round with its filters."""

    round: Int
    village: str = ""
    status: str = ""
    activity: str = ""
    page: Int = 0
    pick: QueuePick = QueuePick.LIST


class RevAction(StrEnum):
    OPEN = "o"  # arg "n": without resending the files
    CHECKLIST = "c"
    PICK_ITEM = "m"  # arg=index
    MARK = "k"  # arg=index-value
    VERIFY = "V"  # start a field verification
    SAVE_VISIT = "S"  # v=verification
    DISCARD_VISIT = "X"  # v=verification
    DECIDE = "d"  # arg=decision
    REVISION_DAYS = "n"  # arg=days
    NAME_WINNER = "f"
    TIMELINE = "t"
    OBJECTIONS = "j"


class RevCb(CallbackData, prefix="rv"):
    """A reviewer's button on one proposal; `v` is the version the view showed."""

    action: RevAction
    id: Int
    v: Int = 0
    arg: str = ""

    @model_validator(mode="after")
    def _arg_fits(self) -> Self:
        if self.action in (RevAction.PICK_ITEM, RevAction.REVISION_DAYS):
            require(digits(self.arg), "number")
        elif self.action == RevAction.MARK:
            index, _sep, value = self.arg.partition("-")
            require(digits(index) and bool(value), "index-value")
        return self


class ObjAction(StrEnum):
    START = "s"  # file one from the list of one's own objections
    NEW = "n"  # against a candidate, from the announcement (id=proposal)
    ROUND = "R"  # arg=round
    VILLAGE = "V"  # arg=kode
    CANDIDATE = "C"  # arg=proposal
    CATEGORY = "K"
    EVIDENCE_DONE = "E"
    IDENTITY = "I"  # arg n (named) or a (anonymous)
    FILE = "F"
    DISCARD = "x"
    REPLY = "r"  # the committee's reply
    OPEN = "o"  # for the POKJA
    UPHOLD = "u"
    DISMISS = "d"
    UNMASK = "M"


class ObjCb(CallbackData, prefix="o"):
    """Objections: the objector's draft, the committee's reply, the POKJA's answer."""

    action: ObjAction
    id: Int = 0
    arg: str = ""

    @model_validator(mode="after")
    def _arg_fits(self) -> Self:
        if self.action in (ObjAction.ROUND, ObjAction.CANDIDATE):
            require(self.arg == "" or digits(self.arg), "number")
        return self


class DeskAction(StrEnum):
    SHOW = "s"  # the round
    EDIT_DATE = "e"  # arg=field
    VILLAGES = "v"
    CHECKLIST = "k"
    TOGGLE_ITEM = "t"  # a default checklist item (arg)
    ADD_ITEM = "+"
    SWADAYA_MIN = "p"  # the self-help minimum
    NEW_ROUND = "n"
    CANDIDATES = "C"  # preview
    PUBLISH_CANDIDATES = "P"  # arg=stamp of the preview
    WINNERS = "W"  # preview
    PUBLISH_WINNERS = "Q"  # arg=stamp of the preview
    EXPORTS = "x"


class DeskCb(CallbackData, prefix="c"):
    """/round and the POKJA desk."""

    action: DeskAction
    id: Int = 0
    arg: str = ""

    @model_validator(mode="after")
    def _arg_fits(self) -> Self:
        if self.action in (DeskAction.PUBLISH_CANDIDATES, DeskAction.PUBLISH_WINNERS):
            require(digits(self.arg), "stamp")
        return self


class InviteAction(StrEnum):
    POKJA = "p"  # id=district
    PAKEM = "k"  # choose a village
    VILLAGE = "v"  # arg=kode


class InviteCb(CallbackData, prefix="i"):
    """/undang: an invitation link for a POKJA member or a village's PAKEM."""

    action: InviteAction
    id: Int = 0
    arg: str = ""


class MemberAction(StrEnum):
    LIST = "l"  # id=district
    REMOVE = "r"  # id=role grant


class MemberCb(CallbackData, prefix="mb"):
    """Members of a district's committees."""

    action: MemberAction
    id: Int = 0
