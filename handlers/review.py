"""The POKJA's review desk: /tinjau (queue), a proposal's dossier, checklist, field visits,
decisions and timeline. Thin: every rule lives in `bot.review`."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands, review
from bot.errors import DomainError, Stale
from bot.proposals import ACTIVITIES
from bot.rounds import parse_date
from bot.text import join_blocks, q
from handlers.callbacks import ObjAction, ObjCb, QueueCb, QueuePick, RevAction, RevCb
from handlers.formats import activity_label, proposal_status
from handlers.render import error_text, summary_blocks
from handlers.replies import RETYPE, attempt, opened
from handlers.review_text import (
    category_label,
    checklist_lines,
    decision_label,
    dossier_blocks,
    item_label,
    outcome_label,
    queue_text,
    timeline_blocks,
)
from storage.views import PersonView


class Desk(StatesGroup):
    reason = State()
    note = State()
    verifying = State()


# -- rendering ---------------------------------------------------------------------------------


def queue_keyboard(page: review.QueuePage) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    flt = page.filter
    base = QueueCb(
        round=page.round.id,
        village=flt.village or "",
        status=flt.status or "",
        activity=flt.activity or "",
        page=page.page,
    )
    for item in page.items:
        b.button(
            text=_("Open {number}").format(number=item.number or item.id),
            callback_data=RevCb(action=RevAction.OPEN, id=item.id),
        )
    b.button(
        text=_("🏡 Village"), callback_data=base.model_copy(update={"pick": QueuePick.VILLAGE})
    )
    b.button(text=_("🏷 Status"), callback_data=base.model_copy(update={"pick": QueuePick.STATUS}))
    b.button(
        text=_("🛠 Activity"), callback_data=base.model_copy(update={"pick": QueuePick.ACTIVITY})
    )
    sizes = [1] * len(page.items) + [3]
    nav = 0
    if page.page > 0:
        b.button(text="◀", callback_data=base.model_copy(update={"page": page.page - 1}))
        nav += 1
    if page.page + 1 < page.pages:
        b.button(text="▶", callback_data=base.model_copy(update={"page": page.page + 1}))
        nav += 1
    if nav:
        sizes.append(nav)
    b.adjust(*sizes)
    return b.as_markup()


def filter_keyboard(page: review.QueuePage, pick: QueuePick) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    flt = page.filter
    base = QueueCb(
        round=page.round.id,
        village=flt.village or "",
        status=flt.status or "",
        activity=flt.activity or "",
    )
    if pick == QueuePick.VILLAGE:
        b.button(text=_("All villages"), callback_data=base.model_copy(update={"village": ""}))
        for kode, name in page.villages[:40]:
            b.button(text=name, callback_data=base.model_copy(update={"village": kode}))
    elif pick == QueuePick.STATUS:
        b.button(text=_("All statuses"), callback_data=base.model_copy(update={"status": ""}))
        for status in review.QUEUE_STATUSES:
            b.button(
                text=proposal_status(status),
                callback_data=base.model_copy(update={"status": status}),
            )
    else:
        b.button(text=_("All activities"), callback_data=base.model_copy(update={"activity": ""}))
        for code in ACTIVITIES:
            b.button(
                text=activity_label(code), callback_data=base.model_copy(update={"activity": code})
            )
    b.adjust(2)
    return b.as_markup()


def actions_keyboard(dossier: review.Dossier) -> InlineKeyboardMarkup:
    view = dossier.proposal
    b = InlineKeyboardBuilder()
    rows: list[int] = []
    if view.status == "submitted":
        for decision in ("candidate", "revision", "rejected"):
            b.button(
                text=decision_label(decision),
                callback_data=RevCb(
                    action=RevAction.DECIDE, id=view.id, v=view.version, arg=decision
                ),
            )
        rows += [1, 2]
    if view.status == "candidate":
        b.button(
            text=_("🏆 Name winner"),
            callback_data=RevCb(action=RevAction.NAME_WINNER, id=view.id, v=view.version),
        )
        rows.append(1)
    b.button(text=_("☑️ Checklist"), callback_data=RevCb(action=RevAction.CHECKLIST, id=view.id))
    b.button(text=_("📍 Field visit"), callback_data=RevCb(action=RevAction.VERIFY, id=view.id))
    b.button(text=_("🧾 Timeline"), callback_data=RevCb(action=RevAction.TIMELINE, id=view.id))
    rows.append(3)
    if dossier.objections:
        b.button(
            text=_("⚖️ Objections ({n})").format(n=len(dossier.objections)),
            callback_data=RevCb(action=RevAction.OBJECTIONS, id=view.id),
        )
        rows.append(1)
    b.button(text=_("📋 Back to the queue"), callback_data=QueueCb(round=view.round.id))
    rows.append(1)
    b.adjust(*rows)
    return b.as_markup()


async def send_dossier(
    message: Message,
    bot: Bot,
    dossier: review.Dossier,
    now: datetime,
    *,
    files: bool,
    events: list[review.Event] | None = None,
) -> None:
    """The proposal, its review so far, its attachments and its history; the decision buttons
    come last so they sit under the thumb."""
    view = dossier.proposal
    blocks = summary_blocks(view, now) + dossier_blocks(dossier)
    for chunk in join_blocks(blocks):
        await message.answer(chunk)
    if events:
        history = timeline_blocks(view.number, view.title, events, view.round.timezone)
        for chunk in join_blocks(history, sep="\n"):
            await message.answer(chunk)
    if files:
        await resend_files(bot, message.chat.id, [(a.kind, a.file_id) for a in view.attachments])
    await message.answer(
        _("What do you decide on {number}?").format(number=q(view.number or "")),
        reply_markup=actions_keyboard(dossier),
    )


async def resend_files(bot: Bot, chat_id: int, files: list[tuple[str, str]]) -> None:
    """Re-send by Telegram file_id: nothing is downloaded or stored by us."""
    for kind, file_id in files:
        if kind == "photo":
            await bot.send_photo(chat_id, file_id)
        elif kind == "voice":
            await bot.send_voice(chat_id, file_id)
        else:
            await bot.send_document(chat_id, file_id)


def checklist_keyboard(dossier: review.Dossier) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    for index, item in enumerate(dossier.checklist):
        b.button(
            text=f"{index + 1}. {item_label(item.code)}"[:60],
            callback_data=RevCb(action=RevAction.PICK_ITEM, id=dossier.proposal.id, arg=str(index)),
        )
    b.button(
        text=_("⬅ Back to the proposal"),
        callback_data=RevCb(action=RevAction.OPEN, id=dossier.proposal.id, arg="n"),
    )
    b.adjust(1)
    return b.as_markup()


def verification_keyboard(verification_id: int, proposal_id: int) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    b.button(
        text=_("💾 Save the visit"),
        callback_data=RevCb(action=RevAction.SAVE_VISIT, id=proposal_id, v=verification_id),
    )
    b.button(
        text=_("✖ Discard"),
        callback_data=RevCb(action=RevAction.DISCARD_VISIT, id=proposal_id, v=verification_id),
    )
    return b.as_markup()


# -- router ------------------------------------------------------------------------------------


def router() -> Router:
    r = Router(name="review")
    r.message.filter(F.chat.type == "private")
    r.callback_query.filter(F.message.chat.type == "private")

    async def show_queue(
        message: Message,
        session: AsyncSession,
        person: PersonView,
        cb: QueueCb,
        now: datetime,
        edit: bool,
    ) -> None:
        page = await attempt(
            message,
            review.queue(
                session,
                person,
                cb.round,
                review.QueueFilter(cb.village or None, cb.status or None, cb.activity or None),
                cb.page,
                now,
            ),
        )
        if page is None:
            return
        if cb.pick != QueuePick.LIST:
            text = queue_text(page) + "\n\n" + _("Choose a filter:")
            markup = filter_keyboard(page, cb.pick)
        else:
            text, markup = queue_text(page), queue_keyboard(page)
        if edit:
            await message.edit_text(text, reply_markup=markup)
        else:
            await message.answer(text, reply_markup=markup)

    @r.message(Command(*commands.REVIEW.names))
    async def cmd_review(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        rounds = await attempt(message, review.review_rounds(session, person, now))
        if rounds is None:
            return
        if not rounds:
            await message.answer(_("No round has been opened yet. /round opens one."))
            return
        if len(rounds) == 1:
            await show_queue(message, session, person, QueueCb(round=rounds[0].id), now, False)
            return
        b = InlineKeyboardBuilder()
        for round_ in rounds[:10]:
            b.button(text=round_.name, callback_data=QueueCb(round=round_.id))
        b.adjust(1)
        await message.answer(_("Which round?"), reply_markup=b.as_markup())

    @r.callback_query(QueueCb.filter())
    async def on_queue(
        callback: CallbackQuery,
        callback_data: QueueCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is not None:
            await show_queue(message, session, person, callback_data, now, True)

    async def open_dossier(
        message: Message,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        pid: int,
        now: datetime,
        files: bool = True,
    ) -> None:
        dossier = await attempt(message, review.dossier(session, person, pid, now))
        if dossier is None:
            return
        events = None
        if files:  # a first opening shows the history too; a refresh after an action does not
            _view, events = await review.timeline(session, person, pid, now)
        await send_dossier(message, bot, dossier, now, files=files, events=events)

    @r.callback_query(RevCb.filter(F.action == RevAction.OPEN))
    async def on_open(
        callback: CallbackQuery,
        callback_data: RevCb,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is not None:
            await open_dossier(
                message, bot, session, person, callback_data.id, now, callback_data.arg != "n"
            )

    # -- checklist ------------------------------------------------------------------------------

    @r.callback_query(RevCb.filter(F.action == RevAction.CHECKLIST))
    async def on_checklist(
        callback: CallbackQuery,
        callback_data: RevCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        dossier = await attempt(message, review.dossier(session, person, callback_data.id, now))
        if dossier is None:
            return
        await message.answer(
            "\n".join(
                [
                    _("☑️ <b>Checklist of {number}</b>").format(number=q(dossier.proposal.number)),
                    *checklist_lines(dossier.checklist),
                    _("Choose an item to mark it."),
                ]
            ),
            reply_markup=checklist_keyboard(dossier),
        )

    @r.callback_query(RevCb.filter(F.action == RevAction.PICK_ITEM))
    async def on_item(
        callback: CallbackQuery,
        callback_data: RevCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        dossier = await attempt(message, review.dossier(session, person, callback_data.id, now))
        if dossier is None:
            return
        index = int(callback_data.arg) if callback_data.arg.isdigit() else -1
        if not 0 <= index < len(dossier.checklist):
            await message.answer(_("Please choose one of the buttons."))
            return
        item = dossier.checklist[index]
        b = InlineKeyboardBuilder()
        for value, label in (("yes", _("✅ Yes")), ("no", _("❌ No")), ("na", _("➖ N/A"))):
            b.button(
                text=label,
                callback_data=RevCb(
                    action=RevAction.MARK, id=dossier.proposal.id, arg=f"{index}-{value}"
                ),
            )
        await message.answer(
            _("{item}: yes, no or not applicable?").format(item=q(item_label(item.code))),
            reply_markup=b.as_markup(),
        )

    @r.callback_query(RevCb.filter(F.action == RevAction.MARK))
    async def on_mark(
        callback: CallbackQuery,
        callback_data: RevCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        dossier = await attempt(message, review.dossier(session, person, callback_data.id, now))
        if dossier is None:
            return
        index, _sep, value = callback_data.arg.partition("-")
        if not index.isdigit() or int(index) >= len(dossier.checklist) or value not in review.MARKS:
            await message.answer(_("Please choose one of the buttons."))
            return
        await state.set_state(Desk.note)
        await state.set_data(
            {"pid": dossier.proposal.id, "item": dossier.checklist[int(index)].code, "value": value}
        )
        await message.answer(_("Add a note for this item, or /skip."))

    @r.message(Desk.note, Command(*commands.SKIP.names))
    @r.message(Desk.note, F.text & ~F.text.startswith("/"))
    async def on_note(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        data = await state.get_data()
        note = None if (message.text or "").startswith("/") else message.text
        dossier = await attempt(
            message,
            review.mark(
                session, person, int(data["pid"]), str(data["item"]), str(data["value"]), note, now
            ),
        )
        if dossier is None:
            return
        await state.clear()
        await message.answer(
            "\n".join([_("Saved."), *checklist_lines(dossier.checklist)]),
            reply_markup=checklist_keyboard(dossier),
        )

    # -- field verification ---------------------------------------------------------------------

    @r.callback_query(RevCb.filter(F.action == RevAction.VERIFY))
    async def on_verify(
        callback: CallbackQuery,
        callback_data: RevCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        row = await attempt(
            message, review.start_verification(session, person, callback_data.id, now)
        )
        if row is None:
            return
        await state.set_state(Desk.verifying)
        await state.set_data({"vid": row.id, "pid": row.proposal_id})
        await message.answer(
            _(
                "📍 <b>Field visit</b>. From the site, send your notes as text, photos of the "
                "site, and your location (📎 → Location). A date like 20-11-2026 sets the day of "
                "the visit (today otherwise). Press Save when done; /cancel keeps it for later."
            ),
            reply_markup=verification_keyboard(row.id or 0, row.proposal_id),
        )

    async def visit(message: Message, state: FSMContext) -> tuple[int, int] | None:
        data = await state.get_data()
        if "vid" not in data:
            await state.clear()
            await message.answer(
                _("That verification record is closed. Open the proposal to start another.")
            )
            return None
        return int(data["vid"]), int(data["pid"])

    @r.message(Desk.verifying, F.text & ~F.text.startswith("/"))
    async def on_visit_text(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        ids = await visit(message, state)
        if ids is None:
            return
        text = message.text or ""
        zone = "Asia/Jakarta"
        dossier_round = await attempt(message, review.dossier(session, person, ids[1], now))
        if dossier_round is None:
            return
        zone = dossier_round.proposal.round.timezone
        try:
            day = parse_date(text, zone, end_of_day=False)
        except DomainError:
            day = None
        if day is not None:
            done = await attempt(
                message, review.verification_date(session, person, ids[0], day, now)
            )
            if done is not None:
                await message.answer(_("Visit date set. Go on, or press Save."))
            return
        done = await attempt(message, review.verification_note(session, person, ids[0], text, now))
        if done is not None:
            await message.answer(
                _("Note added. Go on, or press Save."), reply_markup=verification_keyboard(*ids)
            )

    @r.message(Desk.verifying, F.photo | F.document)
    async def on_visit_file(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        ids = await visit(message, state)
        if ids is None:
            return
        if message.photo:
            kind, file_id, unique, name = (
                "photo",
                message.photo[-1].file_id,
                message.photo[-1].file_unique_id,
                None,
            )
        else:
            assert message.document is not None
            doc = message.document
            kind, file_id, unique, name = "document", doc.file_id, doc.file_unique_id, doc.file_name
        count = await attempt(
            message,
            review.verification_file(session, person, ids[0], kind, file_id, unique, now, name),
        )
        if count is not None:
            await message.answer(
                _("Received ({n} so far). Go on, or press Save.").format(n=count),
                reply_markup=verification_keyboard(*ids),
            )

    @r.message(Desk.verifying, F.location)
    async def on_visit_location(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        ids = await visit(message, state)
        if ids is None or message.location is None:
            return
        done = await attempt(
            message,
            review.verification_location(
                session, person, ids[0], message.location.latitude, message.location.longitude, now
            ),
        )
        if done is not None:
            await message.answer(
                _("Location noted. Go on, or press Save."), reply_markup=verification_keyboard(*ids)
            )

    @r.message(Desk.verifying, ~F.text.startswith("/"))
    async def on_visit_other(message: Message) -> None:
        await message.answer(_("Send text, a photo, a document or a location, or press Save."))

    @r.callback_query(RevCb.filter(F.action.in_({RevAction.SAVE_VISIT, RevAction.DISCARD_VISIT})))
    async def on_visit_end(
        callback: CallbackQuery,
        callback_data: RevCb,
        state: FSMContext,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        if callback_data.action == RevAction.DISCARD_VISIT:
            if (
                await attempt(
                    message, review.discard_verification(session, person, callback_data.v, now)
                )
                is None
            ):
                pass
            await state.clear()
            await message.answer(_("The visit record is discarded."))
            return
        saved = await attempt(
            message, review.save_verification(session, person, callback_data.v, now)
        )
        if saved is None:
            return
        await state.clear()
        await message.answer(_("✅ Field visit saved."))
        await open_dossier(message, bot, session, person, saved.proposal_id, now, files=False)

    # -- decisions ------------------------------------------------------------------------------

    @r.callback_query(RevCb.filter(F.action == RevAction.DECIDE))
    async def on_decide(
        callback: CallbackQuery,
        callback_data: RevCb,
        state: FSMContext,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        pid, kind = callback_data.id, callback_data.arg
        try:  # refused now, not after the reason has been typed
            loaded = await review.decidable(session, person, pid, kind, callback_data.v, now)
        except Stale as exc:
            await state.clear()
            await message.answer(error_text(exc))
            await open_dossier(message, bot, session, person, pid, now, files=False)
            return
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        await state.set_state(Desk.reason)
        await state.set_data(
            {"pid": callback_data.id, "kind": callback_data.arg, "v": callback_data.v}
        )
        prompt = {
            "revision": _(
                "Write exactly what the PAKEM must change in {number}. They will read it word "
                "for word. /cancel leaves without deciding."
            ),
            "rejected": _(
                "Why is {number} rejected? The PAKEM will read your reason. /cancel leaves "
                "without deciding."
            ),
            "candidate": _(
                "Why is {number} shortlisted? The reason is kept in the timeline and told to "
                "the PAKEM. /cancel leaves without deciding."
            ),
        }[kind]
        await message.answer(prompt.format(number=q(loaded.view.number)))

    async def decided(
        message: Message,
        state: FSMContext,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
        days: int | None,
    ) -> None:
        data = await state.get_data()
        pid, kind, version = int(data["pid"]), str(data["kind"]), int(data["v"])
        try:
            result = await review.decide(
                session,
                person,
                pid,
                kind,
                str(data.get("reason", "")),
                version,
                now,
                revision_days=days,
            )
        except Stale as exc:
            await state.clear()
            await message.answer(error_text(exc))
            await open_dossier(message, bot, session, person, pid, now, files=False)
            return
        except DomainError as exc:
            await message.answer(error_text(exc))
            if exc.code not in RETYPE:
                await state.clear()
            return
        await state.clear()
        await message.answer(
            _("✅ {number}: {decision}. The PAKEM ({n} people) is told.").format(
                number=q(result.proposal.number),
                decision=proposal_status(result.decision),
                n=result.notified,
            )
        )
        await open_dossier(message, bot, session, person, pid, now, files=False)

    @r.message(Desk.reason, F.text & ~F.text.startswith("/"))
    async def on_reason(
        message: Message,
        state: FSMContext,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        data = await state.get_data()
        try:
            reason = review.check_reason(message.text or "")
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        await state.update_data(reason=reason)
        if data.get("kind") == "revision":
            b = InlineKeyboardBuilder()
            for days in review.REVISION_DAYS:
                b.button(
                    text=_("{n} days").format(n=days),
                    callback_data=RevCb(
                        action="n", id=int(data["pid"]), v=int(data["v"]), arg=str(days)
                    ),
                )
            await message.answer(
                _("How long does the PAKEM have for the revision?"), reply_markup=b.as_markup()
            )
            return
        await decided(message, state, bot, session, person, now, None)

    @r.callback_query(Desk.reason, RevCb.filter(F.action == RevAction.REVISION_DAYS))
    async def on_days(
        callback: CallbackQuery,
        callback_data: RevCb,
        state: FSMContext,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        data = await state.get_data()
        if message is None or "reason" not in data or int(data["pid"]) != callback_data.id:
            if message is not None:
                await message.answer(
                    _(
                        "That button belongs to an earlier step. "
                        "Open the proposal again with /review."
                    )
                )
            return
        days = int(callback_data.arg) if callback_data.arg.isdigit() else 0
        await decided(message, state, bot, session, person, now, days)

    @r.message(StateFilter(Desk.reason, Desk.note), ~F.text)
    async def not_text(message: Message) -> None:
        await message.answer(_("Please answer with text, or /cancel."))

    @r.message(StateFilter(Desk.reason, Desk.note), Command(*commands.CANCEL.names))
    async def cancel_reason(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(_("Nothing was decided. /review opens the review queue."))

    @r.message(Desk.verifying, Command(*commands.CANCEL.names))
    async def cancel_visit(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(
            _("The visit record is kept. Press 📍 Field visit on the proposal to continue it.")
        )

    @r.message(StateFilter(*Desk.__all_states__), Command(*commands.BACK.names))
    async def back_to_dossier(
        message: Message,
        state: FSMContext,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        data = await state.get_data()
        await state.clear()
        if "pid" in data:
            await open_dossier(message, bot, session, person, int(data["pid"]), now, files=False)

    @r.callback_query(RevCb.filter(F.action == RevAction.NAME_WINNER))
    async def on_final(
        callback: CallbackQuery,
        callback_data: RevCb,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        try:
            view = await review.make_final(session, person, callback_data.id, callback_data.v, now)
        except Stale as exc:
            await message.answer(error_text(exc))
            await open_dossier(message, bot, session, person, callback_data.id, now, files=False)
            return
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        await message.answer(
            _(
                "🏆 {number} is named winner. When all are decided, /round → Announce winners."
            ).format(number=q(view.number))
        )

    # -- timeline and objections ------------------------------------------------------------------

    @r.callback_query(RevCb.filter(F.action == RevAction.TIMELINE))
    async def on_timeline(
        callback: CallbackQuery,
        callback_data: RevCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        result = await attempt(message, review.timeline(session, person, callback_data.id, now))
        if result is None:
            return
        view, events = result
        for chunk in join_blocks(
            timeline_blocks(view.number, view.title, events, view.round.timezone), sep="\n"
        ):
            await message.answer(chunk)

    @r.callback_query(RevCb.filter(F.action == RevAction.OBJECTIONS))
    async def on_objections(
        callback: CallbackQuery,
        callback_data: RevCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        dossier = await attempt(message, review.dossier(session, person, callback_data.id, now))
        if dossier is None:
            return
        b = InlineKeyboardBuilder()
        lines = [
            _("⚖️ <b>Objections against {number}</b>").format(number=q(dossier.proposal.number))
        ]
        for o in dossier.objections:
            lines.append(f"• {o.number}: {category_label(o.category)}, {outcome_label(o.outcome)}")
            b.button(
                text=_("Open {number}").format(number=o.number),
                callback_data=ObjCb(action=ObjAction.OPEN, id=o.id),
            )
        b.adjust(1)
        await message.answer("\n".join(lines), reply_markup=b.as_markup())

    return r
