"""Benchmark: many PAKEM members fill whole proposals at once, through the real dispatcher.

    python -m tests.bench.updates [--members 500] [--pg URL]

Prints updates per second, p50 and p99 handling latency and peak RSS, for our bot and, in the
same run and the same way, for a bare aiogram echo bot; then the ratio between them. The Bot API
is answered in memory by a null session, so the figures are the bot's own cost, not the network.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Message, Update

from bot.app import build_dispatcher
from bot.config import Settings
from bot.i18n import build_i18n
from storage import migrate
from storage.db import create_engine, session_factory
from storage.views import Role
from tests.seed import kendal, round_

TOKEN = "123456789:BENCHbenchBENCHbenchBENCHbench12345"
IN_HAND = 4
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}


class NullSession(BaseSession):
    """Answers every Bot API call in memory, keeping the last keyboard per chat."""

    def __init__(self) -> None:
        super().__init__()
        self.ids = itertools.count(1)
        self.keyboards: dict[int, list[tuple[str, str]]] = {}
        self.calls = 0

    async def close(self) -> None:
        return None

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> TelegramType:
        self.calls += 1
        name = type(method).__name__
        if name in (
            "SendMessage",
            "EditMessageText",
            "EditMessageReplyMarkup",
            "SendPhoto",
            "SendDocument",
        ):
            chat_id = int(getattr(method, "chat_id", 0) or 0)
            rows = getattr(getattr(method, "reply_markup", None), "inline_keyboard", None) or []
            buttons = [(b.text, b.callback_data or "") for row in rows for b in row]
            if buttons:
                self.keyboards[chat_id] = buttons
            text = getattr(method, "text", "")
            result = {
                "message_id": next(self.ids),
                "date": 0,
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": text if isinstance(text, str) else "",
            }
            return Message.model_validate(result, context={"bot": bot})  # type: ignore[return-value]
        if name == "GetMe":
            return method.__returning__.model_validate(BOT_USER)  # type: ignore[attr-defined, no-any-return]
        return True  # type: ignore[return-value]

    async def stream_content(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError


class Member:
    """One simulated person: builds updates the way Telegram would and presses by label."""

    update_ids = itertools.count(1)
    message_ids = itertools.count(10**6)

    def __init__(self, user_id: int, session: NullSession) -> None:
        self.user = {
            "id": user_id,
            "is_bot": False,
            "first_name": f"M{user_id}",
            "language_code": "id",
        }
        self.chat = {"id": user_id, "type": "private", "first_name": f"M{user_id}"}
        self.session = session

    def text(self, text: str) -> Update:
        message: dict[str, Any] = {
            "message_id": next(self.message_ids),
            "date": 0,
            "chat": self.chat,
            "from": self.user,
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return Update.model_validate({"update_id": next(self.update_ids), "message": message})

    def location(self) -> Update:
        message = {
            "message_id": next(self.message_ids),
            "date": 0,
            "chat": self.chat,
            "from": self.user,
            "location": {"latitude": -7.0, "longitude": 110.1},
        }
        return Update.model_validate({"update_id": next(self.update_ids), "message": message})

    def press(self, label: str) -> Update:
        buttons = dict(self.session.keyboards.get(self.user["id"], []))
        data = buttons.get(label) or next(
            (d for t, d in buttons.items() if t.startswith(label)), "x"
        )
        query = {
            "id": str(next(self.update_ids)),
            "from": self.user,
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": self.chat,
                "from": BOT_USER,
                "text": "…",
            },
        }
        return Update.model_validate({"update_id": next(self.update_ids), "callback_query": query})


def script(code: str) -> list[tuple[str, str]]:
    """A whole proposal, as a PAKEM member types and taps it."""
    steps = [
        ("text", f"/start {code}"),
        ("press", "📝 Usulan baru"),
        ("text", "Betonisasi jalan RT 03"),
        ("press", "Jalan dan gang"),
        ("text", "Dusun Krajan RT 03"),
        ("location", ""),
        ("text", "Jalan tanah becek saat hujan, anak sekolah sulit lewat."),
        ("text", "120"),
        ("text", "45"),
    ]
    for item, qty, price in (("Semen", "50 sak", "65.000"), ("Pasir", "12,5 m3", "1,5 juta")):
        steps += [
            ("press", "➕ Tambah baris"),
            ("text", item),
            ("text", qty),
            ("text", price),
            ("press", "Swadaya masyarakat"),
        ]
    steps += [("press", "✅ Selesai"), ("press", "✅ Selesai"), ("press", "📨 Kirim usulan")]
    return steps


def echo_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    @dp.message()
    async def other(message: Message) -> None:
        await message.answer("ok")

    @dp.callback_query()
    async def pressed(callback: CallbackQuery) -> None:
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.answer(callback.data or "")

    return dp


async def drive(
    dp: Dispatcher, bot: Bot, session: NullSession, codes: list[str], concurrent: bool = True
) -> tuple[list[float], float]:
    """Feed every member's script; all members at once, or one after another.

    At once, latency includes waiting behind the other members' updates (the dispatcher, like
    polling, works through them); one after another, it is the handling time alone.
    """
    latencies: list[float] = []
    # Like a webhook server's worker limit: at most this many updates in hand; the rest wait
    # their turn (counted in their latency) instead of each holding a database connection.
    in_hand = asyncio.Semaphore(IN_HAND)

    async def one(member: Member, code: str) -> None:
        for kind, arg in script(code):
            update = (
                member.text(arg)
                if kind == "text"
                else member.location()
                if kind == "location"
                else member.press(arg)
            )
            started = time.perf_counter()
            async with in_hand:
                await dp.feed_update(bot, update)
            latencies.append(time.perf_counter() - started)

    base = 10_000 if concurrent else 500_000
    members = [Member(base + i, session) for i in range(len(codes))]
    started = time.perf_counter()
    if concurrent:
        await asyncio.gather(*(one(m, c) for m, c in zip(members, codes, strict=True)))
    else:
        for member, code in zip(members, codes, strict=True):
            await one(member, code)
    return latencies, time.perf_counter() - started


def report(label: str, latencies: list[float], wall: float) -> dict[str, float]:
    ordered = sorted(latencies)
    figures = {
        "updates_per_s": len(latencies) / wall,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(
        f"{label:<28} {len(latencies):>6} updates  {figures['updates_per_s']:>8.1f} upd/s  "
        f"p50 {figures['p50_ms']:>7.2f} ms  p99 {figures['p99_ms']:>8.2f} ms  "
        f"peak RSS {figures['peak_rss_mb']:>6.1f} MB"
    )
    return figures


async def bench_paket(url: str, members: int, sequential: int) -> list[dict[str, float]]:
    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    district = await kendal(sessions, now)
    await round_(sessions, district, now, days=30)
    from bot.people import create_invite

    villages = []
    async with sessions() as s:
        from storage import queries

        villages = await queries.villages_of(s, district.id)
    codes = []
    async with sessions() as s, s.begin():
        for i in range(members + sequential):
            created = await create_invite(
                s, district, Role.PAKEM, now, days=7, village_kode=villages[i % len(villages)]
            )
            codes.append(created.code)
    settings = Settings(bot_token=TOKEN, database_url=url, _env_file=None)  # type: ignore[call-arg]
    null = NullSession()
    bot = Bot(TOKEN, session=null)
    dp = build_dispatcher(settings, sessions, build_i18n("id"))
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    latencies, wall = await drive(dp, bot, null, codes[:members])
    figures = [report(f"paket-bot ({backend}), at once", latencies, wall)]
    latencies, wall = await drive(dp, bot, null, codes[members:], concurrent=False)
    figures.append(report(f"paket-bot ({backend}), in turn", latencies, wall))
    async with sessions() as s:
        from sqlalchemy import func, select

        from storage.models import Proposal

        submitted = (
            await s.execute(
                select(func.count()).select_from(Proposal).where(Proposal.status == "submitted")
            )
        ).scalar_one()
    print(f"{'':<34} {submitted} of {members + sequential} proposals submitted")
    await engine.dispose()
    return figures


async def bench_echo(members: int, sequential: int) -> list[dict[str, float]]:
    null = NullSession()
    bot = Bot(TOKEN, session=null)
    dp = echo_dispatcher()
    latencies, wall = await drive(dp, bot, null, ["X"] * members)
    figures = [report("bare aiogram echo bot, at once", latencies, wall)]
    latencies, wall = await drive(dp, bot, null, ["X"] * sequential, concurrent=False)
    figures.append(report("bare aiogram echo bot, in turn", latencies, wall))
    return figures


async def main_async(args: argparse.Namespace) -> None:
    echo = await bench_echo(args.members, args.sequential)
    with tempfile.TemporaryDirectory() as tmp:
        urls = [f"sqlite+aiosqlite:///{os.path.join(tmp, 'bench.db')}"]
        if args.pg:
            urls.append(args.pg)
        for url in urls:
            if not url.startswith("sqlite"):
                url = await fresh_pg(url)
            ours = await bench_paket(url, args.members, args.sequential)
            for mode, mine, theirs in zip(("at once", "in turn"), ours, echo, strict=True):
                print(
                    f"{'':<34} {mode}: {mine['updates_per_s'] / theirs['updates_per_s']:.3f} x "
                    f"echo's throughput, {mine['p99_ms'] / theirs['p99_ms']:.1f} x echo's p99"
                )


async def fresh_pg(url: str) -> str:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"paket_bench_{int(time.time())}"
    admin = create_engine(url)
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500, help="members filling at once")
    parser.add_argument(
        "--sequential",
        type=int,
        default=20,
        help="members filling one after another, for latency without queueing",
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="PostgreSQL URL (default: TEST_DATABASE_URL)",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
