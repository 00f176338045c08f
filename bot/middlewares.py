"""One update, one transaction, one known person, one locale."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18nMiddleware
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.after_commit import HeldReplies, deliver, dump, held_replies
from bot.inbox import Ticket, describe
from bot.people import person_of_update
from storage import inbox
from storage.db import current_session
from storage.fsm import DatabaseStorage
from storage.types import utcnow
from storage.views import PersonView

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class ClaimLost(BaseException):
    """The update's inbox claim ran out and another worker took it over: this attempt's work
    is rolled back, so the update's effect is applied once, by the other worker."""


class SessionMiddleware(BaseMiddleware):
    """Outer middleware on `dp.update`: role filters and handlers both need the person.

    With an inbox ticket (from a worker), the inbox row is marked done in the update's own
    transaction: a crash at any moment leaves the update either applied and done, or neither.
    The handler's replies are held until that transaction commits, and kept in the inbox row
    with it (bot/after_commit.py); the worker sends them. Without a ticket, they are sent here.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        default_locale: str,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.default_locale = default_locale

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        now = self.clock()
        data["now"] = now
        ticket: Ticket | None = data.get("inbox_ticket")
        held = HeldReplies()
        async with self.sessions() as session:
            token = current_session.set(session)
            holding = held_replies.set(held)
            data["session"] = session
            try:
                user: User | None = data.get("event_from_user")
                if user is not None and not user.is_bot:
                    data["person"] = await self._person(session, user, now, fsm_key(data))
                result = await handler(event, data)
                if ticket is not None and not await inbox.finish(
                    session,
                    ticket.update_id,
                    ticket.chat_id,
                    ticket.worker,
                    utcnow(),
                    replies=dump(data["bot"], held.methods) if held.methods else None,
                ):
                    raise ClaimLost(ticket.update_id)
            except BaseException as exc:
                await session.rollback()
                if ticket is not None:
                    ticket.error = describe(exc)
                raise
            finally:
                held_replies.reset(holding)
                current_session.reset(token)
            await session.commit()
        if ticket is not None:
            ticket.done = True
            ticket.replies = held.methods
        elif held.methods:  # no inbox row to keep them in: what Telegram refuses now is lost
            delivery = await deliver(data["bot"], held.methods)
            if delivery.left:
                log.warning("%s replies not sent: Telegram refused them", len(delivery.left))
        return result

    async def _person(
        self, session: AsyncSession, user: User, now: datetime, fsm: str | None
    ) -> PersonView:
        for attempt in range(2):
            try:
                return await person_of_update(
                    session,
                    user.id,
                    user.full_name,
                    user.username,
                    user.language_code,
                    now,
                    self.default_locale,
                    fsm,
                )
            except IntegrityError:
                # The same new user's parallel update created the row first: read it instead.
                await session.rollback()
                if attempt:
                    raise
        raise AssertionError("unreachable")


def fsm_key(data: dict[str, Any]) -> str | None:
    """The key aiogram's FSM middleware will read next, when the state lives in our database:
    it is then read with the person. Should it differ, the storage simply reads it itself."""
    dispatcher = data.get("dispatcher")
    bot = data.get("bot")
    fsm = getattr(dispatcher, "fsm", None)
    if bot is None or fsm is None or not isinstance(fsm.storage, DatabaseStorage):
        return None
    context = fsm.resolve_event_context(bot, data)
    return fsm.storage.key_of(context.key) if context is not None else None


class PersonI18nMiddleware(I18nMiddleware):
    """The locale stored on the person, never FSM data nor the raw `language_code`."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        person: PersonView | None = data.get("person")
        locale = person.locale if person else self.i18n.default_locale
        return locale if locale in self.i18n.available_locales else self.i18n.default_locale
