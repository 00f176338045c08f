"""/start, /help, /language, invitations, and the group-chat behaviour."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands, people
from bot import home as home_facts
from bot.deeplink import StartKind, help_link, parse_start
from bot.errors import DomainError
from bot.text import q
from handlers import keyboards, villages
from handlers.callbacks import LangCb, MenuAction, MenuCb
from handlers.formats import when
from handlers.render import error_text, round_line
from storage.views import PersonView, Role


def role_name(role: Role) -> str:
    return {
        Role.ADMIN: _("an admin"),
        Role.POKJA: _("a POKJA member"),
        Role.PAKEM: _("a PAKEM member"),
    }[role]


async def home_text(session: AsyncSession, person: PersonView, now: datetime) -> tuple[str, object]:
    facts = await home_facts.home(session, person, now)
    lines = [
        _("Hello, {name}! This is PAKET Bot of {district}.").format(
            name=q(person.full_name or "👋"), district=q(facts.district_name)
        )
        if facts.district_name
        else _("Hello, {name}! This is PAKET Bot.").format(name=q(person.full_name or "👋"))
    ]
    for c in facts.committees:
        status = (
            _("Submissions are open until {when}.").format(
                when=when(c.round.submission_deadline, c.round.timezone)
            )
            if c.round.submission_open(now)
            else _("Submissions closed on {when}; drafts stay readable but locked.").format(
                when=when(c.round.submission_deadline, c.round.timezone)
            )
        )
        lines.append(
            _(
                "You are a PAKEM member for <b>{village}</b> (Kec. {kecamatan}) in {round}. "
                "{status} Your committee has {drafts} drafts and {submitted} submitted proposals."
            ).format(
                village=q(c.village_name),
                kecamatan=q(c.kecamatan_name),
                round=q(c.round.name),
                status=status,
                drafts=c.drafts,
                submitted=c.submitted,
            )
        )
    for desk in facts.desks:
        lines.append(
            _("You are {role} for {district}.").format(
                role=role_name(desk.role), district=q(desk.district_name)
            )
        )
        for round_, submitted in desk.rounds:
            lines.append(
                "· " + round_line(round_) + " · " + _("{n} proposals submitted").format(n=submitted)
            )
        if not desk.rounds:
            lines.append(_("No round is open yet."))
    if not facts.committees and not facts.desks:
        lines.append(
            _(
                "PAKET lets villages propose works that the district funds, in public. "
                "Committee (PAKEM) and POKJA members join through an invitation link from the "
                "POKJA; open it, or send /start followed by the code."
            )
        )
    can_draft = facts.can_draft(now)
    menu = [_("Commands:")]
    if can_draft:
        menu.append(_("/new: write a new proposal"))
    if facts.has_proposals or facts.committees:
        menu.append(_("/drafts: your drafts and proposals"))
    if facts.desks:
        menu += [
            _("/review: review the submitted proposals"),
            _("/round: the round's calendar, candidates, winners and exports"),
            _("/invite: invite POKJA members and village committees"),
            _("/members: the committees' members; remove one, with a reason"),
            _("/objection: the objections and their answers"),
            _("/announce: send an announcement"),
            _("/poster: a village's campaign poster"),
            _("/reminders: who read the deadline reminders"),
        ]
    else:
        menu += [
            _("/objection: object to a candidate while the window is open"),
            _("/status: your objections and their answers"),
        ]
    menu += [
        _("/village: follow your village and hear its announcements"),
        _("/announcements: recent announcements"),
        _("/language: change the language"),
        _("/help: this overview"),
    ]
    lines.append("\n".join(menu))
    return "\n\n".join(lines), keyboards.home(can_draft, facts.has_proposals)


async def send_home(
    message: Message, session: AsyncSession, person: PersonView, now: datetime
) -> None:
    text, markup = await home_text(session, person, now)
    await message.answer(text, reply_markup=markup)  # type: ignore[arg-type]


def router() -> Router:
    r = Router(name="common")
    r.message.filter(F.chat.type == "private")
    r.callback_query.filter(F.message.chat.type == "private")

    @r.message(CommandStart(deep_link=True))
    async def start_with_code(
        message: Message,
        command: CommandObject,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
        state: FSMContext,
    ) -> None:
        start = parse_start(command.args or "")
        if start.kind == StartKind.HELP:
            await send_home(message, session, person, now)
            return
        if start.kind == StartKind.VILLAGE:
            await villages.follow_from_link(message, session, person, start.value, now)
            return
        try:
            redeemed = await people.redeem_invite(session, person.id, start.value, now)
        except DomainError as exc:
            await message.answer(error_text(exc))
            return
        if redeemed.already_had:
            await message.answer(_("You already used this invitation; your role is unchanged."))
        else:
            await message.answer(
                _("Welcome! You are now {role}.").format(role=role_name(redeemed.role))
            )
        person = await _reload(session, person)
        await send_home(message, session, person, now)

    @r.message(CommandStart())
    @r.message(Command(*commands.HELP.names))
    async def start(
        message: Message, session: AsyncSession, person: PersonView, now: datetime
    ) -> None:
        await send_home(message, session, person, now)

    @r.message(Command(*commands.LANGUAGE.names))
    async def language(message: Message) -> None:
        await message.answer(_("Choose your language:"), reply_markup=keyboards.languages())

    @r.callback_query(MenuCb.filter(F.action == MenuAction.LANGUAGE))
    async def language_button(callback: CallbackQuery) -> None:
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.answer(
                _("Choose your language:"), reply_markup=keyboards.languages()
            )

    @r.callback_query(LangCb.filter())
    async def set_language(
        callback: CallbackQuery,
        callback_data: LangCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
        i18n: I18n,
    ) -> None:
        locale = await people.set_locale(session, person.id, callback_data.code, now)
        with i18n.use_locale(locale):
            await callback.answer()
            if isinstance(callback.message, Message):
                await callback.message.edit_text(_("Language set: English."), reply_markup=None)
                person = await _reload(session, person)
                await send_home(callback.message, session, person, now)

    return r


async def _reload(session: AsyncSession, person: PersonView) -> PersonView:
    """The person with the roles just granted, for the home screen that follows."""
    return await people.reload(session, person)


def group_router() -> Router:
    """In groups the bot answers /start and /help with a way into a private chat, nothing else."""
    r = Router(name="group")
    r.message.filter(F.chat.type.in_({"group", "supergroup"}))

    @r.message(CommandStart())
    @r.message(Command(*commands.HELP.names))
    async def in_group(message: Message, bot: Bot) -> None:
        me = await bot.me()
        await message.reply(
            _("Proposals and invitations are handled in a private chat with me."),
            reply_markup=keyboards.private_chat(help_link(me.username or "")),
        )

    @r.message()
    async def quiet(message: Message) -> None:
        return None

    return r
