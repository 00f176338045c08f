"""Small helpers the POKJA and objection conversations share."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import commands
from bot.errors import Code, DomainError
from handlers.render import error_text

T = TypeVar("T")
# Errors after which the person simply types the text again; any other refusal ends the step.
RETYPE = (Code.REASON_SHORT, Code.TOO_LONG, Code.TOO_SHORT)
# /cancel and /back both leave a one-message step (a reason, a reply) without sending it.
LEAVE = (*commands.CANCEL.names, *commands.BACK.names)


async def attempt(message: Message, action: Awaitable[T]) -> T | None:
    """Run a domain call; a refusal is answered in words (the domain logged it if it was one
    of authority), and None tells the caller to stop."""
    try:
        return await action
    except DomainError as exc:
        await message.answer(error_text(exc))
        return None


async def reasoned(message: Message, state: FSMContext, action: Awaitable[T]) -> T | None:
    """A typed reason or answer: on a too-short text the state stays for another try."""
    try:
        result = await action
    except DomainError as exc:
        await message.answer(error_text(exc))
        if exc.code not in RETYPE:
            await state.clear()
        return None
    await state.clear()
    return result


def target(callback: CallbackQuery) -> Message | None:
    """The message a button was under; None when Telegram no longer has it."""
    return callback.message if isinstance(callback.message, Message) else None


async def opened(callback: CallbackQuery) -> Message | None:
    """Acknowledge a button at once (the phone shows a spinner until then); its message."""
    await callback.answer()
    return target(callback)
