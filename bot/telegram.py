"""How we talk to the Bot API: waiting out flood limits instead of failing the conversation."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import (
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)


class WaitOutFloodLimits(BaseRequestMiddleware):
    """On 429, wait `retry_after` and send again, a bounded number of times.

    A reply that Telegram only postponed must not turn into an apology, nor roll back the
    answer it confirms. Waits longer than `max_wait` are passed on as errors.
    """

    def __init__(self, attempts: int = 3, max_wait: float = 30) -> None:
        self.attempts = attempts
        self.max_wait = max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> TelegramType:
        for attempt in range(self.attempts):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == self.attempts - 1 or exc.retry_after > self.max_wait:
                    raise
                log.info("flood limit on %s: waiting %s s", type(method).__name__, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")


EDITS = (EditMessageText, EditMessageReplyMarkup, EditMessageCaption)


class UnchangedEditIsDone(BaseRequestMiddleware):
    """Telegram refuses an edit that would change nothing ("message is not modified"): the same
    button pressed twice, or an old button under a message that already shows the result.

    The message already says what the edit would say, so the edit is done and the handler goes
    on to answer the person, instead of ending in the internal-error apology or in silence.
    """

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> TelegramType:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            if isinstance(method, EDITS) and "message is not modified" in exc.message:
                log.info("%s changed nothing: taken as done", type(method).__name__)
                return True  # type: ignore[return-value]  # what the API returns for some edits
            raise
