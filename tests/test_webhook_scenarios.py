"""Telegram's webhook end to end: the emulator POSTs updates as Telegram does (in order, again
after any non-2xx answer) to the bot's web server, which stores them into an inbox.

The inbox here is a stand-in with the contract of the real one: `store` writes each update once
by its update_id and returns how many were new.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramConflictError

from bot.metrics import Metrics
from bot.web import SECRET_HEADER, bound_port, build_web_app, start_web, stop_web
from tests.emulator.server import Emulator
from tests.outbound_helpers import until

SECRET = "right-secret_0123456789"


@dataclass
class Inbox:
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    failures_left: int = 0
    calls: int = 0

    async def store(self, updates: list[dict[str, Any]]) -> int:
        self.calls += 1
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("database went away")
        new = [u for u in updates if u["update_id"] not in self.rows]
        for update in new:
            self.rows[update["update_id"]] = update
        return len(new)

    def texts(self) -> list[str]:
        return [u["message"]["text"] for _, u in sorted(self.rows.items()) if "message" in u]


async def ping() -> None:
    return None


@dataclass
class Site:
    inbox: Inbox
    metrics: Metrics
    url: str
    bot: Bot


@pytest.fixture
async def site(emulator: Emulator) -> AsyncIterator[Site]:
    inbox, metrics = Inbox(), Metrics()
    app = build_web_app(database=ping, store=inbox.store, secret=SECRET, metrics=metrics)
    runner = await start_web(app, "127.0.0.1", 0)
    bot = Bot(
        token=emulator.token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url)),
    )
    try:
        yield Site(inbox, metrics, f"http://127.0.0.1:{bound_port(runner)}/telegram", bot)
    finally:
        await bot.session.close()
        await stop_web(runner)


async def test_every_update_is_stored_once_in_order(site: Site, emulator: Emulator) -> None:
    assert await site.bot.set_webhook(site.url, secret_token=SECRET)
    ani, budi = emulator.user(101, "Ani"), emulator.user(102, "Budi")
    for n in range(5):
        await emulator.user_message(ani, text=f"ani {n}")
        await emulator.user_message(budi, text=f"budi {n}")
    await emulator.webhook_idle()
    assert site.inbox.texts() == [f"{who} {n}" for n in range(5) for who in ("ani", "budi")]
    assert site.metrics.value("paket_updates_received_total") == 10
    assert site.metrics.value("paket_webhook_refused_total") == 0
    info = await site.bot.get_webhook_info()
    assert info.url == site.url and info.pending_update_count == 0


async def test_a_wrong_secret_is_refused_until_the_webhook_is_set_right(
    site: Site, emulator: Emulator
) -> None:
    """Someone set the webhook with another secret (or none): nothing is stored, every attempt
    is refused and counted, and Telegram keeps the update, so nothing typed is lost."""
    ani = emulator.user(101, "Ani")
    for wrong in ("wrong-secret", None):
        await site.bot.set_webhook(site.url, secret_token=wrong)
        await emulator.user_message(ani, text=f"sent while the secret was {wrong}")
        await until(lambda: emulator.webhook is not None and emulator.webhook.errors >= 3)
        assert site.inbox.calls == 0 and site.inbox.rows == {}
        info = await site.bot.get_webhook_info()
        assert info.last_error_message == "Wrong response from the webhook: 403 Forbidden"
    assert site.metrics.value("paket_webhook_refused_total") >= 6

    await site.bot.set_webhook(site.url, secret_token=SECRET)
    await emulator.webhook_idle()
    assert site.inbox.texts() == [
        "sent while the secret was wrong-secret",
        "sent while the secret was None",
    ]


async def test_a_failed_store_is_delivered_again_and_stored_once(
    site: Site, emulator: Emulator
) -> None:
    site.inbox.failures_left = 2
    await site.bot.set_webhook(site.url, secret_token=SECRET)
    ani = emulator.user(101, "Ani")
    await emulator.user_message(ani, text="halo")
    await emulator.user_message(ani, text="kedua")
    await emulator.webhook_idle()
    assert site.inbox.texts() == ["halo", "kedua"]
    assert site.inbox.calls == 4  # two 500s, then each update once
    assert emulator.webhook is not None and emulator.webhook.errors == 2
    assert site.metrics.value("paket_updates_received_total") == 2


async def test_a_redelivered_update_is_a_no_op(site: Site, emulator: Emulator) -> None:
    await site.bot.set_webhook(site.url, secret_token=SECRET)
    ani = emulator.user(101, "Ani")
    await emulator.user_message(ani, text="sekali")
    await emulator.webhook_idle()
    await emulator.redeliver(emulator.last_update_id)
    await emulator.webhook_idle()
    assert site.inbox.texts() == ["sekali"]
    assert site.metrics.value("paket_updates_received_total") == 1


async def test_polling_is_refused_while_a_webhook_is_set(site: Site, emulator: Emulator) -> None:
    await site.bot.set_webhook(site.url, secret_token=SECRET)
    with pytest.raises(TelegramConflictError):
        await site.bot.get_updates(timeout=0)
    await site.bot.delete_webhook()
    assert await site.bot.get_updates(timeout=0) == []


async def test_a_request_straight_at_the_server_without_the_secret(site: Site) -> None:
    """Not through Telegram: someone who found the URL posts a forged update."""
    forged = {"update_id": 999, "message": {"message_id": 1, "text": "/start admin"}}
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "guess"}):
            async with http.post(site.url, json=forged, headers=headers) as resp:
                assert resp.status == 403
    assert site.inbox.calls == 0
    assert site.metrics.value("paket_webhook_refused_total") == 2
