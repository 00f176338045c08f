"""The last line of defence: a translated apology instead of silence or a traceback."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)


def router() -> Router:
    r = Router(name="errors")

    @r.errors()
    async def on_error(event: ErrorEvent, bot: Bot, session: AsyncSession | None = None) -> bool:
        if session is not None:
            # Half-done work of the failed handler must not be committed by the middleware.
            await session.rollback()
        log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
        text = _(
            "Sorry, something went wrong on our side. What you typed before is saved; "
            "please try again, or /cancel."
        )
        update = event.update
        try:
            if update.message is not None and update.message.chat.type == "private":
                await update.message.answer(text)
            elif update.callback_query is not None:
                # Handlers answer the query first, so a second answer would be refused.
                message = update.callback_query.message
                if message is not None and message.chat.type == "private":
                    await bot.send_message(message.chat.id, text)
        except Exception:  # the apology itself may fail when Telegram is the problem
            log.exception("could not report the failure to the user")
        return True

    return r
