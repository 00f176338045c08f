"""Reaching Telegram and the database at start-up: one line and a retry when it is down, never
a traceback.

A village office's connection drops often, and a bot started during an outage should simply
begin once Telegram answers. Only a token Telegram refuses is final: retrying cannot fix it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import N_, ConfigError
from bot.i18n import normalize_locale, translations
from storage.db import READ_ONLY_OPTION

T = TypeVar("T")

FIRST_DELAY = 1.0
MAX_DELAY = 60.0
# Errors that say nothing about the bot, only that Telegram cannot be reached just now.
UNREACHABLE: tuple[type[BaseException], ...] = (
    aiohttp.ClientError,
    TelegramNetworkError,
    TelegramServerError,
    TimeoutError,
    ConnectionError,
)

UNREACHABLE_TEXT = N_("Telegram cannot be reached ({reason}); trying again in {seconds} seconds…")
REACHED_TEXT = N_("Telegram can be reached again.")
REFUSED_TOKEN_TEXT = N_(
    "Telegram refused BOT_TOKEN: copy the token again from @BotFather and restart the bot."
)


def operator_text(message: str, locale: str | None = None) -> str:
    """A line for the operator in DEFAULT_LOCALE (Indonesian unless set), as the CLI prints."""
    chosen = normalize_locale(locale or os.environ.get("DEFAULT_LOCALE"), "id")
    return translations(chosen).gettext(message)


def reason_of(exc: BaseException) -> str:
    """A short reason for the line: the first line of the error, or its kind."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    reason = first or type(exc).__name__
    return reason if len(reason) <= 120 else reason[:119] + "…"


def next_delay(delay: float, max_delay: float) -> float:
    return min(delay * 2, max_delay)


async def reach_telegram(
    get_me: Callable[[], Awaitable[T]],
    say: Callable[[str], None],
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    max_delay: float = MAX_DELAY,
    *,
    first_delay: float = FIRST_DELAY,
    locale: str | None = None,
) -> T:
    """`get_me()` until it answers, saying one line per failed attempt, waiting 1, 2, 4 … s.

    A refused token raises ConfigError (one line from the CLI, exit status 1). A 429 waits what
    Telegram asks. Anything else propagates: it is a defect, not an outage.
    """
    delay = min(first_delay, max_delay)
    failed = False
    while True:
        try:
            me = await get_me()
        except (TelegramUnauthorizedError, TelegramNotFound):
            raise ConfigError(REFUSED_TOKEN_TEXT) from None
        except TelegramRetryAfter as exc:
            wait = max(float(exc.retry_after), delay)
            say(operator_text(UNREACHABLE_TEXT, locale).format(reason="429", seconds=_n(wait)))
            failed = True
            await sleep(wait)
            continue
        except UNREACHABLE as exc:
            say(
                operator_text(UNREACHABLE_TEXT, locale).format(
                    reason=reason_of(exc), seconds=_n(delay)
                )
            )
            failed = True
            await sleep(delay)
            delay = next_delay(delay, max_delay)
            continue
        if failed:
            say(operator_text(REACHED_TEXT, locale))
        return me


def _n(seconds: float) -> str:
    return f"{seconds:g}"


async def check_database(engine: AsyncEngine, url: str) -> None:
    """Fail with one operator-readable line when the database cannot be reached."""
    try:
        async with engine.connect() as conn:
            # A look, not a write: an operator's command must not wait for a busy bot here.
            await conn.execution_options(**{READ_ONLY_OPTION: True})
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # every driver has its own errors; the operator needs one line
        safe = make_url(url).render_as_string(hide_password=True)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            N_("The database {url} cannot be reached: {reason}"), url=safe, reason=reason
        ) from None
