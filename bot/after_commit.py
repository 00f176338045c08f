"""Replies leave only after the update's transaction commits.

A handler that wrote to the database and then waited on Telegram would hold the database's
write lock for as long as Telegram took: on SQLite that lock is the whole file's, so every
other worker and the operator's CLI waited with it (a flood limit could make that 30 s). So
the replies a handler makes are held back, written with the update's own transaction into its
inbox row, and sent once that transaction has committed:

- an update rolled back (an error, a lost claim, a flood limit before any reply) sends nothing
  of what it had said, so a retry never repeats a reply nor shows "saved" before an apology;
- a crash between the commit and the last reply leaves the replies in the inbox row: the next
  worker sends them again instead of handling the update again. A person may then see the
  replies of the updates that were in flight twice, never none.

Handlers never use what a reply call returns (they do not keep sent message ids), and this
holds them to it: the placeholder they get refuses to be read.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import aiogram.methods
from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    AiogramError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import BufferedInputFile, FSInputFile, InputFile, URLInputFile
from pydantic import BaseModel

from bot.telegram import FloodGate, LaneMustWait, chat_of, current_lane

log = logging.getLogger(__name__)

# What a handler says to a person. Anything else (reading a file, asking about a chat) is
# answered at once: the handler needs the answer.
HELD_BACK: tuple[type[TelegramMethod[Any]], ...] = (
    aiogram.methods.SendMessage,
    aiogram.methods.SendPhoto,
    aiogram.methods.SendDocument,
    aiogram.methods.SendVoice,
    aiogram.methods.SendAudio,
    aiogram.methods.SendVideo,
    aiogram.methods.SendLocation,
    aiogram.methods.SendMediaGroup,
    aiogram.methods.SendChatAction,
    aiogram.methods.CopyMessage,
    aiogram.methods.ForwardMessage,
    aiogram.methods.EditMessageText,
    aiogram.methods.EditMessageReplyMarkup,
    aiogram.methods.EditMessageCaption,
    aiogram.methods.DeleteMessage,
    aiogram.methods.AnswerCallbackQuery,
    aiogram.methods.SetMyCommands,
    aiogram.methods.DeleteMyCommands,
)


@dataclass
class HeldReplies:
    """The replies of the update being handled, in the order the handler made them."""

    methods: list[TelegramMethod[Any]] = field(default_factory=list)


held_replies: ContextVar[HeldReplies | None] = ContextVar("held_replies", default=None)


class NotSentYet:
    """What a held-back call returns. Reading it is a programming error, said loudly."""

    def __init__(self, method: TelegramMethod[Any]) -> None:
        self._method = type(method).__name__

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(
            f"{self._method} is sent after the update's transaction commits; "
            f"its result ({name}) is not available to the handler"
        )


class HoldUntilCommit(BaseRequestMiddleware):
    """The outermost request middleware of the replying bot: while an update's transaction is
    open, replies are held (see the module's docstring)."""

    def __init__(self, gate: FloodGate) -> None:
        self.gate = gate

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> TelegramType:
        held = held_replies.get()
        if held is None or not isinstance(method, HELD_BACK):
            return await make_request(bot, method)
        chat = chat_of(method)
        if chat is not None and not any(chat_of(m) is not None for m in held.methods):
            # A chat Telegram holds back: the update waits in its lane and is handled again
            # when the chat may be written to, instead of committing replies it cannot send.
            # (The first reply to a chat: a button's answer before it names none.)
            lane = current_lane.get()
            wait = self.gate.wait_for(chat)
            if lane is not None and not lane.answered and wait > 0:
                raise LaneMustWait(wait)
        held.methods.append(method)
        return NotSentYet(method)  # type: ignore[return-value]


# -- keeping replies in the inbox row ------------------------------------------------------------

_FILE = "__input_file__"


def _plain(value: Any, bot: Bot) -> Any:
    if isinstance(value, Default):
        return _plain(bot.default[value.name], bot)
    if isinstance(value, BufferedInputFile):
        data = base64.b64encode(value.data).decode("ascii")
        return {_FILE: "buffer", "name": value.filename, "data": data}
    if isinstance(value, FSInputFile):
        return {_FILE: "path", "name": value.filename, "path": str(value.path)}
    if isinstance(value, URLInputFile):
        return {_FILE: "url", "name": value.filename, "url": value.url}
    if isinstance(value, InputFile):
        raise TypeError(f"cannot keep a {type(value).__name__} until after the commit")
    if isinstance(value, BaseModel):
        return _plain(dict(value), bot)
    if isinstance(value, dict):
        return {k: p for k, v in value.items() if (p := _plain(v, bot)) is not None}
    if isinstance(value, list | tuple):
        return [_plain(v, bot) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


def _revived(value: Any) -> Any:
    if isinstance(value, dict):
        kind = value.get(_FILE)
        if kind == "buffer":
            return BufferedInputFile(base64.b64decode(value["data"]), filename=value["name"])
        if kind == "path":
            return FSInputFile(value["path"], filename=value["name"])
        if kind == "url":
            return URLInputFile(value["url"], filename=value["name"])
        return {k: _revived(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_revived(v) for v in value]
    return value


def _fields(method: TelegramMethod[Any], bot: Bot) -> dict[str, Any]:
    """The call's fields that are set. An explicit None is kept where the field's default is
    the bot's (`parse_mode=None`): read again, it must not turn back into that default."""
    fields = type(method).model_fields
    return {
        name: _plain(value, bot)
        for name, value in method
        if value is not None or isinstance(fields[name].default, Default)
    }


def dump(bot: Bot, methods: Sequence[TelegramMethod[Any]]) -> str:
    """The calls as JSON, with the bot's defaults (parse mode, link previews) filled in, so
    that they are sent later exactly as they would have been now."""
    return json.dumps(
        [{"method": type(m).__name__, "fields": _fields(m, bot)} for m in methods],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def load(text: str) -> list[TelegramMethod[Any]]:
    calls: list[TelegramMethod[Any]] = []
    for call in json.loads(text):
        kind = getattr(aiogram.methods, call["method"], None)
        if not (isinstance(kind, type) and issubclass(kind, HELD_BACK)):
            raise ValueError(f"not a held-back reply: {call['method']!r}")
        calls.append(kind.model_validate(_revived(call["fields"])))
    return calls


# -- sending them -------------------------------------------------------------------------------


# Telegram unreachable or failing (5xx): the replies are tried again this soon.
AWAY_RETRY_S = 2.0


@dataclass(frozen=True)
class Delivery:
    """How sending the held replies ended. `left` are the replies to send again later, after
    `retry_in` seconds: Telegram was away or kept refusing for a while."""

    sent: int
    left: list[TelegramMethod[Any]]
    retry_in: float = 0.0


async def deliver(bot: Bot, methods: Sequence[TelegramMethod[Any]]) -> Delivery:
    """In order. A reply Telegram refuses for good is logged and skipped (the update's work is
    committed and stays); a person who blocked the bot gets none of the rest."""
    sent = 0
    for index, method in enumerate(methods):
        try:
            await bot(method)
        except TelegramRetryAfter as exc:
            return Delivery(sent, list(methods[index:]), float(exc.retry_after))
        except TelegramEntityTooLarge:  # a network error by class, but final: never smaller
            log.exception("Telegram refused a reply as too large; it is skipped")
            continue
        except (TelegramNetworkError, TelegramServerError, TimeoutError, OSError) as exc:
            log.warning("reply %s could not reach Telegram: %s", type(method).__name__, exc)
            return Delivery(sent, list(methods[index:]), AWAY_RETRY_S)
        except TelegramForbiddenError:
            log.info("the person blocked the bot: %s replies not sent", len(methods) - index)
            return Delivery(sent, [])
        except AiogramError:  # any other refusal is final: sending it again cannot help
            log.exception("Telegram refused a reply (%s); it is skipped", type(method).__name__)
            continue
        sent += 1
    return Delivery(sent, [])
