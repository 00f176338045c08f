"""Benchmark: many PAKEM members fill whole proposals at once, through the real dispatcher.

    python -m tests.bench.updates [--members 500] [--pg URL] [--flood 2000] [--no-pipeline]

Prints updates per second, p50 and p99 handling latency and peak RSS, for our bot and, in the
same run and the same way, for a bare aiogram echo bot; then the cost per update against echo's,
the SQL statements of every update of one member's proposal, and, through the whole pipeline
(poller -> inbox -> workers): 1 and 4 workers and two processes on PostgreSQL, and the p99
reply time of the members while one chat floods. The Bot API is answered in memory by a null
session, so the figures are the bot's own cost, not the network.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Message, Update
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import add_reply_middlewares, build_dispatcher
from bot.config import Settings
from bot.i18n import build_i18n
from bot.workers import Poller, Workers
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

    def raw(self, kind: str, arg: str) -> dict[str, Any]:
        """The update as Telegram's JSON, for the inbox."""
        if kind == "press":
            return self._press(arg)
        message: dict[str, Any] = {
            "message_id": next(self.message_ids),
            "date": 0,
            "chat": self.chat,
            "from": self.user,
        }
        if kind == "location":
            message["location"] = {"latitude": -7.0, "longitude": 110.1}
        else:
            message["text"] = arg
            if arg.startswith("/"):
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": len(arg.split()[0])}
                ]
        return {"update_id": next(self.update_ids), "message": message}

    def update(self, kind: str, arg: str) -> Update:
        return Update.model_validate(self.raw(kind, arg))

    def _press(self, label: str) -> dict[str, Any]:
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
        return {"update_id": next(self.update_ids), "callback_query": query}


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


