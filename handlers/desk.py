"""The POKJA desk: /round (calendar, checklist, villages, candidates, winners, exports) and
/undang (invite links). Thin: rules live in `bot.rounds`, `bot.winners`, `bot.exports`."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands, exports, follows, people, places, review, rounds, winners
from bot.config import Settings
from bot.deeplink import start_link
from bot.errors import DomainError, Stale
from bot.i18n import translations
from bot.text import join_blocks, q
from handlers.callbacks import DeskAction, DeskCb, InviteAction, InviteCb, QueueCb
from handlers.formats import proposal_status, when, zone_label
from handlers.members import members_button
from handlers.render import error_text
from handlers.replies import attempt, opened
from handlers.review_text import (
    calendar_text,
    candidates_blocks,
    field_label,
    item_label,
    villages_text,
    winners_blocks,
)
from storage.views import PersonView, Role, RoundView


class Calendar(StatesGroup):
    date = State()
    item = State()
    percent = State()
    name = State()
    deadline = State()


class Inviting(StatesGroup):
    village = State()


# Steps where /back has nowhere to go but out; the deadline step goes back to the name.
BACK_LEAVES = (Calendar.date, Calendar.item, Calendar.percent, Calendar.name, Inviting.village)


def calendar_keyboard(round_: RoundView) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    for name in rounds.CALENDAR:
        b.button(
            text=f"✏️ {field_label(name)}",
            callback_data=DeskCb(action=DeskAction.EDIT_DATE, id=round_.id, arg=name),
        )
    b.button(text=_("🏡 Villages"), callback_data=DeskCb(action=DeskAction.VILLAGES, id=round_.id))
    b.button(text=_("☑️ Checklist"), callback_data=DeskCb(action=DeskAction.CHECKLIST, id=round_.id))
    b.button(text=_("📋 Review queue"), callback_data=QueueCb(round=round_.id))
    b.button(
        text=_("⭐ Announce candidates"),
        callback_data=DeskCb(action=DeskAction.CANDIDATES, id=round_.id),
    )
    b.button(
        text=_("🏆 Announce winners"), callback_data=DeskCb(action=DeskAction.WINNERS, id=round_.id)
    )
    b.button(text=_("📤 Exports"), callback_data=DeskCb(action=DeskAction.EXPORTS, id=round_.id))
    b.adjust(2, 2, 2, 2, 1, 2, 1)
    return b.as_markup()


def checklist_keyboard(round_: RoundView) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    current = list(review.checklist_items(round_))
    for code in review.DEFAULT_CHECKLIST:
        mark = "✅" if code in current else "⬜"
        b.button(
            text=f"{mark} {item_label(code)}"[:60],
            callback_data=DeskCb(action=DeskAction.TOGGLE_ITEM, id=round_.id, arg=f"d{code}"),
        )
    for index, item in enumerate(current):
        if item not in review.DEFAULT_CHECKLIST:
            b.button(
                text=f"✅ {item}"[:60],
                callback_data=DeskCb(action=DeskAction.TOGGLE_ITEM, id=round_.id, arg=f"c{index}"),
            )
    b.button(
        text=_("➕ Add an item"), callback_data=DeskCb(action=DeskAction.ADD_ITEM, id=round_.id)
    )
    b.button(
        text=_("% Self-help minimum: {pct}%").format(pct=round_.swadaya_min_pct),
        callback_data=DeskCb(action=DeskAction.SWADAYA_MIN, id=round_.id),
    )
    b.button(
        text=_("⬅ Back to the round"), callback_data=DeskCb(action=DeskAction.SHOW, id=round_.id)
    )
    b.adjust(1)
    return b.as_markup()


def checklist_text(round_: RoundView) -> str:
    lines = [_("☑️ <b>Feasibility checklist of {round}</b>").format(round=q(round_.name))]
    lines += [f"{i}. {q(item_label(c))}" for i, c in enumerate(review.checklist_items(round_), 1)]
    lines.append(_("Tap an item to switch it on or off."))
    return "\n".join(lines)


def router() -> Router:
    r = Router(name="desk")
    r.message.filter(F.chat.type == "private")
    r.callback_query.filter(F.message.chat.type == "private")

    async def load_round(
        message: Message, session: AsyncSession, person: PersonView, rid: int, now: datetime
    ) -> RoundView | None:
        round_ = await rounds.round_by_id(session, rid)
        if round_ is None:
            await message.answer(_("That round does not exist. /round lists them."))
            return None
        if not await attempt(
            message,
            review.guard_pokja(
                session, person, round_.district_id, "round.show", f"round:{rid}", now
            ),
        ):
            return None
        return round_

    async def show_round(message: Message, round_: RoundView, edit: bool = False) -> None:
        if edit:
            await message.edit_text(calendar_text(round_), reply_markup=calendar_keyboard(round_))
        else:
            await message.answer(calendar_text(round_), reply_markup=calendar_keyboard(round_))

    @r.message(Command(*commands.ROUND.names))
    async def cmd_round(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        await state.clear()
        found = await attempt(message, review.review_rounds(session, person, now, "round.show"))
        if found is None:
            return
        b = InlineKeyboardBuilder()
        for round_ in found[:10]:
            b.button(text=round_.name, callback_data=DeskCb(action=DeskAction.SHOW, id=round_.id))
        for district_id in review.staff_districts(person):
            district = await places.district(session, district_id)
            label = _("➕ Open a new round")
            if len(review.staff_districts(person)) > 1 and district:
                label += f" ({district.name})"
            b.button(text=label, callback_data=DeskCb(action=DeskAction.NEW_ROUND, id=district_id))
        b.adjust(1)
        if len(found) == 1:
            await show_round(message, found[0])
            await message.answer(_("Or open a new round:"), reply_markup=b.as_markup())
            return
        await message.answer(
            _("Rounds of your district:") if found else _("No round yet."),
            reply_markup=b.as_markup(),
        )

    @r.callback_query(DeskCb.filter(F.action == DeskAction.SHOW))
    async def on_show(
        callback: CallbackQuery,
        callback_data: DeskCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        round_ = await load_round(message, session, person, callback_data.id, now)
        if round_ is not None:
            await show_round(message, round_)

    # -- dates ----------------------------------------------------------------------------------

    @r.callback_query(DeskCb.filter(F.action == DeskAction.EDIT_DATE))
    async def on_edit_date(
        callback: CallbackQuery,
        callback_data: DeskCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None or callback_data.arg not in rounds.CALENDAR:
            return
        round_ = await load_round(message, session, person, callback_data.id, now)
        if round_ is None:
            return
        await state.set_state(Calendar.date)
        await state.set_data({"rid": round_.id, "field": callback_data.arg})
        current = getattr(round_, callback_data.arg)
        await message.answer(
            _(
                "{field}: now {current}. Type the new date, like 31-12-2026 or 31-12-2026 17:00 "
                "({zone}). /cancel keeps it."
            ).format(
                field=field_label(callback_data.arg),
                current=when(current, round_.timezone) if current else _("not set"),
                zone=zone_label(round_.timezone),
            )
        )

    @r.message(Calendar.date, F.text & ~F.text.startswith("/"))
    async def on_date(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        data = await state.get_data()
        round_ = await load_round(message, session, person, int(data["rid"]), now)
        if round_ is None:
            await state.clear()
            return
        field = str(data["field"])
        try:
            moment = rounds.parse_date(
                message.text or "", round_.timezone, end_of_day=field in rounds.ENDS
            )
            updated = await rounds.set_date(session, person, round_.id, field, moment, now)
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        await state.clear()
        await message.answer(
            _("✅ {field} moved to {when}. The people it affects are told.").format(
                field=field_label(field), when=when(moment, round_.timezone)
            )
        )
        await show_round(message, updated)

    # -- villages and checklist -----------------------------------------------------------------

    @r.callback_query(DeskCb.filter(F.action == DeskAction.VILLAGES))
    async def on_villages(
        callback: CallbackQuery,
        callback_data: DeskCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        round_ = await load_round(message, session, person, callback_data.id, now)
        if round_ is None:
            return
        rows = await attempt(message, rounds.village_status(session, person, round_.id, now))
        if rows is not None:
            chunks = join_blocks(villages_text(round_, rows), sep="\n")
            for i, chunk in enumerate(chunks):  # the last one offers the committees' members
                last = i == len(chunks) - 1
                await message.answer(
                    chunk, reply_markup=members_button(round_.district_id) if last else None
                )

    @r.callback_query(DeskCb.filter(F.action == DeskAction.CHECKLIST))
    async def on_checklist(
        callback: CallbackQuery,
        callback_data: DeskCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        round_ = await load_round(message, session, person, callback_data.id, now)
        if round_ is not None:
            await message.answer(checklist_text(round_), reply_markup=checklist_keyboard(round_))

    @r.callback_query(DeskCb.filter(F.action == DeskAction.TOGGLE_ITEM))
    async def on_toggle(
        callback: CallbackQuery,
        callback_data: DeskCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        round_ = await load_round(message, session, person, callback_data.id, now)
        if round_ is None:
            return
        items = list(review.checklist_items(round_))
        arg = callback_data.arg
        if arg.startswith("d") and arg[1:] in review.DEFAULT_CHECKLIST:
            code = arg[1:]
            if code in items:
                items.remove(code)
            else:
                items.insert(min(review.DEFAULT_CHECKLIST.index(code), len(items)), code)
        elif arg.startswith("c") and arg[1:].isdigit() and int(arg[1:]) < len(items):
            items.pop(int(arg[1:]))
        updated = await attempt(
            message, rounds.set_checklist(session, person, round_.id, items, now)
        )
        if updated is not None:
            await message.edit_text(
                checklist_text(updated), reply_markup=checklist_keyboard(updated)
            )

    @r.callback_query(DeskCb.filter(F.action.in_({DeskAction.ADD_ITEM, DeskAction.SWADAYA_MIN})))
    async def on_ask(
        callback: CallbackQuery,
        callback_data: DeskCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        round_ = await load_round(message, session, person, callback_data.id, now)
        if round_ is None:
            return
        if callback_data.action == DeskAction.ADD_ITEM:
            await state.set_state(Calendar.item)
            await message.answer(_("Type the new checklist item. /cancel leaves."))
        else:
            await state.set_state(Calendar.percent)
            await message.answer(_("Type the minimum self-help share in percent, e.g. 10."))
        await state.set_data({"rid": round_.id})

    @r.message(Calendar.item, F.text & ~F.text.startswith("/"))
    async def on_item(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        rid = int((await state.get_data())["rid"])
        round_ = await load_round(message, session, person, rid, now)
        if round_ is None:
            await state.clear()
            return
        items = [*review.checklist_items(round_), (message.text or "").strip()]
        updated = await attempt(message, rounds.set_checklist(session, person, rid, items, now))
        if updated is not None:
            await state.clear()
            await message.answer(checklist_text(updated), reply_markup=checklist_keyboard(updated))

    @r.message(Calendar.percent, F.text & ~F.text.startswith("/"))
    async def on_percent(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        rid = int((await state.get_data())["rid"])
        text = (message.text or "").strip().rstrip("%").strip()
        if not text.isdigit():
            await message.answer(_("Type a percentage from 0 to 100."))
            return
        updated = await attempt(
            message, rounds.set_swadaya_min(session, person, rid, int(text), now)
        )
        if updated is not None:
            await state.clear()
            await message.answer(checklist_text(updated), reply_markup=checklist_keyboard(updated))

    # -- a new round ----------------------------------------------------------------------------

    @r.callback_query(DeskCb.filter(F.action == DeskAction.NEW_ROUND))
    async def on_new_round(
        callback: CallbackQuery,
        callback_data: DeskCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        if not await attempt(
            message,
            review.guard_pokja(
                session, person, callback_data.id, "round.open", f"district:{callback_data.id}", now
            ),
        ):
            return
        await state.set_state(Calendar.name)
        await state.set_data({"district": callback_data.id})
        await message.answer(
            _("What is the round called? For example <i>Tahap 2 2027</i>. /cancel leaves.")
        )

    @r.message(Calendar.name, F.text & ~F.text.startswith("/"))
    async def on_round_name(message: Message, state: FSMContext) -> None:
        name = (message.text or "").strip()
        if not 1 <= len(name) <= 120:
            await message.answer(_("The name must be 1 to 120 characters."))
            return
        await state.update_data(name=name)
        await state.set_state(Calendar.deadline)
        await message.answer(
            _("Until when can villages submit? Type a date like 31-12-2026 or 31-12-2026 17:00.")
        )

    @r.message(Calendar.deadline, F.text & ~F.text.startswith("/"))
    async def on_round_deadline(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        data = await state.get_data()
        district = await places.district(session, int(data["district"]))
        if district is None:
            await state.clear()
            return
        try:
            deadline = rounds.parse_date(message.text or "", district.timezone, end_of_day=True)
            round_ = await rounds.open_round_by(
                session, person, district.id, str(data["name"]), deadline, now
            )
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        await state.clear()
        await message.answer(
            _("✅ {round} is open. Residents following the district are told.").format(
                round=q(round_.name)
            )
        )
        await show_round(message, round_)

    @r.message(
        StateFilter(*Calendar.__all_states__, Inviting.village), Command(*commands.CANCEL.names)
    )
    @r.message(StateFilter(*BACK_LEAVES), Command(*commands.BACK.names))
    async def cancel(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(_("Nothing was changed. /round shows the rounds."))

    @r.message(StateFilter(*Calendar.__all_states__, Inviting.village), ~F.text)
    async def not_text(message: Message) -> None:
        await message.answer(_("Please answer with text, or /cancel."))

    @r.message(Calendar.deadline, Command(*commands.BACK.names))
    async def back_to_name(message: Message, state: FSMContext) -> None:
        await state.set_state(Calendar.name)
        await message.answer(
            _("What is the round called? For example <i>Tahap 2 2027</i>. /cancel leaves.")
        )

    # -- candidates and winners -----------------------------------------------------------------

    async def preview(
        message: Message,
        session: AsyncSession,
        person: PersonView,
        rid: int,
        now: datetime,
        kind: DeskAction,
    ) -> None:
        """The list as recipients will read it; kind is CANDIDATES or WINNERS."""
        maker = winners.candidates_draft if kind == DeskAction.CANDIDATES else winners.winners_draft
        draft = await attempt(message, maker(session, person, rid, now))
        if draft is None:
            return
        district = await places.district(session, draft.round.district_id)
        name = district.name if district else ""
        blocks = (
            candidates_blocks(draft.params, name, draft.round.timezone)
            if kind == DeskAction.CANDIDATES
            else winners_blocks(draft.params, name)
        )
        await message.answer(
            _("<b>Preview</b>: this is what every recipient reads, in their own language.")
        )
        for chunk in join_blocks(blocks):
            await message.answer(chunk)
        count = await winners.audience_size(session, draft)
        b = InlineKeyboardBuilder()
        b.button(
            text=_("📤 Publish to {n} people").format(n=count),
            callback_data=DeskCb(
                action=DeskAction.PUBLISH_CANDIDATES
                if kind == DeskAction.CANDIDATES
                else DeskAction.PUBLISH_WINNERS,
                id=rid,
                arg=str(draft.stamp),
            ),
        )
        b.button(
            text=_("⬅ Back to the round"), callback_data=DeskCb(action=DeskAction.SHOW, id=rid)
        )
        b.adjust(1)
        await message.answer(
            _("It goes to the followers of these villages, every PAKEM and the POKJA."),
            reply_markup=b.as_markup(),
        )

    @r.callback_query(DeskCb.filter(F.action.in_({DeskAction.CANDIDATES, DeskAction.WINNERS})))
    async def on_preview(
        callback: CallbackQuery,
        callback_data: DeskCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is not None:
            await preview(message, session, person, callback_data.id, now, callback_data.action)

    @r.callback_query(
        DeskCb.filter(F.action.in_({DeskAction.PUBLISH_CANDIDATES, DeskAction.PUBLISH_WINNERS}))
    )
    async def on_publish(
        callback: CallbackQuery,
        callback_data: DeskCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        publish = (
            winners.publish_candidates
            if callback_data.action == DeskAction.PUBLISH_CANDIDATES
            else winners.publish_winners
        )
        stamp = int(callback_data.arg) if callback_data.arg.isdigit() else -1
        try:
            await publish(session, person, callback_data.id, stamp, now)
        except Stale as exc:
            await message.answer(error_text(exc))
            await preview(
                message,
                session,
                person,
                callback_data.id,
                now,
                DeskAction.CANDIDATES
                if callback_data.action == DeskAction.PUBLISH_CANDIDATES
                else DeskAction.WINNERS,
            )
            return
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        await message.edit_reply_markup(reply_markup=None)
        if callback_data.action == DeskAction.PUBLISH_CANDIDATES:
            round_ = await rounds.round_by_id(session, callback_data.id)
            assert round_ is not None and round_.clarify_end is not None
            await message.answer(
                _(
                    "📤 The candidates are announced. The clarification window is open until "
                    "{when}."
                ).format(when=when(round_.clarify_end, round_.timezone))
            )
        else:
            await message.answer(
                _(
                    "📤 The winners are announced. 📤 Exports gives the files for radio and "
                    "the website."
                )
            )

    # -- exports --------------------------------------------------------------------------------

    async def send_exports(
        message: Message,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        rid: int,
        now: datetime,
        i18n: I18n,
        settings: Settings,
    ) -> None:
        bundle = await attempt(message, exports.collect(session, person, rid, now))
        if bundle is None:
            return
        # The files go to the radio, the website and notice boards: the district's language,
        # whoever asks; the captions are for the requester.
        lang = settings.default_locale
        gettext = translations(lang).gettext
        with i18n.use_locale(lang):
            files = [
                (exports.to_csv(bundle, gettext, proposal_status), "proposals.csv"),
                (exports.to_xlsx(bundle, gettext, proposal_status), "proposals.xlsx"),
            ]
            if exports.winners(bundle):
                files += [
                    (exports.radio_script(bundle, gettext, lang).encode("utf-8"), "radio.txt"),
                    (exports.winners_pdf(bundle, gettext, lang, now), "winners.pdf"),
                ]
        captions = {
            "proposals.csv": _("All proposals with status, checklist score and amounts (CSV)."),
            "proposals.xlsx": _("The same as a spreadsheet (XLSX)."),
            "radio.txt": _("A script to read on the radio."),
            "winners.pdf": _("One page for notice boards (PDF)."),
        }
        slug = f"paket-{bundle.round.year}-{bundle.round.id}"
        for data, name in files:
            await bot.send_document(
                message.chat.id,
                BufferedInputFile(data, f"{slug}-{name}"),
                caption=captions[name],
            )
        if not exports.winners(bundle):
            await message.answer(
                _("No winner is named yet, so there is no radio script or notice yet.")
            )

    @r.callback_query(DeskCb.filter(F.action == DeskAction.EXPORTS))
    async def on_exports(
        callback: CallbackQuery,
        callback_data: DeskCb,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
        i18n: I18n,
        settings: Settings,
    ) -> None:
        message = await opened(callback)
        if message is not None:
            await send_exports(message, bot, session, person, callback_data.id, now, i18n, settings)

    @r.message(Command(*commands.EXPORT.names))
    async def cmd_export(
        message: Message,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
        i18n: I18n,
        settings: Settings,
    ) -> None:
        found = await attempt(message, review.review_rounds(session, person, now, "export"))
        if not found:
            if found is not None:
                await message.answer(_("No round yet."))
            return
        await send_exports(message, bot, session, person, found[0].id, now, i18n, settings)

    # -- invitations ----------------------------------------------------------------------------

    @r.message(Command(*commands.INVITE.names))
    async def cmd_invite(
        message: Message, session: AsyncSession, person: PersonView, now: datetime
    ) -> None:
        if not await attempt(message, review.guard_desk(session, person, "invite", now)):
            return
        b = InlineKeyboardBuilder()
        for district_id in review.staff_districts(person):
            b.button(
                text=_("🏛 A POKJA member"),
                callback_data=InviteCb(action=InviteAction.POKJA, id=district_id),
            )
            b.button(
                text=_("👥 A village's PAKEM member"),
                callback_data=InviteCb(action=InviteAction.PAKEM, id=district_id),
            )
        b.adjust(1)
        await message.answer(
            _("Whom do you invite? Each link works once and expires after 7 days."),
            reply_markup=b.as_markup(),
        )

    async def send_invite(
        message: Message,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        district_id: int,
        role: Role,
        village: str | None,
        now: datetime,
    ) -> None:
        created = await attempt(
            message, people.invite_by(session, person, district_id, role, now, village_kode=village)
        )
        if created is None:
            return
        me = await bot.me()
        district = await places.district(session, district_id)
        zone = district.timezone if district else "Asia/Jakarta"
        link = start_link(me.username or "", created.code)
        if role == Role.POKJA:
            who = _("a POKJA member")
        else:
            village_name = await places.village_name(session, village or "")
            who = _("a PAKEM member of {village}").format(village=q(village_name or village))
        await message.answer(
            _(
                "🔗 Invitation for {who}, valid once until {when}:\n{link}\n\n"
                "Forward this message to the person; opening the link makes them {who}."
            ).format(who=who, when=when(created.expires_at, zone), link=link)
        )

    @r.callback_query(InviteCb.filter())
    async def on_invite(
        callback: CallbackQuery,
        callback_data: InviteCb,
        state: FSMContext,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        if callback_data.action == InviteAction.POKJA:
            await send_invite(
                message, bot, session, person, callback_data.id, Role.POKJA, None, now
            )
        elif callback_data.action == InviteAction.VILLAGE:
            await state.clear()
            await send_invite(
                message, bot, session, person, callback_data.id, Role.PAKEM, callback_data.arg, now
            )
        else:
            if not await attempt(
                message,
                review.guard_pokja(
                    session,
                    person,
                    callback_data.id,
                    "invite.pakem",
                    f"district:{callback_data.id}",
                    now,
                ),
            ):
                return
            await state.set_state(Inviting.village)
            await state.set_data({"district": callback_data.id})
            await message.answer(_("Type the village's name."))

    @r.message(Inviting.village, F.text & ~F.text.startswith("/"))
    async def on_invite_village(
        message: Message,
        state: FSMContext,
        bot: Bot,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        district_id = int((await state.get_data())["district"])
        found = await follows.search(session, message.text or "", district_id=district_id)
        if not found:
            await message.answer(
                _("No village of that name in your district. Try again, or /cancel.")
            )
            return
        if len(found) == 1:
            await state.clear()
            await send_invite(
                message, bot, session, person, district_id, Role.PAKEM, found[0].kode, now
            )
            return
        b = InlineKeyboardBuilder()
        for v in found[:8]:
            b.button(
                text=f"{v.name} (Kec. {v.kecamatan_name})",
                callback_data=InviteCb(action=InviteAction.VILLAGE, id=district_id, arg=v.kode),
            )
        b.adjust(1)
        await message.answer(_("Which one?"), reply_markup=b.as_markup())

    return r
