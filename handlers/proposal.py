"""The PAKEM proposal conversation. Thin: parse the update, call `bot.proposals`, render."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands, proposals
from bot.errors import DomainError, Locked, NotFound, Stale
from bot.policy import MAX_ATTACHMENTS
from bot.proposals import ACTIVITIES, SOURCES, TEXT_STEPS, Step
from bot.text import join_blocks, q
from handlers import budget_echo, keyboards
from handlers.callbacks import DraftCb, MenuCb, RoundCb
from handlers.render import (
    change_lines,
    error_text,
    locale,
    prompt,
    review_facts,
    status_label,
    summary_blocks,
)
from storage.statuses import OPEN_DRAFT
from storage.views import PersonView, ProposalView

T = TypeVar("T")
SHOWN = "shown"  # conversation data: the review's parts as last shown, to tell what changed
WHOLE = "w"  # DraftCb action: the whole summary, asked for after seeing only the changes
DISCARD, DISCARD_YES, DISCARD_NO = "t", "y", "n"  # DraftCb actions: discard, confirm, keep


class Wizard(StatesGroup):
    filling = State()


# -- rendering ---------------------------------------------------------------------------------


async def send_summary(message: Message, view: ProposalView, now: datetime) -> None:
    for chunk in join_blocks(summary_blocks(view, now)):
        await message.answer(chunk, reply_markup=ReplyKeyboardRemove())


async def show_review(
    message: Message, view: ProposalView, now: datetime, state: FSMContext | None
) -> None:
    """The whole summary on arriving at the review; after an edit there, only what changed.

    The parts last shown are kept in the conversation's data, so an edit is compared with what
    the person last saw. Without them (a fresh conversation, or a draft opened from /drafts)
    the whole summary goes out.
    """
    shown = {"locale": locale(), "facts": review_facts(view)}
    before = (await state.get_data()).get(SHOWN) if state is not None else None
    if state is not None:
        await state.update_data({SHOWN: shown})
    if not isinstance(before, dict) or before.get("locale") != shown["locale"]:
        # Nothing shown yet in this conversation, or shown in another language.
        await send_summary(message, view, now)
        return
    chunks = join_blocks(change_lines(before.get("facts") or {}, shown["facts"]), sep="\n")
    for index, chunk in enumerate(chunks, start=1):
        await message.answer(
            chunk,
            reply_markup=whole_summary_button(view.id) if index == len(chunks) else None,
        )


def whole_summary_button(pid: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("📄 Show the whole proposal"),
                    callback_data=DraftCb(action=WHOLE, id=pid).pack(),
                )
            ]
        ]
    )


def discard_button(pid: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("🗑 Discard draft"), callback_data=DraftCb(action=DISCARD, id=pid).pack()
    )


def discard_confirmation(pid: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Yes"), callback_data=DraftCb(action=DISCARD_YES, id=pid).pack()
                ),
                InlineKeyboardButton(
                    text=_("Cancel"), callback_data=DraftCb(action=DISCARD_NO, id=pid).pack()
                ),
            ]
        ]
    )


def draft_title(view: ProposalView) -> str:
    return q(view.title or _("(no title yet)"))


async def offer_discard(message: Message, view: ProposalView) -> None:
    """A draft opened from /drafts names itself, with the way to throw it away; at the review
    step the review's own keyboard carries that button instead."""
    await message.answer(
        _("✏️ Draft “{title}”. If you no longer need it, you can discard it.").format(
            title=draft_title(view)
        ),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[discard_button(view.id)]]),
    )


async def show_step(
    message: Message, view: ProposalView, now: datetime, state: FSMContext | None = None
) -> None:
    """Send the prompt for the draft's current step, with the keyboard it needs."""
    if Step(view.step) == Step.REVIEW:
        await show_review(message, view, now, state)
    await send_prompt(message, view)


async def send_prompt(message: Message, view: ProposalView) -> None:
    """The question of the draft's current step, with the keyboard it needs."""
    step = Step(view.step)
    markup: Any = keyboards.for_step(view)
    if step == Step.REVIEW and view.status in OPEN_DRAFT and markup is not None:
        # A draft, not a proposal back for revision: the review offers to throw it away.
        markup = InlineKeyboardMarkup(
            inline_keyboard=[*markup.inline_keyboard, [discard_button(view.id)]]
        )
    if step == Step.GEO:
        markup = keyboards.geo()
    elif markup is None:
        markup = ReplyKeyboardRemove()
    blocks = [budget_echo.line_heading(view) or "", prompt(view)]
    if step == Step.BUDGET:
        blocks.append(budget_echo.typing_hint())
    for chunk in join_blocks(blocks):
        await message.answer(chunk, reply_markup=markup)


