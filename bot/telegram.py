"""How we talk to the Bot API: flood limits per chat and for the whole bot, late answers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)

LATE_ANSWER = ("query is too old", "query id is invalid")


@dataclass
class Lane:
    """The update a worker is handling: whether Telegram answered any of its calls yet, and
    how to give its worker slot to another chat while it waits out a flood limit."""

    chat_id: int | None
    release: Callable[[], None]
    acquire: Callable[[], Awaitable[Any]]
    answered: bool = False


current_lane: ContextVar[Lane | None] = ContextVar("current_lane", default=None)


class LaneMustWait(BaseException):
    """The update must wait before it may talk to Telegram, and has sent nothing yet: it is
    rolled back and handled again when its chat may be written to. A BaseException, so no
    handler's `except Exception` swallows it and no apology is sent."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class FloodGate:
    """When Telegram lets us write again, per chat and for the whole bot.

    A 429 closes its chat's gate. Telegram does not say whether a 429 was for one chat or for
    the whole bot. A call without a chat refused, or chats refused while `BOT_WIDE_AFTER` others
    are still closed, is the bot's overall limit, and every gate closes. Not sooner: one or two
    flooding accounts must not pause the replies of a whole district.
    """

    BOT_WIDE_AFTER = 3

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._chats: dict[int, float] = {}
        self._all = 0.0

    def wait_for(self, chat_id: int | None) -> float:
        now = self.clock()
        until = max(self._all, self._chats.get(chat_id, 0.0) if chat_id is not None else 0.0)
        return max(0.0, until - now)

    def refused(self, chat_id: int | None, seconds: float) -> None:
        now = self.clock()
        until = now + seconds
        if len(self._chats) > 10_000:
            self._chats = {c: t for c, t in self._chats.items() if t > now}
        others = sum(1 for c, t in self._chats.items() if c != chat_id and t > now)
        if chat_id is None or others >= self.BOT_WIDE_AFTER:
            if until > self._all:
                log.warning("flood limit for the whole bot: all replies paused for %s s", seconds)
            self._all = max(self._all, until)
        if chat_id is not None:
            self._chats[chat_id] = max(self._chats.get(chat_id, 0.0), until)


def chat_of(method: TelegramMethod[Any]) -> int | None:
    chat = getattr(method, "chat_id", None)
    return chat if isinstance(chat, int) else None


class WaitOutFloodLimits(BaseRequestMiddleware):
    """On 429, wait `retry_after` and send again, a bounded number of times.

    A reply that Telegram only postponed must not turn into an apology, nor roll back the
    answer it confirms. Waits longer than `max_wait` are passed on as errors. Inside a worker,
    the wait belongs to the update's chat: an update that has sent nothing yet goes back to
    its lane (`LaneMustWait`); one that has, waits here without holding a worker slot.
    """

    def __init__(self, attempts: int = 3, max_wait: float = 30, gate: FloodGate | None = None):
        self.attempts = attempts
        self.max_wait = max_wait
        self.gate = gate or FloodGate()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> TelegramType:
        lane = current_lane.get()
        chat = chat_of(method)
        for attempt in range(self.attempts):
            wait = self.gate.wait_for(chat)
            if wait > 0:
                await self._wait(lane, wait)
            try:
                result = await make_request(bot, method)
            except TelegramRetryAfter as exc:
                self.gate.refused(chat, exc.retry_after)
                if attempt == self.attempts - 1 or exc.retry_after > self.max_wait:
                    raise
                log.info("flood limit on %s: waiting %s s", type(method).__name__, exc.retry_after)
                continue
            if lane is not None:
                lane.answered = True
            return result
        raise AssertionError("unreachable")

    @staticmethod
    async def _wait(lane: Lane | None, seconds: float) -> None:
        if lane is None:
            await asyncio.sleep(seconds)
            return
        if not lane.answered:
            raise LaneMustWait(seconds)
        lane.release()
        try:
            await asyncio.sleep(seconds)
        finally:
            await lane.acquire()


EDITS = (EditMessageText, EditMessageReplyMarkup, EditMessageCaption)


class HarmlessRefusals(BaseRequestMiddleware):
    """Two refusals of Telegram's mean the work is done, and must never reach the handler, where
    they would end in the internal-error apology and roll back what the person did:

    - a button press answered later than about 15 s ("query is too old"): expected when the bot
      was busy or restarting; the press itself is still applied;
    - an edit that would change nothing ("message is not modified"): the same button pressed
      twice, or an old button under a message that already shows the result.
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
            if isinstance(method, AnswerCallbackQuery) and any(
                phrase in exc.message.lower() for phrase in LATE_ANSWER
            ):
                log.info("button press answered too late, applied anyway: %s", exc.message)
                return True  # type: ignore[return-value]
            raise
