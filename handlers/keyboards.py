"""Keyboards. Labels are translated here; callback_data carries only ids and one-letter actions."""

from __future__ import annotations

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.proposals import ACTIVITIES, EDITABLE, SOURCES, Step
from handlers.callbacks import DraftAction, DraftCb, LangCb, MenuAction, MenuCb, RoundCb
from handlers.formats import activity_label, source_label
from handlers.render import field_label
from storage.views import ProposalView, RoundView

LANGUAGES = (("id", "Bahasa Indonesia"), ("en", "English"))
FIELDS = tuple(EDITABLE)


def skip_label() -> str:
    return _("Skip")


def languages() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGES:
        builder.button(text=name, callback_data=LangCb(code=code))
    return builder.adjust(2).as_markup()


def home(can_draft: bool, has_proposals: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if can_draft:
        builder.button(text=_("📝 New proposal"), callback_data=MenuCb(action=MenuAction.NEW))
    if has_proposals:
        builder.button(text=_("📂 My proposals"), callback_data=MenuCb(action=MenuAction.DRAFTS))
    builder.button(text=_("🌐 Language"), callback_data=MenuCb(action=MenuAction.LANGUAGE))
    return builder.adjust(1).as_markup()


def rounds(options: list[RoundView]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for round_ in options:
        builder.button(text=round_.name[:60], callback_data=RoundCb(round_id=round_.id))
    return builder.adjust(1).as_markup()


def geo() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=_("📍 Share location"), request_location=True)],
            [KeyboardButton(text=skip_label())],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def for_step(view: ProposalView) -> InlineKeyboardMarkup | None:
    step = Step(view.step)
    builder = InlineKeyboardBuilder()
    pid = view.id
    if step == Step.ACTIVITY:
        for index, code in enumerate(ACTIVITIES):
            builder.button(
                text=activity_label(code),
                callback_data=DraftCb(action=DraftAction.ACTIVITY, id=pid, arg=index),
            )
        builder.adjust(2)
    elif step == Step.LINE_SOURCE:
        for index, code in enumerate(SOURCES):
            builder.button(
                text=source_label(code),
                callback_data=DraftCb(action=DraftAction.SOURCE, id=pid, arg=index),
            )
        builder.adjust(2)
    elif step == Step.BUDGET:
        builder.button(
            text=_("➕ Add a line"), callback_data=DraftCb(action=DraftAction.ADD_LINE, id=pid)
        )
        if view.lines:
            builder.button(
                text=_("✏️ Correct a line"),
                callback_data=DraftCb(action=DraftAction.PICK_CORRECT, id=pid),
            )
            builder.button(
                text=_("🗑 Remove a line"),
                callback_data=DraftCb(action=DraftAction.PICK_REMOVE, id=pid),
            )
        if view.complete_lines:
            builder.button(
                text=_("✅ Done"), callback_data=DraftCb(action=DraftAction.BUDGET_DONE, id=pid)
            )
        builder.adjust(1)
    elif step == Step.ATTACHMENTS:
        builder.button(
            text=_("✅ Done"), callback_data=DraftCb(action=DraftAction.ATTACHMENTS_DONE, id=pid)
        )
        if view.attachments:
            builder.button(
                text=_("🗑 Remove all attachments"),
                callback_data=DraftCb(action=DraftAction.CLEAR_ATTACHMENTS, id=pid),
            )
        builder.adjust(1)
    elif step == Step.REVIEW:
        for index, name in enumerate(FIELDS):
            builder.button(
                text=_("✏️ {field}").format(field=field_label(name)),
                callback_data=DraftCb(action=DraftAction.GOTO, id=pid, arg=index),
            )
        builder.button(
            text=_("📨 Submit"), callback_data=DraftCb(action=DraftAction.SUBMIT, id=pid)
        )
        builder.button(
            text=_("💾 Save and leave"),
            callback_data=DraftCb(action=DraftAction.SAVE_AND_LEAVE, id=pid),
        )
        builder.adjust(2, 2, 2, 1, 1, 1)
    else:
        return None
    return builder.as_markup()


def pick_line(view: ProposalView, action: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index, line in enumerate(view.lines, start=1):
        label = f"{index}. {line.item or '?'}"[:60]
        builder.button(text=label, callback_data=DraftCb(action=action, id=view.id, arg=line.id))
    builder.button(
        text=_("↩️ Back to the budget"),
        callback_data=DraftCb(action=DraftAction.BUDGET_MENU, id=view.id),
    )
    return builder.adjust(1).as_markup()


def proposals_list(entries: list[tuple[ProposalView, bool]]) -> InlineKeyboardMarkup:
    """One button per proposal: continue an editable draft, or read the others."""
    builder = InlineKeyboardBuilder()
    for view, editable in entries:
        title = view.number or view.title or _("(no title yet)")
        if editable:
            text = _("✏️ Continue: {title}").format(title=title)
            builder.button(
                text=text[:64], callback_data=DraftCb(action=DraftAction.OPEN, id=view.id)
            )
        else:
            text = _("👁 Read: {title}").format(title=title)
            builder.button(
                text=text[:64], callback_data=DraftCb(action=DraftAction.VIEW, id=view.id)
            )
    return builder.adjust(1).as_markup()


def private_chat(url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("Open a private chat"), url=url)]]
    )
