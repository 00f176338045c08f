"""Reaching Telegram at start-up: one line per failed attempt, backoff, a refused token stops."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    RestartingTelegram,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetMe
from aiogram.types import User

from bot.config import ConfigError
from bot.startup import REFUSED_TOKEN_TEXT, operator_text, reach_telegram
from tests.emulator.server import Emulator

METHOD = GetMe()

OUTAGES: dict[str, Callable[[], BaseException]] = {
    "client-connector": lambda: aiohttp.ClientConnectionError("Cannot connect to host"),
    "client-os": lambda: aiohttp.ClientOSError(101, "Network is unreachable"),
    "aiogram-network": lambda: TelegramNetworkError(METHOD, "HTTP Client says - Request timeout"),
    "server-502": lambda: TelegramServerError(METHOD, "Bad Gateway"),
    "restarting": lambda: RestartingTelegram(METHOD, "Restarting"),
    "timeout": lambda: TimeoutError(),
    "connection-refused": lambda: ConnectionRefusedError(111, "Connection refused"),
}


class FakeTelegram:
    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        self.calls = 0

    async def get_me(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "me"


class Recorder:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.slept: list[float] = []

    def say(self, line: str) -> None:
        self.lines.append(line)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.mark.parametrize("kind", sorted(OUTAGES))
async def test_every_kind_of_outage_is_one_line_and_a_retry(kind: str) -> None:
    telegram = FakeTelegram([OUTAGES[kind](), OUTAGES[kind]()])
    seen = Recorder()
    assert await reach_telegram(telegram.get_me, seen.say, seen.sleep, locale="en") == "me"
    assert telegram.calls == 3
    assert seen.slept == [1, 2]
    assert len(seen.lines) == 3  # two failures, then "reachable again"
    for line in seen.lines:
        assert "\n" not in line and "Traceback" not in line
    assert seen.lines[0].startswith("Telegram cannot be reached")
    assert "1 seconds" in seen.lines[0] and "2 seconds" in seen.lines[1]
    assert seen.lines[-1] == "Telegram can be reached again."


async def test_backoff_doubles_up_to_the_maximum() -> None:
    telegram = FakeTelegram([TimeoutError() for _ in range(9)])
    seen = Recorder()
    await reach_telegram(telegram.get_me, seen.say, seen.sleep, max_delay=60)
    assert seen.slept == [1, 2, 4, 8, 16, 32, 60, 60, 60]


async def test_reachable_at_once_says_nothing() -> None:
    seen = Recorder()
    assert await reach_telegram(FakeTelegram([]).get_me, seen.say, seen.sleep) == "me"
    assert seen.lines == [] and seen.slept == []


@pytest.mark.parametrize(
    "refusal",
    [
        TelegramUnauthorizedError(METHOD, "Unauthorized"),
        TelegramNotFound(METHOD, "Not Found"),
    ],
    ids=["401", "404"],
)
async def test_a_refused_token_stops_at_once_with_one_line(refusal: Exception) -> None:
    telegram = FakeTelegram([refusal])
    seen = Recorder()
    with pytest.raises(ConfigError) as caught:
        await reach_telegram(telegram.get_me, seen.say, seen.sleep)
    assert caught.value.template == REFUSED_TOKEN_TEXT
    assert telegram.calls == 1 and seen.slept == []


async def test_a_429_waits_what_telegram_asks() -> None:
    telegram = FakeTelegram([TelegramRetryAfter(METHOD, "Too Many Requests", retry_after=7)])
    seen = Recorder()
    await reach_telegram(telegram.get_me, seen.say, seen.sleep)
    assert seen.slept == [7]


async def test_a_defect_is_not_taken_for_an_outage() -> None:
    telegram = FakeTelegram([TelegramBadRequest(METHOD, "Bad Request: something")])
    seen = Recorder()
    with pytest.raises(TelegramBadRequest):
        await reach_telegram(telegram.get_me, seen.say, seen.sleep)
    assert seen.slept == []


async def test_the_line_is_in_the_operators_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFAULT_LOCALE", "id")
    telegram = FakeTelegram([TimeoutError()])
    seen = Recorder()
    await reach_telegram(telegram.get_me, seen.say, seen.sleep)
    assert seen.lines[0].startswith("Telegram tidak dapat dihubungi")
    assert operator_text(REFUSED_TOKEN_TEXT, "id") != REFUSED_TOKEN_TEXT


async def test_real_sleep_and_a_real_unreachable_server() -> None:
    """Over a real socket nobody listens on: aiohttp's own error, then success."""
    attempts = 0

    async def get_me() -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            async with aiohttp.ClientSession() as http, http.get("http://127.0.0.1:1/"):
                pass
        return "me"

    seen = Recorder()
    result = await reach_telegram(get_me, seen.say, asyncio.sleep, first_delay=0.01)
    assert result == "me"
    assert len(seen.lines) == 2


# -- through a real aiogram Bot, over HTTP -----------------------------------------------------


def real_bot(base_url: str, token: str) -> Bot:
    return Bot(token=token, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_then_reachable_with_a_real_bot(emulator: Emulator) -> None:
    """Nothing listens, then Telegram answers 502 and 500, then it answers: four lines."""
    dead = real_bot(f"http://127.0.0.1:{closed_port()}", emulator.token)
    live = real_bot(emulator.base_url, emulator.token)
    emulator.fail_next("getMe", 502, "Bad Gateway")
    emulator.fail_next("getMe", 500, "Internal Server Error")
    attempts = 0

    async def get_me() -> User:
        nonlocal attempts
        attempts += 1
        return await (dead if attempts == 1 else live).get_me()

    seen = Recorder()
    try:
        me = await reach_telegram(get_me, seen.say, seen.sleep, locale="en")
    finally:
        await dead.session.close()
        await live.session.close()
    assert me.username == emulator.bot_username
    assert attempts == 4 and seen.slept == [1, 2, 4]
    assert len(seen.lines) == 4
    assert all(line.startswith("Telegram cannot be reached") for line in seen.lines[:3])
    assert "Bad Gateway" in seen.lines[1]


async def test_a_wrong_token_with_a_real_bot_is_one_config_error(emulator: Emulator) -> None:
    bot = real_bot(emulator.base_url, "123456789:WRONGtokenWRONGtokenWRONGtoken12")
    seen = Recorder()
    try:
        with pytest.raises(ConfigError):
            await reach_telegram(bot.get_me, seen.say, seen.sleep)
    finally:
        await bot.session.close()
    assert seen.lines == [] and seen.slept == []
