"""Following villages (/desa), and pausing announcements (/berhenti, /mulai)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands, deeplink, follows, places, policy, poster
from bot.config import Settings
from bot.errors import DomainError
from bot.text import q
from handlers.callbacks import VillageAction, VillageCb
from handlers.render import error_text
from storage.views import PersonView, RegionView, VillageView

PAGE = follows.PAGE_SIZE


class VillageSearch(StatesGroup):
    query = State()
    poster = State()


def village_label(village: VillageView, with_district: bool) -> str:
    text = _("{village} (Kec. {kecamatan})").format(
        village=village.name, kecamatan=village.kecamatan_name
    )
    return f"{text}, {village.district_name}" if with_district else text


async def several_districts(session: AsyncSession) -> bool:
    return await places.several_districts(session)


def paged(
    builder: InlineKeyboardBuilder, total: int, page: int, action: VillageAction, kode: str
) -> None:
    """◀ ▶ buttons under a long list."""
    row = []
    if page > 0:
        row.append(("◀", page - 1))
    if (page + 1) * PAGE < total:
        row.append(("▶", page + 1))
    for label, target in row:
        builder.button(text=label, callback_data=VillageCb(action=action, kode=kode, page=target))


def choices(
    villages: list[VillageView],
    with_district: bool,
    extra: list[tuple[str, VillageCb]],
    action: VillageAction = VillageAction.FOLLOW,
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for village in villages:
        builder.button(
            text=village_label(village, with_district)[:64],
            callback_data=VillageCb(action=action, kode=village.kode),
        )
    for text, data in extra:
        builder.button(text=text, callback_data=data)
    return builder.adjust(1).as_markup()


async def send_results(
    message: Message,
    session: AsyncSession,
    query: str,
    found: list[VillageView],
    page: int,
    for_poster: bool,
) -> None:
    """One page of villages found by name, with ◀ ▶ when there are more."""
    extra = [] if for_poster else [browse_button()]
    if not found:
        await message.answer(
            _("No village found for “{query}”. Check the spelling, or browse by kecamatan.").format(
                query=q(query)
            ),
            reply_markup=choices([], False, extra) if extra else None,
        )
        return
    shown = follows.page_of(found, page)
    prompt = (
        _("Which village? Tap it for its poster.")
        if for_poster
        else _("Which village? Tap it to follow.")
    )
    if shown.pages > 1:
        prompt += "\n" + _(
            "{total} villages match ({page} of {pages}). Type the kecamatan after the name "
            "to narrow the search, e.g. “{example}”."
        ).format(
            total=shown.total,
            page=shown.number + 1,
            pages=shown.pages,
            example=q(f"{shown.villages[0].name} {shown.villages[0].kecamatan_name}"),
        )
    builder = InlineKeyboardBuilder()
    wide = await several_districts(session)
    for village in shown.villages:
        builder.button(
            text=village_label(village, wide)[:64],
            callback_data=VillageCb(
                action=VillageAction.POSTER if for_poster else VillageAction.FOLLOW,
                kode=village.kode,
            ),
        )
    builder.adjust(1)
    nav = InlineKeyboardBuilder()
    paged(nav, shown.total, shown.number, VillageAction.RESULTS, "")
    builder.attach(nav)
    for text, data in extra:
        builder.row(InlineKeyboardButton(text=text, callback_data=data.pack()))
    await message.answer(prompt, reply_markup=builder.as_markup())


def browse_button() -> tuple[str, VillageCb]:
    return _("🗺 Browse by kecamatan"), VillageCb(action=VillageAction.BROWSE)


async def overview(message: Message, session: AsyncSession, person: PersonView) -> None:
    mine = await follows.followed(session, person.id)
    wide = await several_districts(session)
    if mine:
        lines = [_("<b>Villages you follow</b>")]
        lines += ["· " + q(village_label(v, wide)) for v in mine]
    else:
        lines = [_("You do not follow any village yet.")]
    if person.announcements_muted:
        lines.append(_("Announcements are paused. /resume resumes them."))
    lines.append(
        _(
            "Type the name of your village to follow it, or browse by kecamatan. "
            "/cancel closes the search."
        )
    )
    builder = InlineKeyboardBuilder()
    text, data = browse_button()
    builder.button(text=text, callback_data=data)
    for village in mine:
        builder.button(
            text=_("✖ Stop following {village}").format(village=village.name)[:64],
            callback_data=VillageCb(action=VillageAction.UNFOLLOW, kode=village.kode),
        )
    await message.answer("\n\n".join(lines), reply_markup=builder.adjust(1).as_markup())


async def followed_text(session: AsyncSession, person: PersonView, result: follows.Followed) -> str:
    label = q(village_label(result.village, await several_districts(session)))
    if result.already:
        text = _("You already follow {village}.").format(village=label)
    else:
        text = _("You now follow {village}. Its announcements will come to this chat.").format(
            village=label
        )
    if person.announcements_muted:
        text += "\n" + _("Announcements are paused. /resume resumes them.")
    return text + "\n" + _("/village shows the villages you follow.")


async def follow_from_link(
    message: Message, session: AsyncSession, person: PersonView, kode: str, now: datetime
) -> None:
    """A poster's QR code (`bot.deeplink.village_link`): follow in one tap."""
    try:
        result = await follows.follow(session, person.id, kode, now)
    except DomainError:
        await message.answer(
            _("That village link is not valid. Send /village to find your village by name.")
        )
        return
    await message.answer(await followed_text(session, person, result))