def skip_words() -> set[str]:
    """What people type, or tap on the reply keyboard, to skip the shared location."""
    return {keyboards.skip_label().lower(), "skip", "lewati", "lewat"}


def wrong_kind(step: Step) -> str:
    if step in TEXT_STEPS:
        return _("Please answer with text.")
    if step in (Step.ACTIVITY, Step.LINE_SOURCE, Step.BUDGET, Step.REVIEW):
        return _("Please choose with the buttons.")
    if step == Step.GEO:
        return _("Please share a location with the button, or /skip.")
    return _("Please send a photo or a PDF document, or press Done.")


async def draft_id(state: FSMContext) -> int | None:
    value = (await state.get_data()).get("draft")
    return int(value) if isinstance(value, int) else None


@dataclass(frozen=True)
class Turn:
    """One person's update being answered: where to reply and what it runs against."""

    message: Message
    state: FSMContext
    session: AsyncSession
    person: PersonView
    now: datetime


async def attempt(turn: Turn, pid: int, action: Awaitable[T | None]) -> T | None:
    """Run one domain step; answer domain errors in words and carry on.

    Domain functions check everything before they write, so an error leaves nothing half done.
    Nothing is committed here: the update's transaction commits after the replies went out, so
    a crash halfway leaves the database as it was and Telegram delivers the update again.
    """
    try:
        return await action
    except Stale as exc:
        await turn.message.answer(error_text(exc))
        current = await proposals.load_view(turn.session, turn.person, pid)
        await turn.state.set_state(Wizard.filling)
        await turn.state.set_data({"draft": pid})
        await show_step(turn.message, current, turn.now)
    except (Locked, NotFound) as exc:
        await turn.state.clear()
        await turn.message.answer(error_text(exc), reply_markup=ReplyKeyboardRemove())
    except DomainError as exc:
        await turn.message.answer(error_text(exc))
    return None


async def step_now(turn: Turn, pid: int) -> Step | None:
    """The draft's step, or None after telling the person why it cannot go on."""
    return await attempt(
        turn, pid, proposals.current_step(turn.session, turn.person, pid, turn.now)
    )


async def open_draft(turn: Turn) -> tuple[int, Step] | None:
    """The draft this chat is filling and its step; None once the person was told why not."""
    pid = await draft_id(turn.state)
    if pid is None:
        await lost(turn.message, turn.state)
        return None
    step = await step_now(turn, pid)
    return None if step is None else (pid, step)


async def typed_budget(turn: Turn, pid: int, text: str) -> ProposalView | None:
    """Lines typed at the budget step: say what was read of each, then ask what is missing."""
    typed = await attempt(
        turn,
        pid,
        proposals.budget_typed(turn.session, turn.person, pid, text, turn.now, locale()),
    )
    if typed is None:
        return None
    for chunk in join_blocks(budget_echo.echo_blocks(typed), sep="\n"):
        await turn.message.answer(chunk)
    return typed.proposal


async def begin(message: Message, state: FSMContext, view: ProposalView, now: datetime) -> None:
    await state.set_state(Wizard.filling)
    await state.set_data({"draft": view.id})
    await show_step(message, view, now, state)


# -- router ------------------------------------------------------------------------------------


