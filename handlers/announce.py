"""POKJA announcements (/umumkan), their history (/pengumuman), and reminder receipts."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot import announcements, commands, follows, places, policy
from bot import reminders as reminder_rules
from bot.errors import Code, DomainError, Invalid, Stale
from bot.text import join_blocks, q
from handlers import outbound
from handlers.callbacks import AckCb, AnnAction, AnnCb
from handlers.formats import when
from handlers.render import error_text
from storage.statuses import AnnouncementStep
from storage.views import BroadcastView, PersonView, Scope

PAGE = 8


class Announcing(StatesGroup):
    active = State()


def scope_label(scope: Scope) -> str:
    return {
        Scope.DISTRICT: _("🏙 The whole district"),
        Scope.KECAMATAN: _("🗺 Chosen kecamatan"),
        Scope.VILLAGES: _("🏡 Chosen villages"),
        Scope.PAKEM: _("👥 All PAKEM members"),
        Scope.POKJA: _("🏛 All POKJA members"),
    }[scope]


def nav_row(builder: InlineKeyboardBuilder, view: BroadcastView) -> None:
    builder.button(
        text=_("✏️ Change the text"), callback_data=AnnCb(action=AnnAction.EDIT_TEXT, id=view.id)
    )
    builder.button(text=_("✖ Discard"), callback_data=AnnCb(action=AnnAction.DISCARD, id=view.id))


async def audience_names(session: AsyncSession, view: BroadcastView) -> str:
    if view.scope in (Scope.KECAMATAN, Scope.VILLAGES):
        names = []
        for kode in view.codes:
            region = await places.region(session, kode)
            names.append(region.name if region else kode)
        prefix = _("Kecamatan") if view.scope == Scope.KECAMATAN else _("Villages")
        return f"{prefix}: {q(', '.join(names))}"
    return scope_label(view.scope) if view.scope else "—"


async def show(
    target: Message, session: AsyncSession, person: PersonView, view: BroadcastView
) -> None:
    """Ask for what the draft's step needs next."""
    if view.step == AnnouncementStep.BODY:
        text = _(
            "📢 <b>New announcement for {district}</b>\nWrite the announcement text. You may "
            "also send one photo or document with the text as its caption.\n/cancel leaves and "
            "keeps the draft."
        ).format(district=q(view.district_name))
        if view.body:
            text += "\n\n" + _("Current text:") + "\n" + q(view.body)
        await target.answer(text)
        return
    if view.step == AnnouncementStep.AUDIENCE:
        builder = InlineKeyboardBuilder()
        for scope in Scope:
            builder.button(
                text=scope_label(scope),
                callback_data=AnnCb(action=AnnAction.SCOPE, id=view.id, arg=scope.value),
            )
        nav_row(builder, view)
        await target.answer(_("Who should receive it?"), reply_markup=builder.adjust(1).as_markup())
        return
    if view.step == AnnouncementStep.PICK:
        await target.answer(**await picker(session, view, page=0, kecamatan=None))
        return
    preview = await announcements.preview(session, person, view.id)
    sample = outbound.announcement(view)
    if sample.media_kind == "photo":
        await target.answer_photo(sample.file_id or "", caption=sample.text)
    elif sample.media_kind == "document":
        await target.answer_document(sample.file_id or "", caption=sample.text)
    else:
        await target.answer(sample.text)
    builder = InlineKeyboardBuilder()
    if preview.recipients:
        builder.button(
            text=_("📤 Send to {n} people").format(n=preview.recipients),
            callback_data=AnnCb(action=AnnAction.SEND, id=view.id),
        )
    builder.button(
        text=_("👥 Change the recipients"),
        callback_data=AnnCb(action=AnnAction.EDIT_AUDIENCE, id=view.id),
    )
    nav_row(builder, view)
    lines = [
        _("👆 This is how it will look."),
        _("Recipients: {who}").format(who=await audience_names(session, view)),
        _(
            "It reaches <b>{n}</b> people (followers and committees; people who paused "
            "announcements are left out)."
        ).format(n=preview.recipients)
        if preview.recipients
        else _("Nobody would receive it: no one follows these places yet. Change the recipients."),
    ]
    await target.answer("\n".join(lines), reply_markup=builder.adjust(1).as_markup())


