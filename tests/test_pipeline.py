"""The running application's web server, webhook mode, Telegram away at start-up, and the one
polling instance among several on PostgreSQL: the real `App` against the emulator."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.app import App
from bot.config import Settings
from bot.metrics import METRICS
from bot.web import SECRET_HEADER, bound_port
from storage.models import Person as PersonRow
from tests.outbound_helpers import until

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def metric(text: str, name: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return 0.0


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.text()


async def test_a_running_bot_serves_healthz_and_metrics(bot, person) -> None:
    run = await bot()
    assert run.app.web is not None
    base = f"http://127.0.0.1:{bound_port(run.app.web)}"
    before = METRICS.value("paket_updates_handled_total")
    rina = person("Rina")
    await rina.send("/start")
    assert rina.saw("PAKET")

    status, body = await get(f"{base}/healthz")
    assert status == 200, body
    assert '"database": true' in body.replace("'", '"') or '"database":true' in body
    status, text = await get(f"{base}/metrics")
    assert status == 200
    assert metric(text, "paket_updates_handled_total") >= before + 1
    assert metric(text, "paket_updates_received_total") >= 1
    assert metric(text, "paket_inbox_depth") == 0
    # No webhook route in polling mode: nobody can write into the inbox over HTTP.
    async with aiohttp.ClientSession() as http, http.post(f"{base}/telegram", json={}) as resp:
        assert resp.status in (404, 405)


async def test_webhook_mode_stores_through_the_secret_and_answers(
    settings: Settings, emulator, clock, engine, person, sessions
) -> None:
    from tests.inbox_helpers import settle_inbox

    port = free_port()
    hooked = settings.model_copy(
        update={
            "webhook_url": f"http://127.0.0.1:{port}/telegram/hook",
            "webhook_secret": None,  # generated once and kept in the database
            "web_port": port,
        }
    )
    emulator.settlers.append(settle_inbox(sessions))
    app = App(hooked, clock=clock)
    task = asyncio.create_task(app.run_polling(handle_signals=False))
    try:
        await asyncio.wait_for(app.wait_ready(), 20)
        assert emulator.webhook is not None and emulator.webhook.secret
        assert emulator.webhook.url == hooked.webhook_url
        rina = person("Rina")
        await rina.send("/start")
        assert rina.saw("PAKET")
        async with sessions() as session:
            assert (await session.execute(select(PersonRow.full_name))).scalars().all() == ["Rina"]

        # A forged request, without the secret and with a wrong one: refused, nothing written.
        refused = METRICS.value("paket_webhook_refused_total")
        forged = {"update_id": 999_999, "message": {"message_id": 1, "date": 0, "text": "/start"}}
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {SECRET_HEADER: "wrong"}):
                async with http.post(hooked.webhook_url, json=forged, headers=headers) as resp:
                    assert resp.status == 403
        assert METRICS.value("paket_webhook_refused_total") == refused + 2
        from storage.models import Inbox

        async with sessions() as session:
            assert await session.get(Inbox, 999_999) is None
        # The secret survives a restart: it was kept in the database, not made up again.
        secret = emulator.webhook.secret
    finally:
        await app.stop()
        await asyncio.wait_for(task, 20)
    app = App(hooked, clock=clock)
    task = asyncio.create_task(app.run_polling(handle_signals=False))
    try:
        await asyncio.wait_for(app.wait_ready(), 20)
        assert emulator.webhook is not None and emulator.webhook.secret == secret
        await rina.send("/help")
        assert rina.last.text
    finally:
        await app.stop()
        await asyncio.wait_for(task, 20)
    assert not emulator.refusals


async def test_telegram_away_at_start_up_then_back(
    settings: Settings, emulator, clock, engine, sessions, person, caplog
) -> None:
    """getMe fails twice (a 502, then a 500): the bot says so in one line each time, waits,
    and starts once Telegram answers; nobody gets a traceback."""
    from tests.inbox_helpers import settle_inbox

    emulator.settlers.append(settle_inbox(sessions))
    emulator.fail_next("getMe", 502, "Bad Gateway")
    emulator.fail_next("getMe", 500, "Internal Server Error")
    app = App(settings, clock=clock)
    task = asyncio.create_task(app.run_polling(handle_signals=False))
    try:
        await asyncio.wait_for(app.wait_ready(), 30)
        await emulator.idle()
        lines = [r.getMessage() for r in caplog.records if "Telegram" in r.getMessage()]
        assert sum("trying again" in line or "mencoba lagi" in line for line in lines) == 2
        assert not [r for r in caplog.records if r.exc_info]
        rina = person("Rina")
        await rina.send("/start")
        assert rina.saw("PAKET")
    finally:
        await app.stop()
        await asyncio.wait_for(task, 20)


def process_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEST_")}
    env.update(
        BOT_TOKEN=settings.bot_token,
        DATABASE_URL=settings.database_url,
        TELEGRAM_API_URL=settings.telegram_api_url,
        POLLING_TIMEOUT="2",
        WEB_PORT="0",
        PYTHONPATH=str(ROOT),
    )
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    return env


async def start_process(settings: Settings) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=process_env(settings),
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_kill_the_polling_leader_and_another_instance_takes_over(
    settings: Settings, emulator, person, db_url, sessions
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several instances share PostgreSQL; SQLite refuses a second (tested below)")
    from tests.inbox_helpers import settle_inbox

    emulator.settlers.append(settle_inbox(sessions))
    first = await start_process(settings)
    second = None
    try:
        await emulator.idle(within=90)
        rina = person("Rina")
        await rina.send("/start")  # answered: the first instance leads and works
        assert rina.saw("PAKET")
        second = await start_process(settings)
        await asyncio.sleep(3)  # the second waits for the lock, working the inbox meanwhile
        first.send_signal(signal.SIGKILL)
        await first.wait()
        await rina.send("/help")  # within the idle wait: the second took over the polling
        assert len(rina.chat) >= 2 and rina.chat[-1].text
        assert not emulator.refusals
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()


async def test_a_second_instance_on_one_sqlite_file_is_refused_in_one_line(
    settings: Settings, emulator, db_url
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("only SQLite has one instance per file")
    first = await start_process(settings)
    try:
        await emulator.idle(within=60)
        second = await start_process(settings)
        _, err = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 1
        lines = err.decode().strip().splitlines()
        assert len(lines) == 1 and "sudah berjalan" in lines[0], lines
        assert first.returncode is None  # the first goes on
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()


async def test_unhandled_webhook_url_port_clash_is_one_line(settings: Settings) -> None:
    """Two bots on one web port: the second says which port in one line, no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        clash = settings.model_copy(update={"web_port": port})
        app = App(clash)
        from bot.config import ConfigError

        with pytest.raises(ConfigError):
            await asyncio.wait_for(app.run_polling(handle_signals=False), 30)
        await until(lambda: app.web is None, within=5)


