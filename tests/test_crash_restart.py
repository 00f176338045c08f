"""The real `paket-bot run` process, killed with SIGKILL in the middle of handling an update:
each stored update's effect is applied once after the restart."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.config import Settings
from storage.models import Proposal
from storage.views import Role
from tests.emulator.server import Emulator
from tests.inbox_helpers import inbox_row, inbox_statuses, settle_inbox
from tests.outbound_helpers import followers, queue_announcement, until, until_delivered
from tests.people import Person
from tests.seed import BLUMAH, invite, kendal, round_

ROOT = Path(__file__).resolve().parents[1]


async def start_process(
    settings: Settings, emulator: Emulator, **extra: str
) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEST_")}
    env.update(extra)
    env.update(
        BOT_TOKEN=settings.bot_token,
        DATABASE_URL=settings.database_url,
        TELEGRAM_API_URL=emulator.base_url,
        POLLING_TIMEOUT="5",
        # Another process takes over a dead worker's update after this (PostgreSQL; SQLite
        # releases every claim at start, being the only worker).
        INBOX_LEASE="2",
        # Any free port: a restarted process must not wait for the old one's.
        WEB_PORT="0",
        PYTHONPATH=str(ROOT),
    )
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await emulator.idle(within=90)
    return process


async def test_kill_mid_update_then_restart_loses_and_repeats_nothing(
    settings, emulator, sessions, person
):
    emulator.settlers.append(settle_inbox(sessions))
    now = datetime.now(UTC)
    district = await kendal(sessions, now)
    await round_(sessions, district, now)
    code = await invite(sessions, district, Role.PAKEM, now, village=BLUMAH)
    process = await start_process(settings, emulator)
    try:
        siti: Person = person("Siti", "id")
        await siti.send(f"/start {code}")
        await siti.press("📝 Usulan baru")
        await siti.send("Sumur bor RT 02")
        await siti.press("Air bersih")
        await siti.send("Dusun Sidomulyo")
        await siti.send("/skip")
        await siti.send("Warga kekurangan air bersih saat kemarau.")
        # The answer "120" is being handled when the process dies: its reply is held back.
        hold = emulator.hold_next("sendMessage")
        await emulator.user_message(siti.user, text="120")
        await asyncio.wait_for(hold.arrived.wait(), 30)
        # Typed while the bot dies: stored in the inbox or still at Telegram, never lost.
        await emulator.user_message(siti.user, text="45")
        update_120 = emulator.last_update_id - 1
        process.kill()
        await process.wait()
        hold.release.set()
        assert (await inbox_row(sessions, update_120)).status == "handling"
        process = await start_process(settings, emulator)
        # The inbox handed "120" out again; it was applied once, then "45" after it.
        row = await inbox_row(sessions, update_120)
        assert (row.status, row.attempts) == ("done", 2)
        assert sum(m.text.count("Dari 120 KK itu") for m in siti.chat) == 1
        assert any("Anggaran" in m.text for m in siti.chat)
        assert await inbox_statuses(sessions) == {"done": emulator.last_update_id}
        async with sessions() as session:
            [proposal] = (await session.execute(select(Proposal))).scalars().all()
        assert (proposal.households, proposal.poor_households, proposal.step) == (120, 45, "budget")
        assert proposal.title == "Sumur bor RT 02"
        assert not emulator.refusals
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_kill_mid_broadcast_duplicates_at_most_the_rows_in_flight(
    settings, emulator, sessions
):
    """The documented bound: a crash re-sends at most OUTBOX_BATCH rows; nobody is missed."""
    now = datetime.now(UTC)
    district = await kendal(sessions, now)
    users = await followers(sessions, emulator, BLUMAH, 300, 70_000, now)
    batch = 10
    env = {"SEND_RATE": "60", "OUTBOX_BATCH": str(batch), "OUTBOX_LEASE": "1"}
    process = await start_process(settings, emulator, **env)
    try:
        broadcast = await queue_announcement(sessions, emulator, district.id, "Rapat", now)
        await until(lambda: sum(emulator.delivered.values()) >= 100, within=60, what="100 sent")
        process.kill()
        await process.wait()
        sent_before = sum(emulator.delivered.values())
        assert sent_before < 300, "the broadcast finished before the kill; nothing was tested"
        process = await start_process(settings, emulator, **env)
        final = await until_delivered(sessions, broadcast, within=90)
        assert final.sent == 300
        copies = [emulator.delivered[u.id] for u in users]
        assert min(copies) == 1  # nobody missed
        assert sum(c - 1 for c in copies) <= batch  # duplicates bounded by the rows in flight
        assert not emulator.refusals
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
