"""Benchmark: the delivery engine against the Bot API emulator (figures, not a timed test).

    python -m tests.bench.broadcast [--paced 1000] [--fast 20000] [--big 100000]

1. Paced: the emulator enforces Telegram's limits (30/s overall, 1/s per chat) and the sender
   runs at its configured pace (25/s); prints the achieved rate as a fraction of the pace.
2. Unlimited: no limit anywhere; prints sends per second for the engine (database claim,
   render, HTTP send, batched result writes) and, measured in the same run against the same
   emulator, for a bare loop of aiogram `send_message` calls with the same concurrency: the
   baseline that shows the engine's own overhead.
3. Memory: peak RSS of a sender process that queues and delivers to 100,000 followers,
   compared with 1,000.

The emulator runs in its own process, and each measurement in a fresh process, so peak RSS
and CPU belong to the engine alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456789:TESTTOKENabcdefghijklmnopqrstuvwxyz1"
FIRST_CHAT = 1_000_000


async def serve_emulator(limits: bool) -> None:
    from tests.emulator.server import Emulator

    emulator = Emulator(TOKEN)
    emulator.keep_messages = False
    emulator.any_chat = True
    if limits:
        emulator.limits = (30, 1)
    await emulator.start()
    print(emulator.port, flush=True)
    await asyncio.Event().wait()


def start_emulator(limits: bool) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.bench.broadcast",
            "emulator",
            *(["--limits"] if limits else []),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    return process, f"http://127.0.0.1:{port}"


async def stats(base: str) -> dict[str, int]:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/_stats") as response:
        return await response.json()


async def seed(url: str, followers: int) -> int:
    """Kendal, and `followers` people following one village; returns the district id."""
    from sqlalchemy import insert

    from storage import migrate
    from storage.db import create_engine, session_factory
    from storage.models import Follow, Person
    from tests.seed import BLUMAH, kendal

    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    district = await kendal(sessions, now)
    step = 5000
    async with sessions() as session, session.begin():
        for start in range(0, followers, step):
            ids = range(start, min(followers, start + step))
            await session.execute(
                insert(Person),
                [
                    {
                        "id": n + 1,
                        "telegram_id": FIRST_CHAT + n,
                        "full_name": f"Warga {n}",
                        "locale": "id" if n % 3 else "en",
                        "created_at": now,
                        "last_seen_at": now,
                        "announcements_muted": False,
                    }
                    for n in ids
                ],
            )
            await session.execute(
                insert(Follow),
                [{"person_id": n + 1, "village_kode": BLUMAH, "created_at": now} for n in ids],
            )
    await engine.dispose()
    return district.id


async def engine_run(url: str, base: str, followers: int, rate: float) -> dict[str, float]:
    """One sender process: seed, queue one announcement, deliver it, report."""
    from bot.app import build_bot
    from bot.config import Settings
    from bot.i18n import build_i18n
    from bot.sender import Sender
    from handlers.outbound import OutboundRenderer
    from storage.db import create_engine, is_sqlite, session_factory
    from tests.outbound_helpers import counts, queue_announcement

    district_id = await seed(url, followers)
    settings = Settings(
        bot_token=TOKEN,
        database_url=url,
        telegram_api_url=base,
        send_rate=rate,
        outbox_batch=200 if rate == 0 else 50,
        _env_file=None,  # type: ignore[call-arg]
    )
    engine = create_engine(url)
    sessions = session_factory(engine)
    sender = Sender(
        build_bot(settings, for_sender=True),
        sessions,
        settings,
        OutboundRenderer(build_i18n()),
        only_sender=is_sqlite(url),
    )
    before = await stats(base)

    class Quiet:
        def user(self, *args: object, **kwargs: object) -> None:
            return None

    broadcast = await queue_announcement(
        sessions,
        Quiet(),  # type: ignore[arg-type]
        district_id,
        "Musyawarah desa Jumat 19.00",
        datetime.now(UTC),
        author_telegram_id=FIRST_CHAT - 1,
    )
    task = asyncio.create_task(sender.run())
    started = time.perf_counter()
    first_seen: float | None = None
    while True:
        await asyncio.sleep(0.05 if followers <= 2000 else 0.5)
        now_stats = await stats(base)
        if first_seen is None and now_stats["delivered"] > before["delivered"]:
            first_seen = time.perf_counter()
        if now_stats["delivered"] - before["delivered"] >= followers:
            break
    finished = time.perf_counter()
    sender.stop()
    await task
    final = await counts(sessions, broadcast)
    await sender.bot.session.close()
    await engine.dispose()
    after = await stats(base)
    return {
        "elapsed": finished - (first_seen or started),
        "elapsed_from_queue": finished - started,
        "sent": final.sent,
        "failed": final.failed,
        "duplicates": after["duplicates"] - before["duplicates"],
        "flood_refusals": after["flood_refusals"] - before["flood_refusals"],
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


async def baseline_run(base: str, count: int, concurrency: int) -> dict[str, float]:
    """Bare aiogram sends to the same emulator, same concurrency: no database, no rendering."""
    from bot.app import build_bot
    from bot.config import Settings

    settings = Settings(
        bot_token=TOKEN, telegram_api_url=base, outbox_batch=concurrency, _env_file=None
    )  # type: ignore[call-arg]
    bot = build_bot(settings, for_sender=True)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(FIRST_CHAT + 500_000 + n)

    async def worker() -> None:
        while not queue.empty():
            chat = queue.get_nowait()
            await bot.send_message(chat, "📢 <b>Pengumuman</b>\n\nMusyawarah desa Jumat 19.00")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await bot.session.close()
    return {"elapsed": elapsed, "sent": count}


def child(args: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.broadcast", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def db_url(tmp: str, name: str) -> str:
    return f"sqlite+aiosqlite:///{tmp}/{name}.db"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "role", nargs="?", default="all", choices=["all", "emulator", "engine", "baseline"]
    )
    parser.add_argument("--limits", action="store_true")
    parser.add_argument("--url")
    parser.add_argument("--base")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=25)
    parser.add_argument("--paced", type=int, default=1000)
    parser.add_argument("--fast", type=int, default=20000)
    parser.add_argument("--big", type=int, default=100000)
    parser.add_argument("--small", type=int, default=1000)
    args = parser.parse_args()
    if args.role == "emulator":
        asyncio.run(serve_emulator(args.limits))
        return
    if args.role == "engine":
        print(json.dumps(asyncio.run(engine_run(args.url, args.base, args.count, args.rate))))
        return
    if args.role == "baseline":
        print(json.dumps(asyncio.run(baseline_run(args.base, args.count, 200))))
        return

    with tempfile.TemporaryDirectory() as tmp:
        print(f"machine: {os.cpu_count()} cores; SQLite in {tmp}\n")
        limited, limited_base = start_emulator(limits=True)
        try:
            paced = child(
                [
                    "engine",
                    "--url",
                    db_url(tmp, "paced"),
                    "--base",
                    limited_base,
                    "--count",
                    str(args.paced),
                    "--rate",
                    "25",
                ]
            )
        finally:
            limited.terminate()
        rate = paced["sent"] / paced["elapsed"]
        print(f"1. paced: emulator 30/s overall and 1/s per chat; pace 25/s; {args.paced} people")
        print(f"   {paced['sent']:.0f} sent in {paced['elapsed']:.1f} s = {rate:.2f}/s")
        print(f"   = {rate / 25:.3f} of the pace (target >= 0.95)")
        refused, dupes = paced["flood_refusals"], paced["duplicates"]
        print(f"   flood refusals by the emulator: {refused:.0f}; duplicates: {dupes:.0f}\n")

        free, free_base = start_emulator(limits=False)
        try:
            base = child(["baseline", "--base", free_base, "--count", str(args.fast)])
            fast = child(
                [
                    "engine",
                    "--url",
                    db_url(tmp, "fast"),
                    "--base",
                    free_base,
                    "--count",
                    str(args.fast),
                    "--rate",
                    "0",
                ]
            )
            small = child(
                [
                    "engine",
                    "--url",
                    db_url(tmp, "small"),
                    "--base",
                    free_base,
                    "--count",
                    str(args.small),
                    "--rate",
                    "0",
                ]
            )
            big = child(
                [
                    "engine",
                    "--url",
                    db_url(tmp, "big"),
                    "--base",
                    free_base,
                    "--count",
                    str(args.big),
                    "--rate",
                    "0",
                ]
            )
        finally:
            free.terminate()
        base_rate = base["sent"] / base["elapsed"]
        fast_rate = fast["sent"] / fast["elapsed"]
        print(f"2. unlimited, {args.fast} recipients, SQLite")
        print(f"   baseline, bare aiogram send_message, 200 at once: {base_rate:.0f}/s")
        print(f"   engine: {fast['sent']:.0f} sent in {fast['elapsed']:.1f} s = {fast_rate:.0f}/s")
        print(f"   (target >= 500/s); ratio to the baseline {fast_rate / base_rate:.2f}")
        with_queue = fast["sent"] / fast["elapsed_from_queue"]
        print(f"   counting the queueing too: {with_queue:.0f}/s")
        print(f"   duplicates {fast['duplicates']:.0f}, failed {fast['failed']:.0f}\n")
        grown = big["rss_mb"] - small["rss_mb"]
        print("3. peak RSS of the sender process, SQLite")
        print(f"   {args.small} followers: {small['rss_mb']:.1f} MB")
        print(f"   {args.big} followers: {big['rss_mb']:.1f} MB")
        print(f"   difference {grown:.1f} MB (target < 30 MB)")
        print(f"   ({args.big} delivered at {big['sent'] / big['elapsed']:.0f}/s)")


if __name__ == "__main__":
    main()