async def picker(
    session: AsyncSession, view: BroadcastView, page: int, kecamatan: str | None
) -> dict[str, object]:
    """Toggle buttons for kecamatan, or for the villages of one kecamatan."""
    chosen = set(view.codes)
    builder = InlineKeyboardBuilder()
    if view.scope == Scope.KECAMATAN or kecamatan is None:
        areas = await places.kecamatan_of(session, view.district_id)
        for area in areas[page * PAGE : (page + 1) * PAGE]:
            if view.scope == Scope.KECAMATAN:
                mark = "✅ " if area.kode in chosen else ""
                data = AnnCb(action=AnnAction.TOGGLE, id=view.id, arg=area.kode, page=page)
            else:
                mark, data = "📂 ", AnnCb(action=AnnAction.KECAMATAN, id=view.id, arg=area.kode)
            builder.button(text=(mark + area.name)[:64], callback_data=data)
        total, action, arg = len(areas), AnnAction.AREAS, ""
        if view.scope == Scope.KECAMATAN:
            text = _("Tap the kecamatan to include (tap again to remove), then Done.")
        else:
            text = _(
                "Type a village name, or open a kecamatan and tap its villages (tap again to "
                "remove), then Done."
            )
    else:
        villages = await places.villages_in(session, kecamatan)
        for village in villages[page * PAGE : (page + 1) * PAGE]:
            mark = "✅ " if village.kode in chosen else ""
            builder.button(
                text=(mark + village.name)[:64],
                callback_data=AnnCb(
                    action=AnnAction.TOGGLE, id=view.id, arg=village.kode, page=page
                ),
            )
        total, action, arg = len(villages), AnnAction.KECAMATAN, kecamatan
        area = await places.region(session, kecamatan)
        text = _("Villages in Kec. {kecamatan}: tap to include or remove.").format(
            kecamatan=q(area.name if area else kecamatan)
        )
        builder.button(
            text=_("◀ All kecamatan"), callback_data=AnnCb(action=AnnAction.AREAS, id=view.id)
        )
    builder.adjust(2)
    nav = InlineKeyboardBuilder()
    if page > 0:
        nav.button(text="◀", callback_data=AnnCb(action=action, id=view.id, arg=arg, page=page - 1))
    if (page + 1) * PAGE < total:
        nav.button(text="▶", callback_data=AnnCb(action=action, id=view.id, arg=arg, page=page + 1))
    builder.attach(nav)
    done = InlineKeyboardBuilder()
    done.button(
        text=_("✔ Done ({n} chosen)").format(n=len(chosen)),
        callback_data=AnnCb(action=AnnAction.FINISH, id=view.id),
    )
    done.button(
        text=_("👥 Change the recipients"),
        callback_data=AnnCb(action=AnnAction.EDIT_AUDIENCE, id=view.id),
    )
    done.adjust(1)
    builder.attach(done)
    if chosen:
        text += "\n" + await audience_names(session, view)
    return {"text": text, "reply_markup": builder.as_markup()}


async def draft_or_say(
    message: Message, state: FSMContext, session: AsyncSession, person: PersonView
) -> BroadcastView | None:
    """The author's draft; when it is gone (sent, discarded elsewhere), say so and leave."""
    view = await announcements.current(session, person)
    if view is None:
        await state.clear()
        await message.answer(_("There is no announcement draft. /announce starts one."))
    return view