async def test_the_operators_reads_answer_while_the_bot_holds_the_write_lock(
    settings: Settings, bot, emulator, person, db_url
) -> None:
    """On SQLite the bot holds the one write lock from an update's first write to its commit.
    While a reply of the bot is held back by Telegram (the lock held all that time), the
    operator's `paket-bot people` and `paket-bot inbox` still answer at once."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's single writer lock")
    await bot()
    rina = person("Rina")
    await rina.send("/start")
    hold = emulator.hold_next("sendMessage")
    await emulator.user_message(rina.user, text="/help")
    await asyncio.wait_for(hold.arrived.wait(), 30)
    try:
        env = process_env(settings)
        for command in (("people",), ("inbox",)):
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                *command,
                env=env,
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(process.communicate(), 60)
            # Telegram holds the reply until the command has ended: had the command needed the
            # bot's lock, it would have waited out SQLite's busy timeout (10 s) and failed with
            # "database is locked". No timing is asserted: a loaded machine starts Python slowly.
            assert process.returncode == 0, err.decode()
            if command == ("people",):
                assert "Rina" in out.decode()
    finally:
        hold.release.set()
    await emulator.idle()
    assert rina.last.text


async def test_the_operators_invite_writes_while_telegram_holds_a_reply(
    settings: Settings, bot, emulator, person, sessions, db_url
) -> None:
    """A new person's /start writes their row. Telegram holds the reply for as long as the
    operator's `paket-bot invite` takes: the invite, itself a write, is not kept waiting,
    because the reply leaves only after the update's transaction committed. Then the held
    reply arrives, once."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's single writer lock")
    from datetime import UTC, datetime

    from tests.seed import kendal

    await kendal(sessions, datetime.now(UTC))
    await bot()
    rina = person("Rina")
    hold = emulator.hold_next("sendMessage")
    await emulator.user_message(rina.user, text="/start")
    await asyncio.wait_for(hold.arrived.wait(), 30)
    try:
        async with sessions() as session:
            row = (
                await session.execute(
                    select(PersonRow).where(PersonRow.telegram_id == rina.user.id)
                )
            ).scalar_one_or_none()
        assert row is not None  # committed before the reply went out
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "invite",
            "--role",
            "pokja",
            env=process_env(settings),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()
        # Telegram holds the reply until the command has ended: a lock held across the reply
        # would have made the invite wait out SQLite's busy timeout (10 s) and fail with
        # "database is locked", as it did before replies were held until the commit.
        assert "/start " in out.decode()
    finally:
        hold.release.set()
    await emulator.idle()
    assert len([m for m in rina.chat if m.text]) == 1