class Statements:
    """Counts the SQL statements an engine sends (BEGIN, which SQLite gets as a statement and
    PostgreSQL does not, left out), for the statements-per-update figures."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.n = 0

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _count(*args: Any) -> None:
            statement: str = args[2]
            if not statement.lstrip().upper().startswith("BEGIN"):
                self.n += 1


def step_label(kind: str, arg: str) -> str:
    if kind == "text" and arg.startswith("/start"):
        return "/start with invite"
    return f"{kind} {arg}"[:28]


async def drive(
    dp: Dispatcher,
    bot: Bot,
    session: NullSession,
    codes: list[str],
    concurrent: bool = True,
    statements: Statements | None = None,
    per_step: list[tuple[str, int]] | None = None,
) -> tuple[list[float], float]:
    """Feed every member's script; all members at once, or one after another.

    At once, latency includes waiting behind the other members' updates (the dispatcher, like
    polling, works through them); one after another, it is the handling time alone, and
    `per_step` gets the statements each update of the first member sent.
    """
    latencies: list[float] = []
    # Like a webhook server's worker limit: at most this many updates in hand; the rest wait
    # their turn (counted in their latency) instead of each holding a database connection.
    in_hand = asyncio.Semaphore(IN_HAND)

    async def one(member: Member, code: str, record: bool) -> None:
        for kind, arg in script(code):
            update = member.update(kind, arg)
            before = statements.n if statements else 0
            started = time.perf_counter()
            async with in_hand:
                await dp.feed_update(bot, update)
            latencies.append(time.perf_counter() - started)
            if record and statements is not None and per_step is not None:
                per_step.append((step_label(kind, arg), statements.n - before))

    base = 10_000 if concurrent else 500_000
    members = [Member(base + i, session) for i in range(len(codes))]
    started = time.perf_counter()
    if concurrent:
        await asyncio.gather(*(one(m, c, False) for m, c in zip(members, codes, strict=True)))
    else:
        for i, (member, code) in enumerate(zip(members, codes, strict=True)):
            await one(member, code, i == 0)
    return latencies, time.perf_counter() - started


def p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


def report(label: str, latencies: list[float], wall: float) -> dict[str, float]:
    figures = {
        "updates_per_s": len(latencies) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": p99(latencies) * 1000,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(
        f"{label:<44} {len(latencies):>6} updates  {figures['updates_per_s']:>8.1f} upd/s  "
        f"p50 {figures['p50_ms']:>7.2f} ms  p99 {figures['p99_ms']:>8.2f} ms  "
        f"peak RSS {figures['peak_rss_mb']:>6.1f} MB",
        flush=True,
    )
    return figures


def report_statements(per_step: list[tuple[str, int]]) -> None:
    """Statements per update, by step of the wizard and by update kind."""
    wizard = per_step[1:-1]  # neither the /start with the invite nor the final submission
    print(f"{'':<4}SQL statements per update (one member, in turn):")
    for label, n in per_step:
        print(f"{'':<8}{label:<30} {n:>3}")
    kinds: dict[str, list[int]] = {}
    for label, n in per_step:
        kinds.setdefault(label.split()[0] if not label.startswith("/") else "/start", []).append(n)
    by_kind = ", ".join(
        f"{kind} {statistics.mean(ns):.1f} (max {max(ns)})" for kind, ns in kinds.items()
    )
    print(f"{'':<8}mean by kind: {by_kind}")
    print(
        f"{'':<8}wizard step: mean {statistics.mean(n for _, n in wizard):.1f}, "
        f"max {max(n for _, n in wizard)} (target ≤ 5)",
        flush=True,
    )


async def prepare(url: str, invites: int) -> tuple[AsyncEngine, Any, list[str]]:
    """A district with an open round and `invites` PAKEM invites to redeem."""
    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    district = await kendal(sessions, now)
    await round_(sessions, district, now, days=30)
    from bot.people import create_invite
    from storage import queries

    async with sessions() as s:
        villages = await queries.villages_of(s, district.id)
    codes = []
    async with sessions() as s, s.begin():
        for i in range(invites):
            created = await create_invite(
                s, district, Role.PAKEM, now, days=7, village_kode=villages[i % len(villages)]
            )
            codes.append(created.code)
    return engine, sessions, codes


async def submitted(sessions: Any) -> int:
    from sqlalchemy import func, select

    from storage.models import Proposal

    async with sessions() as s:
        return int(
            (
                await s.execute(
                    select(func.count()).select_from(Proposal).where(Proposal.status == "submitted")
                )
            ).scalar_one()
        )


def our_session() -> NullSession:
    """Our bot calls Telegram through its own request middlewares, as `build_bot` sets them."""
    null = NullSession()
    add_reply_middlewares(null)
    return null


def backend_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


async def bench_paket(url: str, members: int, sequential: int) -> list[dict[str, float]]:
    engine, sessions, codes = await prepare(url, members + sequential)
    settings = Settings(bot_token=TOKEN, database_url=url, _env_file=None)  # type: ignore[call-arg]
    null = our_session()
    bot = Bot(TOKEN, session=null)
    dp = build_dispatcher(settings, sessions, build_i18n("id"))
    backend = backend_of(url)
    statements = Statements(engine)
    per_step: list[tuple[str, int]] = []
    latencies, wall = await drive(dp, bot, null, codes[:members])
    figures = [report(f"paket-bot ({backend}), at once", latencies, wall)]
    latencies, wall = await drive(
        dp, bot, null, codes[members:], False, statements=statements, per_step=per_step
    )
    figures.append(report(f"paket-bot ({backend}), in turn", latencies, wall))
    print(f"{'':<4}{await submitted(sessions)} of {members + sequential} proposals submitted")
    report_statements(per_step)
    await engine.dispose()
    return figures


async def statements_per_step(url: str) -> list[tuple[str, int]]:
    """One member's whole proposal, handled in turn: (step, SQL statements) per update."""
    engine, sessions, codes = await prepare(url, 1)
    settings = Settings(bot_token=TOKEN, database_url=url, _env_file=None)  # type: ignore[call-arg]
    null = our_session()
    dp = build_dispatcher(settings, sessions, build_i18n("id"))
    statements = Statements(engine)
    per_step: list[tuple[str, int]] = []
    await drive(dp, Bot(TOKEN, session=null), null, codes, False, statements, per_step)
    done = await submitted(sessions)
    await engine.dispose()
    assert done == 1, "the member's proposal was not submitted"
    return per_step


async def bench_echo(members: int, sequential: int) -> list[dict[str, float]]:
    null = NullSession()
    bot = Bot(TOKEN, session=null)
    dp = echo_dispatcher()
    latencies, wall = await drive(dp, bot, null, ["X"] * members)
    figures = [report("bare aiogram echo bot, at once", latencies, wall)]
    latencies, wall = await drive(dp, bot, null, ["X"] * sequential, concurrent=False)
    figures.append(report("bare aiogram echo bot, in turn", latencies, wall))
    return figures


# -- the whole pipeline: poller -> inbox -> workers ---------------------------------------------


