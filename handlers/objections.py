"""Objections: filing one (/keberatan), following it (/status), the committee's reply and the
POKJA's answer. Thin: every rule lives in `bot.objections`."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands, objections, places
from bot.errors import Code, DomainError, Locked, NotFound
from bot.objections import (
    CATEGORIES,
    MAX_EVIDENCE,
    MAX_PER_WINDOW,
    TEXT_MAX,
    ObjectionStatus,
    Step,
)
from bot.review import guard_pokja
from bot.text import join_blocks, q
from handlers.callbacks import ObjAction, ObjCb
from handlers.formats import money, when
from handlers.render import error_text
from handlers.replies import LEAVE, attempt, opened, reasoned, target
from handlers.review import resend_files
from handlers.review_text import (
    category_label,
    objection_blocks,
    outcome_label,
    own_objections_text,
)
from storage.views import PersonView, Role


class Objecting(StatesGroup):
    active = State()


class Responding(StatesGroup):
    reply = State()
    answer = State()
    unmask = State()


def nav(b: InlineKeyboardBuilder, draft: objections.Draft) -> None:
    b.button(text=_("✖ Discard"), callback_data=ObjCb(action=ObjAction.DISCARD, id=draft.id))


async def show(
    message: Message, session: AsyncSession, draft: objections.Draft, now: datetime
) -> None:
    """The prompt for the draft's current step."""
    b = InlineKeyboardBuilder()
    tail = "\n\n" + _("/back goes one step back, /cancel keeps the draft and leaves.")
    step = draft.step
    if step == Step.ROUND:
        text = _("Objections are open in several rounds. Which one?")
        for window in await objections.open_windows(session, now):
            district = await places.district(session, window.district_id)
            b.button(
                text=f"{window.name} ({district.name if district else ''})",
                callback_data=ObjCb(action=ObjAction.ROUND, id=draft.id, arg=str(window.id)),
            )
    elif step == Step.VILLAGE:
        assert draft.round is not None
        text = _(
            "⚖️ <b>Objection</b> ({round}). The window closes {when}. Which village's candidate "
            "do you object to?"
        ).format(
            round=q(draft.round.name),
            when=when(draft.round.clarify_end, draft.round.timezone)
            if draft.round.clarify_end
            else "—",
        )
        for kode, name in (await objections.villages(session, draft))[:40]:
            b.button(
                text=name, callback_data=ObjCb(action=ObjAction.VILLAGE, id=draft.id, arg=kode)
            )
    elif step == Step.CANDIDATE:
        text = _("Which candidate?")
        for view in await objections.candidates(session, draft):
            b.button(
                text=f"{view.number}: {view.title}"[:60],
                callback_data=ObjCb(action=ObjAction.CANDIDATE, id=draft.id, arg=str(view.id)),
            )
    elif step == Step.CATEGORY:
        assert draft.proposal is not None
        text = _("Objection to <b>{number}</b> {title} ({village}). What is it about?").format(
            number=q(draft.proposal.number),
            title=q(draft.proposal.title),
            village=q(draft.proposal.village_name),
        )
        for code in CATEGORIES:
            b.button(
                text=category_label(code),
                callback_data=ObjCb(action=ObjAction.CATEGORY, id=draft.id, arg=code),
            )
    elif step == Step.TEXT:
        text = _(
            "Describe your objection in your own words: what is wrong, and how you know. "
            "At most {max} characters."
        ).format(max=TEXT_MAX)
    elif step == Step.EVIDENCE:
        text = _(
            "You may add evidence: photos, documents or voice notes, at most {max}. You have "
            "added {n}. Press Done when finished."
        ).format(max=MAX_EVIDENCE, n=draft.evidence)
        b.button(
            text=_("✅ Done"), callback_data=ObjCb(action=ObjAction.EVIDENCE_DONE, id=draft.id)
        )
    elif step == Step.IDENTITY:
        text = _(
            "Who may know it is you?\n"
            "• <b>With my name</b>: the POKJA sees your name.\n"
            "• <b>Anonymous</b>: the POKJA sees only a code name such as Warga-7K2P.\n"
            "The village committee concerned never learns who objected."
        )
        b.button(
            text=_("👤 With my name"),
            callback_data=ObjCb(action=ObjAction.IDENTITY, id=draft.id, arg="n"),
        )
        b.button(
            text=_("🙈 Anonymous"),
            callback_data=ObjCb(action=ObjAction.IDENTITY, id=draft.id, arg="a"),
        )
    else:
        assert draft.proposal is not None
        text = "\n".join(
            [
                _("<b>Check your objection</b>"),
                _("Against: {number} {title} ({village})").format(
                    number=q(draft.proposal.number),
                    title=q(draft.proposal.title),
                    village=q(draft.proposal.village_name),
                ),
                _("Category: {category}").format(
                    category=category_label(draft.category or "other")
                ),
                _("Evidence: {n} file(s)").format(n=draft.evidence),
                _("Identity: {who}").format(
                    who=_("anonymous to the POKJA")
                    if draft.anonymous
                    else _("your name, to the POKJA only")
                ),
                "",
                q(draft.text or ""),
            ]
        )
        b.button(
            text=_("📨 File the objection"), callback_data=ObjCb(action=ObjAction.FILE, id=draft.id)
        )
        b.button(
            text=_("🙈 Anonymous instead") if not draft.anonymous else _("👤 With my name instead"),
            callback_data=ObjCb(
                action=ObjAction.IDENTITY, id=draft.id, arg="n" if draft.anonymous else "a"
            ),
        )
    nav(b, draft)
    b.adjust(1)
    for chunk in join_blocks([text + tail]):
        await message.answer(chunk, reply_markup=b.as_markup())


