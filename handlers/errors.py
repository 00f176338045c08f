"""The last line of defence: a translated apology instead of silence or a traceback."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _
from aiohttp import ClientError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.inbox import Ticket
from bot.telegram import current_lane

log = logging.getLogger(__name__)

APOLOGY = N_(
    "Sorry, something went wrong on our side. What you typed before is saved; "
    "please try again, or /cancel."
)
# Telegram failing mid-answer: the person may have seen part of it, so the update is not
# handled again silently; they hear of it at once and can repeat what they did.
FROM_TELEGRAM = (TelegramAPIError, TelegramNetworkError, ClientError, TimeoutError)


def apologise_now(event: ErrorEvent, inbox_ticket: Ticket | None = None) -> bool:
    """Without an inbox ticket, always; with one, only when the update is not tried again
    (otherwise the error goes back to the worker, which tries again after a pause)."""
    if inbox_ticket is None:
        return True
    # Once the person has seen a reply of this update, trying it again would repeat that reply:
    # the bound on repeats is the updates in flight, so such a failure is answered now.
    lane = current_lane.get()
    answered = lane is not None and lane.answered
    return inbox_ticket.apologise_now(
        retryable=not answered and not isinstance(event.exception, FROM_TELEGRAM)
    )


def router() -> Router:
    r = Router(name="errors")

    @r.errors(apologise_now)
    async def on_error(event: ErrorEvent, bot: Bot, session: AsyncSession | None = None) -> bool:
        if session is not None:
            # Half-done work of the failed handler must not be committed by the middleware.
            await session.rollback()
        log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
        text = _(APOLOGY)
        update = event.update
        try:
            if update.message is not None and update.message.chat.type == "private":
                await update.message.answer(text)
            elif update.callback_query is not None:
                # The handler's own answer was rolled back with its work (replies leave only
                # after the commit): stop the button's spinner here. Late or twice is harmless.
                with contextlib.suppress(Exception):
                    await update.callback_query.answer()
                message = update.callback_query.message
                if message is not None and message.chat.type == "private":
                    await bot.send_message(message.chat.id, text)
        except Exception:  # the apology itself may fail when Telegram is the problem
            log.exception("could not report the failure to the user")
        return True

    return r