def router() -> Router:
    r = Router(name="villages")
    r.message.filter(F.chat.type == "private")
    r.callback_query.filter(F.message.chat.type == "private")

    @r.message(Command(*commands.VILLAGE.names))
    async def cmd_desa(
        message: Message, state: FSMContext, session: AsyncSession, person: PersonView
    ) -> None:
        await state.set_state(VillageSearch.query)
        await overview(message, session, person)

    @r.message(
        StateFilter(VillageSearch.query, VillageSearch.poster), F.text & ~F.text.startswith("/")
    )
    async def on_query(message: Message, state: FSMContext, session: AsyncSession) -> None:
        query = message.text or ""
        try:
            found = await follows.search(session, query, limit=None)
        except DomainError:
            await message.answer(_("Please type at least 3 letters of the village name."))
            return
        await state.update_data(village_query=query)
        for_poster = await state.get_state() == VillageSearch.poster.state
        await send_results(message, session, query, found, 0, for_poster)

    @r.callback_query(VillageCb.filter(F.action == VillageAction.RESULTS))
    async def results_page(
        callback: CallbackQuery, callback_data: VillageCb, state: FSMContext, session: AsyncSession
    ) -> None:
        """◀ ▶ under search results: the query lives in the search's state, not in the button."""
        await callback.answer()
        if not isinstance(callback.message, Message):
            return
        current = await state.get_state()
        query = str((await state.get_data()).get("village_query") or "")
        searching = current in (VillageSearch.query.state, VillageSearch.poster.state)
        if not searching or not query:
            await callback.message.answer(
                _("That search is closed. Send /village and type the village name again.")
            )
            return
        found = await follows.search(session, query, limit=None)
        await send_results(
            callback.message,
            session,
            query,
            found,
            callback_data.page,
            current == VillageSearch.poster.state,
        )

    @r.message(StateFilter(VillageSearch.query, VillageSearch.poster), ~F.text)
    async def on_not_text(message: Message) -> None:
        await message.answer(_("Please type the village name, or /cancel."))

    @r.callback_query(VillageCb.filter(F.action == VillageAction.BROWSE))
    async def browse(
        callback: CallbackQuery, callback_data: VillageCb, session: AsyncSession
    ) -> None:
        await callback.answer()
        if not isinstance(callback.message, Message):
            return
        districts = await places.districts(session)
        if len(districts) > 1 and not callback_data.kode:
            builder = InlineKeyboardBuilder()
            for district in districts:
                builder.button(
                    text=district.name[:64],
                    callback_data=VillageCb(action=VillageAction.BROWSE, kode=district.kode),
                )
            await callback.message.answer(
                _("Which district?"), reply_markup=builder.adjust(1).as_markup()
            )
            return
        district = next((d for d in districts if d.kode == callback_data.kode), None)
        district = district or (districts[0] if districts else None)
        if district is None:
            await callback.message.answer(_("No villages are known yet."))
            return
        areas = await places.kecamatan_of(session, district.id)
        await callback.message.answer(
            _("Which kecamatan?"),
            reply_markup=kecamatan_keyboard(areas, callback_data.page, district.kode),
        )

    @r.callback_query(VillageCb.filter(F.action == VillageAction.KECAMATAN))
    async def open_kecamatan(
        callback: CallbackQuery, callback_data: VillageCb, session: AsyncSession
    ) -> None:
        await callback.answer()
        if not isinstance(callback.message, Message):
            return
        area = await places.region(session, callback_data.kode)
        villages = await places.villages_in(session, callback_data.kode)
        if area is None or not villages:
            await callback.message.answer(_("That kecamatan is not known. Send /village."))
            return
        page = max(0, callback_data.page)
        builder = InlineKeyboardBuilder()
        for village in villages[page * PAGE : (page + 1) * PAGE]:
            builder.button(
                text=village.name[:64],
                callback_data=VillageCb(action=VillageAction.FOLLOW, kode=village.kode),
            )
        builder.adjust(2)
        nav = InlineKeyboardBuilder()
        paged(nav, len(villages), page, VillageAction.KECAMATAN, area.kode)
        builder.attach(nav)
        await callback.message.answer(
            _("Villages in Kec. {kecamatan} ({page} of {pages}). Tap yours to follow it.").format(
                kecamatan=q(area.name), page=page + 1, pages=(len(villages) - 1) // PAGE + 1
            ),
            reply_markup=builder.as_markup(),
        )

    @r.callback_query(VillageCb.filter(F.action == VillageAction.FOLLOW))
    async def follow_button(
        callback: CallbackQuery,
        callback_data: VillageCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        await callback.answer()
        if isinstance(callback.message, Message):
            await follow_from_link(callback.message, session, person, callback_data.kode, now)

    @r.callback_query(VillageCb.filter(F.action == VillageAction.UNFOLLOW))
    async def unfollow_button(
        callback: CallbackQuery,
        callback_data: VillageCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        await callback.answer()
        if not isinstance(callback.message, Message):
            return
        try:
            village = await follows.unfollow(session, person.id, callback_data.kode, now)
        except DomainError:
            await callback.message.answer(
                _("That village link is not valid. Send /village to find your village by name.")
            )
            return
        await callback.message.edit_reply_markup(reply_markup=None)
        await callback.message.answer(
            _("You no longer follow {village}.").format(village=q(village.name))
        )

    @r.message(Command(*commands.STOP.names))
    async def mute(
        message: Message, session: AsyncSession, person: PersonView, now: datetime
    ) -> None:
        await follows.set_muted(session, person.id, True, now)
        await message.answer(
            _(
                "Announcements are paused. Messages about your own proposals still come. "
                "/resume resumes announcements."
            )
        )

    @r.message(Command(*commands.RESUME.names))
    async def unmute(
        message: Message, session: AsyncSession, person: PersonView, now: datetime
    ) -> None:
        await follows.set_muted(session, person.id, False, now)
        await message.answer(_("Announcements resume. /stop pauses them again."))

    @r.message(Command(*commands.POSTER.names))
    async def cmd_poster(message: Message, state: FSMContext, person: PersonView) -> None:
        try:
            policy.require_pokja_somewhere(person)
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        await state.set_state(VillageSearch.poster)
        await message.answer(_("For which village is the poster? Type its name."))

    @r.callback_query(VillageCb.filter(F.action == VillageAction.POSTER))
    async def poster_button(
        callback: CallbackQuery,
        callback_data: VillageCb,
        session: AsyncSession,
        person: PersonView,
        bot: Bot,
        settings: Settings,
        i18n: I18n,
    ) -> None:
        await callback.answer()
        if not isinstance(callback.message, Message):
            return
        try:
            village = await follows.poster_village(session, person, callback_data.kode)
        except DomainError as exc:
            await callback.message.answer(error_text(exc))
            return
        me = await bot.me()
        link = deeplink.village_link(me.username or "", village.kode)
        # Posters hang in the village: they speak the district's language, not the requester's.
        with i18n.use_locale(settings.default_locale):
            text = poster.PosterText(
                heading=_("PAKET P2KP"),
                village=village.name,
                place=_("Kec. {kecamatan}, {district}").format(
                    kecamatan=village.kecamatan_name, district=village.district_name
                ),
                pitch=_(
                    "Our village proposes works that the district funds, in public. "
                    "Follow the announcements for our village on Telegram:"
                ),
                scan=_("Scan with your phone's camera"),
                link=link,
            )
        files = await asyncio.to_thread(poster.render, text)
        slug = re.sub(r"[^a-z0-9]+", "-", village.name.lower()).strip("-") or village.kode
        await callback.message.answer_document(
            BufferedInputFile(files.png, f"poster-{slug}.png"),
            caption=_("Poster for {village}: picture (A4).").format(village=q(village.name)),
        )
        await callback.message.answer_document(
            BufferedInputFile(files.pdf_a4, f"poster-{slug}-a4.pdf"),
            caption=_("Poster for {village}: PDF, A4.").format(village=q(village.name)),
        )
        await callback.message.answer_document(
            BufferedInputFile(files.pdf_banner, f"spanduk-{slug}.pdf"),
            caption=_("Banner for {village}: PDF, 3 × 1 m.").format(village=q(village.name)),
        )

    @r.message(
        StateFilter(VillageSearch.query, VillageSearch.poster), Command(*commands.CANCEL.names)
    )
    async def close_search(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(_("Search closed. /help shows what you can do."))

    return r


def kecamatan_keyboard(
    areas: list[RegionView], page: int, district_kode: str
) -> InlineKeyboardMarkup:
    page = max(0, page)
    builder = InlineKeyboardBuilder()
    for area in areas[page * PAGE : (page + 1) * PAGE]:
        builder.button(
            text=area.name[:64],
            callback_data=VillageCb(action=VillageAction.KECAMATAN, kode=area.kode),
        )
    builder.adjust(2)
    nav = InlineKeyboardBuilder()
    paged(nav, len(areas), page, VillageAction.BROWSE, district_kode)
    builder.attach(nav)
    return builder.as_markup()