def router() -> Router:
    r = Router(name="proposal")
    r.message.filter(F.chat.type == "private")
    r.callback_query.filter(F.message.chat.type == "private")

    async def new_proposal(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        options = await proposals.startable_rounds(session, person, now)
        if not options:
            pakem_rounds = [g for g in person.grants if g.round_id is not None]
            if pakem_rounds:
                await message.answer(
                    _("No round is open for submissions now. Your drafts stay readable in /drafts.")
                )
            else:
                await message.answer(error_text(DomainError("not_pakem")))
            return
        if len(options) > 1:
            await message.answer(
                _("Several rounds are open. For which round is this proposal?"),
                reply_markup=keyboards.rounds(options),
            )
            return
        view = await attempt(
            Turn(message, state, session, person, now),
            0,
            proposals.start_draft(session, person, options[0].id, now),
        )
        if view:
            await message.answer(_("A new draft is started. It is saved after every step."))
            await begin(message, state, view, now)

    @r.message(Command(*commands.NEW.names))
    async def cmd_new(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        await new_proposal(message, state, session, person, now)

    @r.callback_query(MenuCb.filter(F.action == "n"))
    async def btn_new(
        callback: CallbackQuery,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        await callback.answer()
        if isinstance(callback.message, Message):
            await new_proposal(callback.message, state, session, person, now)

    @r.callback_query(RoundCb.filter())
    async def btn_round(
        callback: CallbackQuery,
        callback_data: RoundCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        await callback.answer()
        if not isinstance(callback.message, Message):
            return
        await callback.message.edit_reply_markup(reply_markup=None)
        view = await attempt(
            Turn(callback.message, state, session, person, now),
            0,
            proposals.start_draft(session, person, callback_data.round_id, now),
        )
        if view:
            await callback.message.answer(
                _("A new draft is started. It is saved after every step.")
            )
            await begin(callback.message, state, view, now)

    async def list_proposals(
        message: Message, session: AsyncSession, person: PersonView, now: datetime
    ) -> None:
        views = await proposals.my_proposals(session, person)
        if not views:
            await message.answer(_("You have no drafts or proposals yet. /new starts one."))
            return
        lines = [_("<b>Your drafts and proposals</b>")]
        entries = []
        for view in views[:20]:
            editable = view.author_id == person.id and not proposals.is_locked(view, now)
            entries.append((view, editable))
            lines.append(
                "· {title} — {status}{number}".format(
                    title=q(view.title or _("(no title yet)")),
                    status=status_label(view, now),
                    number=f" · {view.number}" if view.number else "",
                )
            )
        for chunk in join_blocks(lines, sep="\n"):
            await message.answer(chunk)
        await message.answer(_("Choose one:"), reply_markup=keyboards.proposals_list(entries))

    @r.message(Command(*commands.DRAFTS.names))
    async def cmd_drafts(
        message: Message, session: AsyncSession, person: PersonView, now: datetime
    ) -> None:
        await list_proposals(message, session, person, now)

    @r.callback_query(MenuCb.filter(F.action == "d"))
    async def btn_drafts(
        callback: CallbackQuery, session: AsyncSession, person: PersonView, now: datetime
    ) -> None:
        await callback.answer()
        if isinstance(callback.message, Message):
            await list_proposals(callback.message, session, person, now)

    # -- commands inside the conversation -----------------------------------------------------

    @r.message(Command(*commands.CANCEL.names))
    async def cmd_cancel(message: Message, state: FSMContext) -> None:
        pid = await draft_id(state)
        await state.clear()
        if pid is None:
            await message.answer(
                _("There is nothing to cancel. /help shows what you can do."),
                reply_markup=ReplyKeyboardRemove(),
            )
            return
        await message.answer(
            _("The draft is saved. Continue it any time with /drafts."),
            reply_markup=ReplyKeyboardRemove(),
        )

    @r.message(Command(*commands.BACK.names), Wizard.filling)
    async def cmd_back(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        await go_back(message, state, session, person, now)

    @r.message(Command(*commands.SKIP.names), Wizard.filling)
    async def cmd_skip(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        pid = await draft_id(state)
        if pid is None:
            return await lost(message, state)
        view = await attempt(
            Turn(message, state, session, person, now),
            pid,
            proposals.skip(session, person, pid, now),
        )
        if view:
            await show_step(message, view, now, state)

    @r.message(Command(*commands.BACK.names, *commands.SKIP.names))
    async def outside(message: Message) -> None:
        await message.answer(_("You are not writing a proposal now. /drafts lists your drafts."))

    async def go_back(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        pid = await draft_id(state)
        if pid is None:
            return await lost(message, state)
        view = await attempt(
            Turn(message, state, session, person, now),
            pid,
            proposals.back(session, person, pid, now),
        )
        if view is None:
            try:
                current = await proposals.load_view(session, person, pid)
            except DomainError:
                return
            if Step(current.step) == Step.TITLE:
                await message.answer(
                    _("This is the first step. /cancel leaves and keeps the draft.")
                )
            return
        await show_step(message, view, now, state)

    # -- answers inside the conversation ------------------------------------------------------

    @r.message(Wizard.filling, F.text)
    async def on_text(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        text = message.text or ""
        if text.startswith("/"):
            await message.answer(_("Unknown command here. /back, /skip or /cancel."))
            return
        turn = Turn(message, state, session, person, now)
        opened = await open_draft(turn)
        if opened is None:
            return
        pid, step = opened
        if step == Step.GEO and text.strip().lower() in skip_words():
            view = await attempt(turn, pid, proposals.skip(session, person, pid, now))
        elif step in TEXT_STEPS:
            view = await attempt(
                turn, pid, proposals.answer_text(session, person, pid, text, now, locale())
            )
        elif step == Step.BUDGET:
            view = await typed_budget(turn, pid, text)
        else:
            await message.answer(wrong_kind(step))
            if step != Step.ATTACHMENTS:
                current = await proposals.resume(session, person, pid, now)
                await show_step(message, current, now, state)
            return
        if view:
            await show_step(message, view, now, state)

    @r.message(Wizard.filling, F.location)
    async def on_location(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        turn = Turn(message, state, session, person, now)
        opened = await open_draft(turn)
        if opened is None or message.location is None:
            return
        pid, step = opened
        if step not in (Step.GEO, Step.LOCATION):
            await message.answer(wrong_kind(step))
            return
        where = message.location
        view = await attempt(
            turn,
            pid,
            proposals.set_geo(session, person, pid, where.latitude, where.longitude, now),
        )
        if view:
            await message.answer(_("Location saved."), reply_markup=ReplyKeyboardRemove())
            await show_step(message, view, now, state)

    @r.message(Wizard.filling, F.photo | F.document)
    async def on_file(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        opened = await open_draft(Turn(message, state, session, person, now))
        if opened is None:
            return
        pid, step = opened
        if step != Step.ATTACHMENTS:
            await message.answer(wrong_kind(step))
            return
        if message.photo:
            photo = message.photo[-1]
            action = proposals.add_attachment(
                session, person, pid, "photo", photo.file_id, photo.file_unique_id, now
            )
        else:
            doc = message.document
            assert doc is not None
            action = proposals.add_attachment(
                session,
                person,
                pid,
                "document",
                doc.file_id,
                doc.file_unique_id,
                now,
                file_name=doc.file_name,
                mime_type=doc.mime_type,
            )
        view = await attempt(Turn(message, state, session, person, now), pid, action)
        if view:
            await message.answer(
                _("Attachment saved ({n} of {max}). Send more, or press Done.").format(
                    n=len(view.attachments), max=MAX_ATTACHMENTS
                ),
                reply_markup=keyboards.for_step(view),
            )

    @r.message(Wizard.filling)
    async def on_other(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        opened = await open_draft(Turn(message, state, session, person, now))
        if opened is not None:
            await message.answer(wrong_kind(opened[1]))

    # -- buttons ------------------------------------------------------------------------------

    @r.callback_query(DraftCb.filter())
    async def on_button(
        callback: CallbackQuery,
        callback_data: DraftCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = callback.message
        await callback.answer()
        if not isinstance(message, Message):
            return
        pid, arg, action = callback_data.id, callback_data.arg, callback_data.action
        if action in (DISCARD, DISCARD_YES, DISCARD_NO):
            await discard_step(message, state, session, person, now, pid, action)
            return
        if action == "v":
            try:
                view = await proposals.load_view(session, person, pid)
            except DomainError as exc:
                await message.answer(error_text(exc))
                return
            await send_summary(message, view, now)
            for attachment in view.attachments:
                if attachment.kind == "photo":
                    await message.answer_photo(attachment.file_id)
                else:
                    await message.answer_document(attachment.file_id)
            if proposals.offers_discard(person, view):
                await offer_discard(message, view)
            return
        if action == WHOLE:
            try:
                view = await proposals.load_view(session, person, pid)
            except DomainError as exc:
                await message.answer(error_text(exc))
                return
            await send_summary(message, view, now)
            return
        ops = {
            "o": lambda: proposals.resume(session, person, pid, now),
            "a": lambda: proposals.choose(
                session,
                person,
                pid,
                Step.ACTIVITY,
                ACTIVITIES[arg] if arg < len(ACTIVITIES) else "",
                now,
            ),
            "s": lambda: proposals.choose(
                session,
                person,
                pid,
                Step.LINE_SOURCE,
                SOURCES[arg] if arg < len(SOURCES) else "",
                now,
            ),
            "b": lambda: proposals.budget_add(session, person, pid, now),
            "e": lambda: proposals.budget_edit(session, person, pid, arg, now),
            "x": lambda: proposals.budget_remove(session, person, pid, arg, now),
            "D": lambda: proposals.budget_done(session, person, pid, now),
            "g": lambda: proposals.goto(
                session,
                person,
                pid,
                keyboards.FIELDS[arg] if arg < len(keyboards.FIELDS) else "",
                now,
            ),
            "k": lambda: proposals.skip(session, person, pid, now),
            "A": lambda: proposals.skip(session, person, pid, now),
            "C": lambda: proposals.remove_attachments(session, person, pid, now),
            "E": lambda: proposals.resume(session, person, pid, now),
            "X": lambda: proposals.resume(session, person, pid, now),
            "M": lambda: proposals.resume(session, person, pid, now),
            "q": lambda: proposals.resume(session, person, pid, now),
            "S": None,
        }
        if action not in ops:
            return
        if action == "S":
            await submit(message, state, session, person, now, pid)
            return
        view = await attempt(Turn(message, state, session, person, now), pid, ops[action]())
        if view is None:
            return
        await state.set_state(Wizard.filling)
        if action == "o" or await draft_id(state) != pid:
            # Opened afresh: the review shows the whole summary again.
            await state.set_data({"draft": pid})
        await message.edit_reply_markup(reply_markup=None)
        if action == "q":
            await state.clear()
            await message.answer(_("The draft is saved. Continue it any time with /drafts."))
        elif action in ("E", "X"):
            if Step(view.step) != Step.BUDGET:
                await show_step(message, view, now, state)
                return
            await message.answer(
                _("Which line do you want to correct?")
                if action == "E"
                else _("Which line do you want to remove?"),
                reply_markup=keyboards.pick_line(view, action.lower()),
            )
        else:
            if action == "x":
                await message.answer(_("The line is removed."))
            if action == "o" and Step(view.step) != Step.REVIEW:
                if proposals.offers_discard(person, view):
                    await offer_discard(message, view)
            await show_step(message, view, now, state)

    async def discard_step(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
        pid: int,
        action: str,
    ) -> None:
        """Discard asks first, then throws the draft away, or keeps it.

        A refusal is only answered: the conversation goes on with whatever draft it was on,
        since the button pressed may belong to another draft or to an old message.
        """
        if action == DISCARD_NO:
            await message.edit_reply_markup(reply_markup=None)
            await message.answer(_("The draft is kept."))
            if await draft_id(state) == pid:
                # Still writing it: put the step's buttons back under the person's eyes.
                try:
                    current = await proposals.resume(session, person, pid, now)
                except DomainError:
                    return
                await send_prompt(message, current)
            return
        try:
            if action == DISCARD:
                view = await proposals.check_discard(session, person, pid)
            else:
                view = await proposals.discard(session, person, pid, now)
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        if action == DISCARD:
            await message.answer(
                _("🗑 Discard the draft “{title}”?").format(title=draft_title(view))
                + "\n"
                + _("Are you sure? This draft cannot be brought back."),
                reply_markup=discard_confirmation(pid),
            )
            return
        await message.edit_reply_markup(reply_markup=None)
        if await draft_id(state) == pid:
            await state.clear()
        await message.answer(
            _(
                "The draft “{title}” is discarded. /new starts a new one, /drafts lists the others."
            ).format(title=draft_title(view)),
            reply_markup=ReplyKeyboardRemove(),
        )

    async def submit(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
        pid: int,
    ) -> None:
        try:
            result = await proposals.submit(session, person, pid, now)
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        # No confirmation goes out for a number not kept: replies leave after the update's
        # commit (bot/after_commit.py), and the other members' copies were queued in this same
        # transaction (the outbox).
        await state.clear()
        await message.edit_reply_markup(reply_markup=None)
        view = result.proposal
        head = _(
            "✅ Submitted! Your proposal has number <b>{number}</b>. Every member "
            "of your committee receives this summary."
        ).format(number=view.number)
        for chunk in join_blocks([head, *summary_blocks(view, now)]):
            await message.answer(chunk)

    return r


async def lost(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("I lost track of your draft. Open it again with /drafts."))


def fallback_router() -> Router:
    r = Router(name="fallback")
    r.message.filter(F.chat.type == "private")

    @r.message(F.text.startswith("/"))
    async def unknown_command(message: Message) -> None:
        await message.answer(_("I do not know that command. /help shows what you can do."))

    @r.message()
    async def anything(message: Message) -> None:
        await message.answer(
            _("I did not understand that. /help shows what you can do, /drafts opens your drafts.")
        )

    @r.callback_query()
    async def old_button(callback: CallbackQuery) -> None:
        await callback.answer(_("This button no longer works. Send /help."), show_alert=True)

    return r