def districts_keyboard(names: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for district_id, name in names:
        builder.button(
            text=name[:64], callback_data=AnnCb(action=AnnAction.DISTRICT, id=district_id)
        )
    return builder.adjust(1).as_markup()


def router() -> Router:
    r = Router(name="announce")
    r.message.filter(F.chat.type == "private")
    r.callback_query.filter(F.message.chat.type == "private")

    async def begin(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
        district_id: int | None,
    ) -> None:
        try:
            view = await announcements.start(session, person, district_id, now)
        except Invalid as exc:
            if exc.code != Code.CHOOSE_DISTRICT:
                raise
            names = []
            for d in announcements.pokja_districts(person):
                district = await places.district(session, d)
                names.append((d, district.name if district else str(d)))
            await message.answer(
                _("For which district is the announcement?"), reply_markup=districts_keyboard(names)
            )
            return
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        await state.set_state(Announcing.active)
        await state.update_data(broadcast=view.id)
        await show(message, session, person, view)

    @r.message(Command(*commands.ANNOUNCE.names))
    async def cmd_announce(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        await begin(message, state, session, person, now, None)

    @r.message(Announcing.active, Command(*commands.CANCEL.names))
    async def cmd_cancel(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(_("The announcement draft is kept. /announce continues it."))

    @r.message(Announcing.active, Command(*commands.BACK.names))
    async def cmd_back(
        message: Message, state: FSMContext, session: AsyncSession, person: PersonView
    ) -> None:
        view = await draft_or_say(message, state, session, person)
        if view is None:
            return
        if view.step in (AnnouncementStep.REVIEW, AnnouncementStep.PICK):
            view = await announcements.edit_audience(session, person, view.id)
        elif view.step == AnnouncementStep.AUDIENCE:
            view = await announcements.edit_body(session, person, view.id)
        else:
            await message.answer(_("This is the first step. /cancel leaves and keeps the draft."))
            return
        await show(message, session, person, view)

    @r.message(Announcing.active, F.text & ~F.text.startswith("/"))
    async def on_text(
        message: Message, state: FSMContext, session: AsyncSession, person: PersonView
    ) -> None:
        view = await draft_or_say(message, state, session, person)
        if view is None:
            return
        if view.step == AnnouncementStep.PICK and view.scope == Scope.VILLAGES:
            await village_search(message, session, view)
            return
        await body(message, session, person, view, message.text, None, None)

    @r.message(Announcing.active, F.photo | F.document)
    async def on_media(
        message: Message, state: FSMContext, session: AsyncSession, person: PersonView
    ) -> None:
        view = await draft_or_say(message, state, session, person)
        if view is None:
            return
        if message.photo:
            kind, file_id = "photo", message.photo[-1].file_id
        else:
            assert message.document is not None
            kind, file_id = "document", message.document.file_id
        await body(message, session, person, view, message.caption, kind, file_id)

    @r.message(Announcing.active, ~F.text.startswith("/"))
    async def on_other(message: Message) -> None:
        await message.answer(_("Please send text, a photo or a document, or /cancel."))

    async def body(
        message: Message,
        session: AsyncSession,
        person: PersonView,
        view: BroadcastView,
        text: str | None,
        kind: str | None,
        file_id: str | None,
    ) -> None:
        if view.step != AnnouncementStep.BODY:
            await message.answer(
                _("Use the buttons above. To replace the text, press ✏️ Change the text.")
            )
            return
        try:
            view = await announcements.set_body(session, person, view.id, text, kind, file_id)
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        await show(message, session, person, view)

    async def village_search(message: Message, session: AsyncSession, view: BroadcastView) -> None:
        try:
            found = await follows.search(session, message.text or "", district_id=view.district_id)
        except DomainError:
            await message.answer(_("Please type at least 3 letters of the village name."))
            return
        if not found:
            await message.answer(
                _(
                    "No village found for “{query}”. Check the spelling, or open a kecamatan."
                ).format(query=q(message.text or ""))
            )
            return
        builder = InlineKeyboardBuilder()
        for village in found:
            mark = "✅ " if village.kode in view.codes else ""
            builder.button(
                text=(mark + village.name + f" (Kec. {village.kecamatan_name})")[:64],
                # page -1: a search result, refreshed in place rather than as a kecamatan page
                callback_data=AnnCb(action=AnnAction.TOGGLE, id=view.id, arg=village.kode, page=-1),
            )
        builder.button(text=_("✔ Done"), callback_data=AnnCb(action=AnnAction.FINISH, id=view.id))
        await message.answer(
            _("Tap the villages to include (tap again to remove)."),
            reply_markup=builder.adjust(1).as_markup(),
        )

    @r.callback_query(AnnCb.filter())
    async def on_button(
        callback: CallbackQuery,
        callback_data: AnnCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = callback.message
        if not isinstance(message, Message):
            await callback.answer()
            return
        action, bid = callback_data.action, callback_data.id
        if action == AnnAction.DISTRICT:
            await callback.answer()
            await begin(message, state, session, person, now, bid)
            return
        try:
            if action == AnnAction.SCOPE:
                view = await announcements.choose_scope(
                    session, person, bid, Scope(callback_data.arg)
                )
            elif action == AnnAction.TOGGLE:
                view = await announcements.toggle_place(session, person, bid, callback_data.arg)
                await callback.answer()
                if callback_data.page < 0:
                    await message.edit_reply_markup(
                        reply_markup=search_marks(message.reply_markup, view)
                    )
                    return
                kecamatan = None
                if view.scope == Scope.VILLAGES:
                    kecamatan = await places.kecamatan_of_village(session, callback_data.arg)
                update = await picker(session, view, callback_data.page, kecamatan)
                await message.edit_text(**update)  # type: ignore[arg-type]
                return
            elif action in (AnnAction.KECAMATAN, AnnAction.AREAS):
                view = await announcements.current(session, person)
                if view is None or view.id != bid or view.step != AnnouncementStep.PICK:
                    raise Stale(Code.STEP)
                await callback.answer()
                update = await picker(session, view, callback_data.page, callback_data.arg or None)
                await message.edit_text(**update)  # type: ignore[arg-type]
                return
            elif action == AnnAction.FINISH:
                view = await announcements.finish_picking(session, person, bid)
            elif action == AnnAction.EDIT_TEXT:
                view = await announcements.edit_body(session, person, bid)
            elif action == AnnAction.EDIT_AUDIENCE:
                view = await announcements.edit_audience(session, person, bid)
            elif action == AnnAction.SEND:
                view = await announcements.confirm(
                    session, person, bid, now, progress=(message.chat.id, message.message_id)
                )
                await callback.answer()
                await state.clear()
                # The sender makes every edit of the progress message, the first one too: an
                # edit of ours leaves after this commit, and could land after the sender's last.
                return
            elif action == AnnAction.DISCARD:
                await announcements.cancel(session, person, bid)
                await callback.answer()
                await state.clear()
                await message.edit_text(_("The announcement was discarded. Nothing was sent."))
                return
            else:
                raise Stale(Code.STEP)
        except DomainError as exc:
            await callback.answer()
            await message.answer(error_text(exc))
            return
        await callback.answer()
        await state.set_state(Announcing.active)
        await state.update_data(broadcast=view.id)
        await message.edit_reply_markup(reply_markup=None)
        await show(message, session, person, view)

    @r.message(Command(*commands.ANNOUNCEMENTS.names))
    async def cmd_history(message: Message, session: AsyncSession, person: PersonView) -> None:
        items = await announcements.history(session, person)
        counts = {}
        if announcements.pokja_districts(person):
            counts = {b.id: await announcements.delivery_counts(session, b.id) for b in items}
        for chunk in outbound.history_text(items, counts):
            await message.answer(chunk)

    @r.message(Command(*commands.REMINDERS.names))
    async def cmd_receipts(
        message: Message, session: AsyncSession, person: PersonView, i18n: I18n
    ) -> None:
        try:
            policy.require_pokja_somewhere(person)
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        blocks = [_("⏰ <b>Reminders to committees: the latest one each</b>")]
        for district_id in announcements.pokja_districts(person):
            district = await places.district(session, district_id)
            for receipt in await announcements.reminder_receipts(session, district_id):
                if receipt.acked_at:
                    state = _("✅ read {when}").format(
                        when=when(
                            receipt.acked_at, district.timezone if district else "Asia/Jakarta"
                        )
                    )
                elif receipt.status == "sent":
                    state = _("📨 delivered, not yet read")
                elif receipt.status in ("pending", "sending"):
                    state = _("⏳ queued")
                else:
                    state = _("⚠️ not delivered")
                blocks.append(
                    f"• {q(receipt.village_name or '—')}: {q(receipt.full_name)} — {state}"
                )
        if len(blocks) == 1:
            blocks.append(_("No reminders were sent yet."))
        for chunk in join_blocks(blocks, sep="\n"):
            await message.answer(chunk)

    @r.callback_query(AckCb.filter())
    async def on_ack(
        callback: CallbackQuery,
        callback_data: AckCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        result = await reminder_rules.acknowledge(session, person, callback_data.id, now)
        if result is None:
            await callback.answer(_("This button is not for you."))
            return
        await callback.answer(_("Thank you. The POKJA sees that you read it."))
        if isinstance(callback.message, Message) and callback.message.reply_markup:
            await callback.message.edit_reply_markup(reply_markup=None)

    return r


def search_marks(
    markup: InlineKeyboardMarkup | None, view: BroadcastView
) -> InlineKeyboardMarkup | None:
    """The same search buttons, with ✅ where a village is now chosen."""
    if markup is None:
        return None
    rows = []
    for row in markup.inline_keyboard:
        new_row = []
        for button in row:
            data = AnnCb.unpack(button.callback_data) if button.callback_data else None
            if data and data.action == AnnAction.TOGGLE:
                label = button.text.removeprefix("✅ ")
                if data.arg in view.codes:
                    label = "✅ " + label
                button = button.model_copy(update={"text": label[:64]})
            new_row.append(button)
        rows.append(new_row)
    return InlineKeyboardMarkup(inline_keyboard=rows)
