"""Button actions are enums: every member fits Telegram's 64 bytes, survives a round trip, keeps
the value already drawn on buttons in people's chats, and is used by the handlers; the actions no
keyboard ever sent are gone."""

from __future__ import annotations

import ast
from enum import StrEnum
from pathlib import Path

import pytest

from handlers import callbacks
from handlers.callbacks import (
    AnnAction,
    AnnCb,
    DeskAction,
    DeskCb,
    DraftAction,
    DraftCb,
    InviteAction,
    InviteCb,
    MemberAction,
    MemberCb,
    MenuAction,
    MenuCb,
    ObjAction,
    ObjCb,
    QueueCb,
    QueuePick,
    RevAction,
    RevCb,
    VillageAction,
    VillageCb,
)

ROOT = Path(__file__).resolve().parent.parent
BIG = 2**31 - 1
LONG_ARG = "submission_deadline"  # the longest text argument a button carries (a date's field)
KODE = "33.24.01.2001"

# The values on buttons already sent: changing one breaks them, so this list changes only by
# adding. (B=back, h=help, k=skip, q/o on the desk and a=attachments on a review were never
# drawn on any keyboard and are gone.)
VALUES: dict[type[StrEnum], str] = {
    MenuAction: "ndl",
    DraftAction: "ovasbEXexDgSqACMwtyn",
    VillageAction: "bkfups",
    AnnAction: "Dstklfeacx",
    RevAction: "ocmkVSXdnftj",
    ObjAction: "snRVCKEIFxroudM",
    DeskAction: "sevkt+pnCPWQx",
    InviteAction: "pkv",
    MemberAction: "lr",
}


def largest(action: StrEnum) -> callbacks.CallbackData:
    """The button of this action with the largest fields the bot ever puts in it."""
    if isinstance(action, MenuAction):
        return MenuCb(action=action)
    if isinstance(action, DraftAction):
        return DraftCb(action=action, id=BIG, arg=BIG)
    if isinstance(action, VillageAction):
        return VillageCb(action=action, kode=KODE, page=BIG)
    if isinstance(action, AnnAction):
        arg = "villages" if action == AnnAction.SCOPE else LONG_ARG
        return AnnCb(action=action, id=BIG, arg=arg, page=BIG)
    if isinstance(action, RevAction):
        numeric = action in (RevAction.PICK_ITEM, RevAction.REVISION_DAYS)
        arg = "9" * 10 if numeric else "99-yes" if action == RevAction.MARK else LONG_ARG
        return RevCb(action=action, id=BIG, v=BIG, arg=arg)
    if isinstance(action, ObjAction):
        numeric = action in (ObjAction.ROUND, ObjAction.CANDIDATE)
        return ObjCb(action=action, id=BIG, arg=str(BIG) if numeric else KODE)
    if isinstance(action, DeskAction):
        stamp = action in (DeskAction.PUBLISH_CANDIDATES, DeskAction.PUBLISH_WINNERS)
        return DeskCb(action=action, id=BIG, arg="999999" if stamp else LONG_ARG)
    if isinstance(action, InviteAction):
        return InviteCb(action=action, id=BIG, arg=KODE)
    assert isinstance(action, MemberAction)
    return MemberCb(action=action, id=BIG)


ACTIONS = [member for enum in VALUES for member in enum]


def test_the_values_on_buttons_already_sent_stay() -> None:
    for enum, values in VALUES.items():
        assert "".join(m.value for m in enum) == values, enum.__name__
    assert [p.value for p in QueuePick] == ["", "v", "s", "a"]
    enums = {
        cls
        for _name, cls in vars(callbacks).items()
        if isinstance(cls, type)
        and issubclass(cls, StrEnum)
        and cls.__module__ == callbacks.__name__
    }
    assert enums == {*VALUES, QueuePick}


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: f"{type(a).__name__}.{a.name}")
def test_every_action_fits_and_round_trips(action: StrEnum) -> None:
    data = largest(action)
    packed = data.pack()
    assert len(packed.encode()) <= 64, packed
    again = type(data).unpack(packed)
    assert again == data
    assert again.action is action  # type: ignore[attr-defined]


def test_the_queue_with_every_filter_fits() -> None:
    for pick in QueuePick:
        data = QueueCb(
            round=BIG, village=KODE, status="submitted", activity="sanitation", page=BIG, pick=pick
        )
        assert len(data.pack().encode()) <= 64
        assert QueueCb.unpack(data.pack()).pick is pick


@pytest.mark.parametrize(
    "payload", ["o:B:0:", "o:B:1:", "m:h", "c:q:1:", "c:o:1:", "rv:a:1:0:", "d:k:1:0", "d:?:1:0"]
)
def test_dead_and_unknown_actions_are_refused(payload: str) -> None:
    factory = next(
        cls
        for cls in (ObjCb, MenuCb, DeskCb, RevCb, DraftCb)
        if payload.startswith(cls.__prefix__ + ":")  # type: ignore[attr-defined]
    )
    with pytest.raises((TypeError, ValueError)):
        factory.unpack(payload)


def references() -> dict[StrEnum, int]:
    """How often the handlers name each action (`ObjAction.FILE`). The draft's handler still
    names its actions by value ("S"), so for DraftAction those count too."""
    counts: dict[StrEnum, int] = dict.fromkeys(ACTIONS, 0)
    by_name = {(type(m).__name__, m.name): m for m in ACTIONS}
    for path in sorted((ROOT / "handlers").glob("*.py")):
        if path.name == "callbacks.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                member = by_name.get((node.value.id, node.attr))
                if member is not None:
                    counts[member] += 1
            elif (
                path.name == "proposal.py"
                and isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in DraftAction._value2member_map_
            ):
                counts[DraftAction(node.value)] += 1
    return counts


def test_every_action_is_used_by_the_handlers() -> None:
    assert [m for m, n in references().items() if n == 0] == []