def staff_keyboard(views: list[objections.ObjectionView]) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    for v in views[:30]:
        b.button(
            text=f"{v.number} · {v.proposal.number} · {outcome_label(v.outcome)}"[:60],
            callback_data=ObjCb(action=ObjAction.OPEN, id=v.id),
        )
    b.button(text=_("✍️ File an objection myself"), callback_data=ObjCb(action=ObjAction.START))
    b.adjust(1)
    return b.as_markup()


def router() -> Router:
    r = Router(name="objections")
    r.message.filter(F.chat.type == "private")
    r.callback_query.filter(F.message.chat.type == "private")

    async def begin(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
        proposal_id: int | None = None,
    ) -> None:
        draft = await attempt(
            message, objections.start(session, person, now, proposal_id=proposal_id)
        )
        if draft is None:
            return
        await state.set_state(Objecting.active)
        await state.set_data({"oid": draft.id})
        await show(message, session, draft, now)

    @r.message(Command(*commands.OBJECTION.names))
    async def cmd_object(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        districts = sorted(
            {g.district_id for g in person.grants if g.role in (Role.POKJA, Role.ADMIN)}
        )
        if districts:
            views: list[objections.ObjectionView] = []
            for district_id in districts:
                views += await objections.district_list(
                    session, person, district_id, only_open=False
                )
            waiting = [v for v in views if v.status == ObjectionStatus.FILED]
            answered = [v for v in views if v.status != ObjectionStatus.FILED]
            await message.answer(
                _("⚖️ {n} objection(s) in all, {open} waiting for an answer.").format(
                    n=len(views), open=len(waiting)
                ),
                reply_markup=staff_keyboard(waiting + answered),
            )
            return
        await begin(message, state, session, person, now)

    @r.callback_query(ObjCb.filter(F.action.in_({ObjAction.START, ObjAction.NEW})))
    async def on_new(
        callback: CallbackQuery,
        callback_data: ObjCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is not None:
            pid = callback_data.id if callback_data.action == ObjAction.NEW else None
            await begin(message, state, session, person, now, pid)

    async def current(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        oid: int | None = None,
    ) -> objections.Draft | None:
        if oid is None:
            oid = (await state.get_data()).get("oid")
        if not isinstance(oid, int):
            await state.clear()
            await message.answer(
                _("That objection is no longer open. /objection starts a new one.")
            )
            return None
        try:
            return await objections.current(session, person, oid)
        except DomainError as exc:
            await state.clear()
            await message.answer(error_text(exc))
            return None

    async def step(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        action: Awaitable[objections.Draft],
        now: datetime,
    ) -> None:
        try:
            draft = await action
        except (Locked, NotFound) as exc:
            await state.clear()
            await message.answer(error_text(exc))
            return
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        await state.set_state(Objecting.active)
        await state.set_data({"oid": draft.id})
        await show(message, session, draft, now)

    @r.callback_query(
        ObjCb.filter(
            F.action.in_(
                {
                    ObjAction.ROUND,
                    ObjAction.VILLAGE,
                    ObjAction.CANDIDATE,
                    ObjAction.CATEGORY,
                    ObjAction.EVIDENCE_DONE,
                    ObjAction.IDENTITY,
                }
            )
        )
    )
    async def on_choice(
        callback: CallbackQuery,
        callback_data: ObjCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        oid, arg = callback_data.id, callback_data.arg
        action = {
            ObjAction.ROUND: lambda: objections.choose_round(
                session, person, oid, int(arg or 0), now
            ),
            ObjAction.VILLAGE: lambda: objections.choose_village(session, person, oid, arg, now),
            ObjAction.CANDIDATE: lambda: objections.choose_candidate(
                session, person, oid, int(arg or 0), now
            ),
            ObjAction.CATEGORY: lambda: objections.choose_category(session, person, oid, arg, now),
            ObjAction.EVIDENCE_DONE: lambda: objections.evidence_done(session, person, oid, now),
            ObjAction.IDENTITY: lambda: objections.choose_identity(
                session, person, oid, arg == "a", now
            ),
        }[callback_data.action]
        await step(message, state, session, action(), now)

    @r.callback_query(ObjCb.filter(F.action == ObjAction.FILE))
    async def on_file(
        callback: CallbackQuery,
        callback_data: ObjCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        try:
            filed = await objections.file(session, person, callback_data.id, now)
        except DomainError as exc:
            await message.answer(error_text(exc))
            if isinstance(exc, (Locked, NotFound)):
                await state.clear()
            return
        await state.clear()
        await message.answer(
            _(
                "📨 Your objection is filed as <b>{number}</b>. The POKJA must answer it with "
                "reasons; you will be told here. Follow it with /status {number}. You have filed "
                "{n} of {max} objections in this window."
            ).format(number=filed.number, n=filed.filed_this_window, max=MAX_PER_WINDOW)
        )

    @r.callback_query(ObjCb.filter(F.action == ObjAction.DISCARD))
    async def on_discard(
        callback: CallbackQuery,
        callback_data: ObjCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
    ) -> None:
        await callback.answer()
        await objections.cancel(session, person, callback_data.id)
        await state.clear()
        message = target(callback)
        if message is not None:
            await message.answer(_("The objection draft is discarded."))

    @r.message(Objecting.active, Command(*commands.CANCEL.names))
    async def cmd_cancel(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(_("Your objection draft is kept. /objection continues it."))

    @r.message(Objecting.active, Command(*commands.BACK.names))
    async def cmd_back(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        draft = await current(message, state, session, person)
        if draft is None:
            return
        try:
            previous = await objections.back(session, person, draft.id, now)
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        if previous is None:
            await message.answer(_("This is the first step. /cancel leaves and keeps the draft."))
            return
        await show(message, session, previous, now)

    @r.message(Objecting.active, F.text & ~F.text.startswith("/"))
    async def on_text(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        draft = await current(message, state, session, person)
        if draft is None:
            return
        if draft.step != Step.TEXT:
            await message.answer(_("Please use the buttons above, or /back to change the text."))
            return
        await step(
            message,
            state,
            session,
            objections.set_text(session, person, draft.id, message.text or "", now),
            now,
        )

    @r.message(Objecting.active, F.photo | F.document | F.voice)
    async def on_evidence(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        draft = await current(message, state, session, person)
        if draft is None:
            return
        if message.photo:
            kind, file_id, unique, name = (
                "photo",
                message.photo[-1].file_id,
                message.photo[-1].file_unique_id,
                None,
            )
        elif message.voice:
            kind, file_id, unique, name = (
                "voice",
                message.voice.file_id,
                message.voice.file_unique_id,
                None,
            )
        else:
            assert message.document is not None
            doc = message.document
            kind, file_id, unique, name = "document", doc.file_id, doc.file_unique_id, doc.file_name
        if draft.step != Step.EVIDENCE:
            await message.answer(
                _("Evidence comes after the text. Please answer the step above first.")
            )
            return
        result = await attempt(
            message,
            objections.add_evidence(session, person, draft.id, kind, file_id, unique, now, name),
        )
        if result is not None:
            b = InlineKeyboardBuilder()
            b.button(
                text=_("✅ Done"), callback_data=ObjCb(action=ObjAction.EVIDENCE_DONE, id=result.id)
            )
            await message.answer(
                _("Received ({n} of at most {max}). Send more, or press Done.").format(
                    n=result.evidence, max=MAX_EVIDENCE
                ),
                reply_markup=b.as_markup(),
            )

    @r.message(Objecting.active, ~F.text.startswith("/"))
    async def on_other(message: Message) -> None:
        await message.answer(_("Please answer with text, or send a photo, document or voice note."))

    # -- following one's objections ---------------------------------------------------------------

    @r.message(Command(*commands.STATUS.names))
    async def cmd_status(
        message: Message, command: CommandObject, session: AsyncSession, person: PersonView
    ) -> None:
        if command.args:
            views = await attempt(message, objections.own_by_number(session, person, command.args))
            for view in views or []:
                for chunk in join_blocks(objection_blocks(view, for_pokja=False)):
                    await message.answer(chunk)
            return
        await message.answer(own_objections_text(await objections.own(session, person)))

    # -- the committee's right of reply -----------------------------------------------------------

    @r.callback_query(ObjCb.filter(F.action == ObjAction.REPLY))
    async def on_reply(
        callback: CallbackQuery,
        callback_data: ObjCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        view = await attempt(
            message, objections.committee_view(session, person, callback_data.id, now)
        )
        if view is None:
            return
        if view.reply_at is not None:
            await message.answer(error_text(Locked(Code.ALREADY_REPLIED)))
            return
        await state.set_state(Responding.reply)
        await state.set_data({"oid": view.id})
        await message.answer(
            _(
                "Write your committee's clarification on objection {number}. It is sent to the "
                "POKJA, once. /cancel leaves without replying."
            ).format(number=view.number)
        )

    @r.message(Responding.reply, F.text & ~F.text.startswith("/"))
    async def on_reply_text(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        oid = int((await state.get_data())["oid"])
        view = await reasoned(
            message, state, objections.reply(session, person, oid, message.text or "", now)
        )
        if view is None:
            return
        await message.answer(
            _("✅ Your reply to {number} is sent to the POKJA.").format(number=view.number)
        )

    # -- the POKJA ------------------------------------------------------------------------------

    @r.callback_query(ObjCb.filter(F.action == ObjAction.OPEN))
    async def on_open(
        callback: CallbackQuery,
        callback_data: ObjCb,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        view = await attempt(message, objections.for_pokja(session, person, callback_data.id, now))
        if view is None:
            return
        for chunk in join_blocks(objection_blocks(view, for_pokja=True)):
            await message.answer(chunk)
        await resend_files(bot, message.chat.id, [(e.kind, e.file_id) for e in view.evidence])
        b = InlineKeyboardBuilder()
        if view.status == ObjectionStatus.FILED:
            b.button(text=_("✅ Uphold"), callback_data=ObjCb(action=ObjAction.UPHOLD, id=view.id))
            b.button(text=_("✖ Dismiss"), callback_data=ObjCb(action=ObjAction.DISMISS, id=view.id))
        if view.anonymous and person.has(Role.ADMIN, view.proposal.round.district_id):
            b.button(
                text=_("🔓 Unmask (admin)"),
                callback_data=ObjCb(action=ObjAction.UNMASK, id=view.id),
            )
        b.adjust(2, 1)
        await message.answer(
            _("Amount asked: {total}. What is the POKJA's answer?").format(
                total=money(view.proposal.total)
            )
            if view.status == ObjectionStatus.FILED
            else _("Answered: {outcome}.").format(outcome=outcome_label(view.outcome)),
            reply_markup=b.as_markup(),
        )

    @r.callback_query(
        ObjCb.filter(F.action.in_({ObjAction.UPHOLD, ObjAction.DISMISS, ObjAction.UNMASK}))
    )
    async def on_answer(
        callback: CallbackQuery,
        callback_data: ObjCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        # Uphold and dismiss are refused at once on an answered objection, before the reason.
        check = (
            objections.for_pokja
            if callback_data.action == ObjAction.UNMASK
            else objections.answerable
        )
        view = await attempt(message, check(session, person, callback_data.id, now))
        if view is None:
            return
        if callback_data.action == ObjAction.UNMASK:
            district = view.proposal.round.district_id
            if not await attempt(
                message,
                guard_pokja(
                    session,
                    person,
                    district,
                    "objection.unmask",
                    f"objection:{view.id}",
                    now,
                    admin=True,
                ),
            ):
                return
            await state.set_state(Responding.unmask)
            await state.set_data({"oid": view.id})
            await message.answer(
                _(
                    "Unmasking is logged with your name and reason. Why must the objector of "
                    "{number} be known? /cancel leaves."
                ).format(number=view.number)
            )
            return
        outcome = (
            ObjectionStatus.UPHELD
            if callback_data.action == ObjAction.UPHOLD
            else ObjectionStatus.DISMISSED
        )
        await state.set_state(Responding.answer)
        await state.set_data({"oid": view.id, "outcome": outcome})
        await message.answer(
            (
                _("Why is objection {number} upheld? The objector and the PAKEM read your answer.")
                if outcome == ObjectionStatus.UPHELD
                else _(
                    "Why is objection {number} dismissed? The objector and the PAKEM read "
                    "your answer."
                )
            ).format(number=view.number)
        )

    @r.message(Responding.answer, F.text & ~F.text.startswith("/"))
    async def on_answer_text(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        data = await state.get_data()
        view = await reasoned(
            message,
            state,
            objections.answer(
                session, person, int(data["oid"]), str(data["outcome"]), message.text or "", now
            ),
        )
        if view is None:
            return
        text = _("✅ Objection {number} {outcome}. The objector and the PAKEM are told.").format(
            number=view.number, outcome=outcome_label(view.outcome)
        )
        if view.outcome == ObjectionStatus.UPHELD:
            text += " " + _("{proposal} is back in review.").format(
                proposal=q(view.proposal.number)
            )
        await message.answer(text)

    @r.message(Responding.unmask, F.text & ~F.text.startswith("/"))
    async def on_unmask_text(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        oid = int((await state.get_data())["oid"])
        who = await reasoned(
            message, state, objections.unmask(session, person, oid, message.text or "", now)
        )
        if who is None:
            return
        await message.answer(_("🔓 The objector is: {who}. This was logged.").format(who=q(who)))

    @r.message(StateFilter(*Responding.__all_states__), ~F.text)
    async def not_text(message: Message) -> None:
        await message.answer(_("Please answer with text, or /cancel."))

    @r.message(StateFilter(*Responding.__all_states__), Command(*LEAVE))
    async def cancel_response(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(_("Nothing was sent."))

    return r
