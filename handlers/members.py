"""/members (/anggota): the district's PAKEM and POKJA members, and removing one with a
reason. Thin: who may remove whom, and the removal itself, live in `bot.roles`."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands, places, review, roles
from bot.text import join_blocks, q
from handlers.callbacks import MemberAction, MemberCb
from handlers.replies import LEAVE, attempt, opened, reasoned
from handlers.roles_text import role_label
from storage.views import PersonView, Role

MAX_BUTTONS = 90  # Telegram allows 100 buttons in one message


class Removing(StatesGroup):
    reason = State()


def members_button(district_id: int) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    b.button(text=_("👥 Members"), callback_data=MemberCb(action=MemberAction.LIST, id=district_id))
    return b.as_markup()


def member_line(m: roles.Member) -> str:
    handle = f" (@{m.username})" if m.username else ""
    village = f" — {m.village_name or m.village_kode}" if m.village_kode else ""
    return f"• {q(m.full_name)}{q(handle)}{q(village)}"


def router() -> Router:
    r = Router(name="members")
    r.message.filter(F.chat.type == "private")
    r.callback_query.filter(F.message.chat.type == "private")

    async def show(
        message: Message, session: AsyncSession, person: PersonView, district_id: int, now: datetime
    ) -> None:
        """PAKEM members for the POKJA, and POKJA members for an admin."""
        listed = await attempt(message, roles.members(session, person, district_id, now))
        if listed is None:
            return
        blocks: list[str] = []
        b = InlineKeyboardBuilder()
        buttons = 0
        titles = {Role.PAKEM: _("👥 <b>PAKEM members</b>"), Role.POKJA: _("🏛 <b>POKJA members</b>")}
        for role, people in listed.items():
            lines = [titles[role]] + ([member_line(m) for m in people] or [_("Nobody yet.")])
            blocks.append("\n".join(lines))
            for m in people:
                if buttons < MAX_BUTTONS:
                    b.button(
                        text=_("✖ Remove {name}").format(name=m.full_name)[:60],
                        callback_data=MemberCb(action=MemberAction.REMOVE, id=m.grant_id),
                    )
                    buttons += 1
        if buttons:
            blocks.append(_("Press a name to remove that person from their role."))
        chunks = join_blocks(blocks)
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            await message.answer(chunk, reply_markup=b.adjust(1).as_markup() if last else None)

    @r.message(Command(*commands.MEMBERS.names))
    async def cmd_members(
        message: Message, session: AsyncSession, person: PersonView, now: datetime
    ) -> None:
        if not await attempt(message, review.guard_desk(session, person, "role.members", now)):
            return
        for district_id in review.staff_districts(person):
            await show(message, session, person, district_id, now)

    @r.callback_query(MemberCb.filter(F.action == MemberAction.LIST))
    async def on_list(
        callback: CallbackQuery,
        callback_data: MemberCb,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is not None:
            await show(message, session, person, callback_data.id, now)

    @r.callback_query(MemberCb.filter(F.action == MemberAction.REMOVE))
    async def on_remove(
        callback: CallbackQuery,
        callback_data: MemberCb,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        message = await opened(callback)
        if message is None:
            return
        target = await attempt(message, roles.revocable(session, person, callback_data.id, now))
        if target is None:
            return
        await state.set_state(Removing.reason)
        await state.set_data({"grant": callback_data.id})
        district = await places.district(session, target.district_id)
        where = target.village_kode or (district.name if district else "")
        if target.village_kode:
            where = await places.village_name(session, target.village_kode) or target.village_kode
        await message.answer(
            _(
                "Why is {name} no longer {role} of {where}? They will read your reason. "
                "/cancel leaves without removing anyone."
            ).format(name=q(target.full_name), role=role_label(target.role.value), where=q(where))
        )

    @r.message(Removing.reason, F.text & ~F.text.startswith("/"))
    async def on_reason(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        person: PersonView,
        now: datetime,
    ) -> None:
        grant_id = int((await state.get_data()).get("grant", 0))
        done = await reasoned(
            message, state, roles.revoke_in_bot(session, person, grant_id, message.text or "", now)
        )
        if done is None:
            return
        await message.answer(
            _("✅ {name} is no longer {role}. They are told, with your reason.").format(
                name=q(done.full_name), role=role_label(done.role.value)
            )
        )

    @r.message(Removing.reason, ~F.text)
    async def not_text(message: Message) -> None:
        await message.answer(_("Please answer with text, or /cancel."))

    @r.message(StateFilter(Removing.reason), Command(*LEAVE))
    async def leave(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(_("Nobody was removed."))

    return r