class FeedPoller(Poller):
    """The real poller's storing and confirming, fed from memory instead of getUpdates."""

    def __init__(self, queue: asyncio.Queue[dict[str, Any]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = queue

    async def _fetch(self, http: Any) -> list[dict[str, Any]]:
        batch = [await self.queue.get()]
        while len(batch) < 100 and not self.queue.empty():
            batch.append(self.queue.get_nowait())
        return batch


class Done:
    """Which updates were handled, in this process or (through its output) in another."""

    def __init__(self) -> None:
        self.events: dict[int, asyncio.Event] = {}
        self.elsewhere = 0

    def expect(self, update_id: int) -> asyncio.Event:
        return self.events.setdefault(update_id, asyncio.Event())

    def mark(self, update_id: int) -> None:
        self.expect(update_id).set()


class BenchWorkers(Workers):
    engine: AsyncEngine

    def __init__(self, *args: Any, on_done: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_done = on_done

    async def _attempt(self, claimed: Any) -> None:
        await super()._attempt(claimed)
        self.on_done(claimed.update_id)


def pipeline_parts(url: str, workers: int, null: NullSession, on_done: Any) -> BenchWorkers:
    settings = Settings(  # type: ignore[call-arg]
        bot_token=TOKEN, database_url=url, workers=workers, _env_file=None
    )
    engine = create_engine(url)
    sessions = session_factory(engine)
    i18n = build_i18n("id")
    dp = build_dispatcher(settings, sessions, i18n)
    add_reply_middlewares(null)
    bot = Bot(TOKEN, session=null)
    workers_ = BenchWorkers(bot, dp, sessions, settings, i18n, only_worker=False, on_done=on_done)
    workers_.engine = engine
    return workers_


async def bench_pipeline(
    url: str,
    codes: list[str],
    *,
    workers: int,
    processes: int = 1,
    flood: int = 0,
    label: str,
) -> dict[str, float]:
    """Members at once through poller, inbox and workers; latency is from the update's
    arrival at the poller to the end of its handling. With `flood`, one more chat sends that
    many updates at the start, and only the members' latencies are counted."""
    null = NullSession()
    done = Done()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    local = pipeline_parts(url, workers, null, done.mark)
    poller = FeedPoller(
        queue,
        local.settings,
        local.sessions,
        on_stored=local.nudge,
        tell=local.tell_slow_down,
    )
    children = [await spawn_worker(url, workers, null, done) for _ in range(processes - 1)]
    tasks = [asyncio.create_task(poller.run()), asyncio.create_task(local.run())]
    latencies: list[float] = []

    async def one(member: Member, code: str) -> None:
        for kind, arg in script(code):
            raw = member.raw(kind, arg)
            handled = done.expect(raw["update_id"])
            started = time.perf_counter()
            queue.put_nowait(raw)
            await handled.wait()
            latencies.append(time.perf_counter() - started)

    base = 700_000 + next(RUNS) * 10_000
    members = [Member(base + i, null) for i in range(len(codes))]
    if flood:
        flooder = Member(base + 9_999, null)
        for i in range(flood):
            queue.put_nowait(flooder.raw("text", f"spam {i}"))
    started = time.perf_counter()
    await asyncio.gather(*(one(m, c) for m, c in zip(members, codes, strict=True)))
    wall = time.perf_counter() - started
    poller.stop()
    local.stop()
    await asyncio.gather(*tasks)
    for child in children:
        await stop_worker(child)
    await local.engine.dispose()
    figures = report(label, latencies, wall)
    if processes > 1:
        print(f"{'':<4}handled by the other process: {done.elsewhere}", flush=True)
    if flood:
        print(
            f"{'':<4}flooding chat: {flood} updates sent, {poller.dropped} dropped at the "
            f"inbox bound; p99 of the others' replies {figures['p99_ms']:.0f} ms "
            f"(target under 1000 ms)",
            flush=True,
        )
    return figures


RUNS = itertools.count(1)


async def spawn_worker(
    url: str, workers: int, null: NullSession, done: Done
) -> tuple[asyncio.subprocess.Process, asyncio.Task[None]]:
    """A second process with its own workers on the same inbox. It reports each keyboard it
    sends and each update it handled, so the members here can go on pressing."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bench.updates",
        "--worker",
        url,
        "--workers",
        str(workers),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None

    async def read() -> None:
        assert child.stdout is not None
        async for line in child.stdout:
            kind, _, rest = line.decode().partition(" ")
            if kind == "K":
                chat, _, buttons = rest.partition(" ")
                null.keyboards[int(chat)] = [tuple(b) for b in json.loads(buttons)]
            elif kind == "D":
                done.elsewhere += 1
                done.mark(int(rest))

    while True:  # wait until it is up
        line = await child.stdout.readline()
        if not line:
            raise RuntimeError("the second worker process did not start")
        if line.startswith(b"READY"):
            break
    reader = asyncio.create_task(read())
    return child, reader


async def stop_worker(worker: tuple[asyncio.subprocess.Process, asyncio.Task[None]]) -> None:
    child, reader = worker
    assert child.stdin is not None
    child.stdin.close()
    await child.wait()
    await reader


class ReportingSession(NullSession):
    """In a worker process: tells the benchmark each keyboard, as the members need them."""

    async def make_request(self, bot: Bot, method: Any, timeout: int | None = None) -> Any:  # noqa: ASYNC109
        before = dict(self.keyboards)
        result = await super().make_request(bot, method, timeout)
        for chat, buttons in self.keyboards.items():
            if before.get(chat) is not buttons:
                print(f"K {chat} {json.dumps(buttons, ensure_ascii=False)}", flush=True)
        return result


async def worker_process(url: str, workers: int) -> None:
    """`--worker URL`: work the inbox until stdin closes."""
    null = ReportingSession()
    local = pipeline_parts(url, workers, null, lambda uid: print(f"D {uid}", flush=True))
    task = asyncio.create_task(local.run())
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    local.stop()
    await task
    await local.engine.dispose()


# -- the run ------------------------------------------------------------------------------------


def compare(label: str, mine: dict[str, float], theirs: dict[str, float]) -> None:
    cost = theirs["updates_per_s"] / mine["updates_per_s"]
    print(
        f"{'':<4}{label}: cost per update {cost:.1f} x echo's (target ≤ 3 x), "
        f"p99 {mine['p99_ms'] / theirs['p99_ms']:.1f} x echo's",
        flush=True,
    )


async def main_async(args: argparse.Namespace) -> None:
    echo = await bench_echo(args.members, args.sequential)
    with tempfile.TemporaryDirectory() as tmp:
        urls = [f"sqlite+aiosqlite:///{os.path.join(tmp, 'bench.db')}"]
        if args.pg:
            urls.append(args.pg)
        for url in urls:
            if not url.startswith("sqlite"):
                url = await fresh_pg(url)
            backend = backend_of(url)
            ours = await bench_paket(url, args.members, args.sequential)
            for mode, mine, theirs in zip(("at once", "in turn"), ours, echo, strict=True):
                compare(f"{backend} {mode}", mine, theirs)
            if backend == "postgresql":
                print(
                    f"{'':<4}postgresql in turn: p99 per update {ours[1]['p99_ms']:.1f} ms "
                    f"(target under 20 ms)",
                    flush=True,
                )
            if args.no_pipeline:
                continue
            await pipelines(url, backend, args, echo[0])


async def pipelines(
    url: str, backend: str, args: argparse.Namespace, echo: dict[str, float]
) -> None:
    """The whole pipeline through the inbox, in the same run as the echo baseline."""
    runs: list[tuple[str, int, int, int]] = (
        [
            (f"inbox pipeline ({backend}), 1 worker", 1, 1, 0),
            (f"inbox pipeline ({backend}), 4 workers", 4, 1, 0),
            (f"inbox pipeline ({backend}), 2 processes x 4", 4, 2, 0),
            (f"inbox pipeline ({backend}), 4 w. + flood", 4, 1, args.flood),
        ]
        if backend == "postgresql"
        else [
            (f"inbox pipeline ({backend}), 2 workers", 2, 1, 0),
            (f"inbox pipeline ({backend}), 2 w. + flood", 2, 1, args.flood),
        ]
    )
    engine, _, codes = await prepare_more(url, args.members * len(runs))
    await engine.dispose()
    for i, (label, workers, processes, flood) in enumerate(runs):
        mine = await bench_pipeline(
            url,
            codes[i * args.members : (i + 1) * args.members],
            workers=workers,
            processes=processes,
            flood=flood,
            label=label,
        )
        compare(label.split(", ", 1)[1], mine, echo)


async def prepare_more(url: str, invites: int) -> tuple[AsyncEngine, Any, list[str]]:
    """More invites in the district `prepare` made."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    from bot.people import create_invite
    from storage import queries

    async with sessions() as s:
        district = (await queries.districts(s))[0]
        villages = await queries.villages_of(s, district.id)
    codes = []
    async with sessions() as s, s.begin():
        for i in range(invites):
            created = await create_invite(
                s, district, Role.PAKEM, now, days=7, village_kode=villages[i % len(villages)]
            )
            codes.append(created.code)
    return engine, sessions, codes


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
    parser.add_argument("--flood", type=int, default=2000, help="updates of the flooding chat")
    parser.add_argument("--no-pipeline", action="store_true", help="the dispatcher alone")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # a second process's workers
    parser.add_argument("--workers", type=int, default=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(worker_process(args.worker, args.workers))
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
