"""The web server over a real socket on 127.0.0.1: webhook secret, health, metrics."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import ConfigError
from bot.metrics import Metrics, QueueDepths
from bot.web import (
    SECRET_HEADER,
    SECRET_SETTING,
    InboxState,
    bound_port,
    build_web_app,
    queue_depths,
    secret_matches,
    start_web,
    stop_web,
    valid_secret,
    webhook_path_of,
    webhook_secret,
)
from storage import queries
from storage.db import ping

SECRET = "s3cret_-Token"
UPDATE = {"update_id": 7, "message": {"message_id": 1, "chat": {"id": 5, "type": "private"}}}


@dataclass
class Fake:
    """The injected dependencies, recording what the web app asked of them."""

    stored: list[list[dict[str, Any]]] = field(default_factory=list)
    store_error: Exception | None = None
    store_started: asyncio.Event = field(default_factory=asyncio.Event)
    store_release: asyncio.Event | None = None
    db_up: bool = True
    inbox: InboxState = field(default_factory=lambda: InboxState(3, oldest_pending_seconds=1.5))
    depths: QueueDepths = field(default_factory=lambda: QueueDepths(inbox=3, outbox=11))

    async def store(self, updates: list[dict[str, Any]]) -> int:
        self.store_started.set()
        if self.store_release is not None:
            await self.store_release.wait()
        if self.store_error is not None:
            raise self.store_error
        self.stored.append(updates)
        return len(updates)

    async def database(self) -> None:
        if not self.db_up:
            raise ConnectionRefusedError("connection refused")

    async def inbox_state(self) -> InboxState:
        return self.inbox

    async def collect(self) -> QueueDepths:
        if not self.db_up:
            raise ConnectionRefusedError("connection refused")
        return self.depths


@dataclass
class Served:
    fake: Fake
    metrics: Metrics
    base: str
    http: aiohttp.ClientSession

    async def post(self, headers: dict[str, str], body: Any = UPDATE) -> aiohttp.ClientResponse:
        return await self.http.post(f"{self.base}/telegram", json=body, headers=headers)

    async def metric(self, name: str) -> float:
        """A sample's value as scraped from /metrics, parsed as Prometheus parses it."""
        async with self.http.get(f"{self.base}/metrics") as resp:
            assert resp.status == 200
            text = await resp.text()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and not sample.labels:
                    return sample.value
        raise AssertionError(f"{name} not in /metrics")


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    fake, metrics = Fake(), Metrics()
    app = build_web_app(
        database=fake.database,
        inbox=fake.inbox_state,
        depths=fake.collect,
        store=fake.store,
        secret=SECRET,
        metrics=metrics,
        check_timeout=1.0,
    )
    runner = await start_web(app, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            yield Served(fake, metrics, f"http://127.0.0.1:{bound_port(runner)}", http)
    finally:
        await stop_web(runner)


# -- webhook ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SECRET_HEADER: ""},
        {SECRET_HEADER: "wrong"},
        {SECRET_HEADER: SECRET + "x"},
        {SECRET_HEADER: SECRET[:-1]},
        {SECRET_HEADER: SECRET.upper()},
        {"X-Telegram-Bot-Api-Secret": SECRET},
    ],
    ids=["missing", "empty", "wrong", "longer", "shorter", "case", "other-header"],
)
async def test_webhook_without_the_right_secret_is_refused_counted_and_stores_nothing(
    served: Served, headers: dict[str, str]
) -> None:
    resp = await served.post(headers)
    assert resp.status == 403
    assert served.fake.stored == []
    assert not served.fake.store_started.is_set()
    assert await served.metric("paket_webhook_refused_total") == 1
    assert await served.metric("paket_updates_received_total") == 0


async def test_webhook_refusals_add_up(served: Served) -> None:
    for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: "also-wrong"}):
        assert (await served.post(headers)).status == 403
    assert await served.metric("paket_webhook_refused_total") == 3
    assert served.fake.stored == []


async def test_webhook_non_ascii_secret_is_refused_not_a_server_error(served: Served) -> None:
    url = f"{served.base}/telegram"
    # aiohttp would refuse to send a non-ASCII header value as str; send the raw bytes.
    raw = "ü".encode().decode("latin-1")
    async with served.http.post(url, json=UPDATE, headers={SECRET_HEADER: raw}) as resp:
        assert resp.status == 403
    assert served.fake.stored == []


async def test_webhook_with_the_secret_answers_only_after_store_returned(served: Served) -> None:
    served.fake.store_release = asyncio.Event()
    request = asyncio.create_task(served.post({SECRET_HEADER: SECRET}))
    await asyncio.wait_for(served.fake.store_started.wait(), 5)
    await asyncio.sleep(0.1)
    assert not request.done(), "answered before the update was stored"
    served.fake.store_release.set()
    resp = await asyncio.wait_for(request, 5)
    assert resp.status == 200
    assert served.fake.stored == [[UPDATE]]
    assert await served.metric("paket_updates_received_total") == 1
    assert await served.metric("paket_webhook_refused_total") == 0


async def test_webhook_answers_500_when_storing_fails(served: Served) -> None:
    served.fake.store_error = RuntimeError("database is locked")
    resp = await served.post({SECRET_HEADER: SECRET})
    assert resp.status == 500
    assert served.fake.stored == []
    assert await served.metric("paket_updates_received_total") == 0


async def test_a_redelivered_update_is_not_counted_twice(served: Served) -> None:
    async def store_once(updates: list[dict[str, Any]]) -> int:
        seen = {u["update_id"] for batch in served.fake.stored for u in batch}
        fresh = [u for u in updates if u["update_id"] not in seen]
        if fresh:
            served.fake.stored.append(fresh)
        return len(fresh)

    served.fake.store = store_once  # type: ignore[method-assign]
    app = build_web_app(
        database=served.fake.database, store=store_once, secret=SECRET, metrics=served.metrics
    )
    runner = await start_web(app, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{bound_port(runner)}/telegram"
        for _ in range(2):
            async with served.http.post(url, json=UPDATE, headers={SECRET_HEADER: SECRET}) as r:
                assert r.status == 200
    finally:
        await stop_web(runner)
    assert served.metrics.value("paket_updates_received_total") == 1


@pytest.mark.parametrize("body", ["not json", [UPDATE], {"message": {}}, {"update_id": "7"}])
async def test_webhook_refuses_a_body_that_is_no_update(served: Served, body: Any) -> None:
    url = f"{served.base}/telegram"
    headers = {SECRET_HEADER: SECRET}
    if isinstance(body, str):
        resp = await served.http.post(url, data=body, headers=headers)
    else:
        resp = await served.http.post(url, json=body, headers=headers)
    assert resp.status == 400
    assert served.fake.stored == []


async def test_webhook_only_takes_post(served: Served) -> None:
    async with served.http.get(f"{served.base}/telegram") as resp:
        assert resp.status == 405
    assert not served.fake.store_started.is_set()


async def test_no_webhook_route_in_polling_mode() -> None:
    fake = Fake()
    runner = await start_web(build_web_app(database=fake.database, metrics=Metrics()), port=0)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"http://127.0.0.1:{bound_port(runner)}/telegram",
                json=UPDATE,
                headers={SECRET_HEADER: SECRET},
            ) as resp,
        ):
            assert resp.status == 404
    finally:
        await stop_web(runner)


@pytest.mark.parametrize("secret", [None, "", "has space", "x" * 257, "slash/"])
def test_a_webhook_needs_a_valid_secret(secret: str | None) -> None:
    with pytest.raises(ValueError):
        build_web_app(database=Fake().database, store=Fake().store, secret=secret)


def test_secret_matches_only_the_same_secret() -> None:
    assert secret_matches(SECRET, SECRET)
    assert not secret_matches(None, SECRET)
    assert not secret_matches("", SECRET)
    assert not secret_matches("é", SECRET)


# -- /healthz --------------------------------------------------------------------------------


async def test_healthz_when_healthy(served: Served) -> None:
    async with served.http.get(f"{served.base}/healthz") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body == {
        "status": "ok",
        "database": True,
        "inbox_depth": 3,
        "oldest_pending_seconds": 1.5,
    }


async def test_healthz_with_an_empty_inbox(served: Served) -> None:
    served.fake.inbox = InboxState(depth=0, oldest_pending_seconds=None)
    async with served.http.get(f"{served.base}/healthz") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["inbox_depth"] == 0
    assert body["oldest_pending_seconds"] is None


async def test_healthz_is_503_when_the_database_is_unreachable(served: Served) -> None:
    served.fake.db_up = False
    async with served.http.get(f"{served.base}/healthz") as resp:
        assert resp.status == 503
        body = await resp.json()
    assert body["status"] == "unavailable"
    assert body["database"] is False


async def test_healthz_is_503_when_the_database_hangs() -> None:
    async def hang() -> None:
        await asyncio.sleep(30)

    app = build_web_app(database=hang, metrics=Metrics(), check_timeout=0.2)
    runner = await start_web(app, port=0)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{bound_port(runner)}/healthz") as resp,
        ):
            assert resp.status == 503
    finally:
        await stop_web(runner)


async def test_healthz_stays_healthy_when_only_the_inbox_read_fails(served: Served) -> None:
    async def broken() -> InboxState:
        raise RuntimeError("no inbox table yet")

    served.fake.inbox_state = broken  # type: ignore[method-assign]
    app = build_web_app(database=served.fake.database, inbox=broken, metrics=Metrics())
    runner = await start_web(app, port=0)
    try:
        async with served.http.get(f"http://127.0.0.1:{bound_port(runner)}/healthz") as resp:
            assert resp.status == 200
            assert (await resp.json())["inbox_depth"] is None
    finally:
        await stop_web(runner)


# -- /metrics --------------------------------------------------------------------------------

ALL_METRICS = {
    "paket_updates_received": "counter",
    "paket_updates_handled": "counter",
    "paket_updates_failed": "counter",
    "paket_updates_dropped": "counter",
    "paket_update_handling_seconds": "histogram",
    "paket_inbox_depth": "gauge",
    "paket_outbox_depth": "gauge",
    "paket_sends": "counter",
    "paket_send_429": "counter",
    "paket_blocked_people": "counter",
    "paket_webhook_refused": "counter",
}


async def test_metrics_parse_and_hold_every_family(served: Served) -> None:
    async with served.http.get(f"{served.base}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    assert families == ALL_METRICS
    assert await served.metric("paket_inbox_depth") == 3
    assert await served.metric("paket_outbox_depth") == 11


async def test_metrics_still_served_when_the_depths_cannot_be_read(served: Served) -> None:
    assert await served.metric("paket_outbox_depth") == 11
    served.fake.db_up = False
    assert await served.metric("paket_outbox_depth") == 11  # the last value stays
    assert await served.metric("paket_webhook_refused_total") == 0


async def test_module_functions_count_on_the_default_registry() -> None:
    from bot import metrics

    before = metrics.METRICS.value("paket_updates_handled_total")
    seen = metrics.METRICS.value("paket_update_handling_seconds_count")
    metrics.update_handled(0.004)
    metrics.update_failed(0.5)
    metrics.updates_dropped(2)
    metrics.updates_received(0)
    metrics.message_sent()
    metrics.send_throttled()
    metrics.person_blocked()
    assert metrics.METRICS.value("paket_updates_handled_total") == before + 1
    assert metrics.METRICS.value("paket_update_handling_seconds_count") == seen + 2
    assert metrics.METRICS.value("paket_update_handling_seconds_bucket", {"le": "0.005"}) >= 1


def test_two_metric_sets_count_apart() -> None:
    one, two = Metrics(), Metrics()
    one.webhook_refused.inc()
    assert one.value("paket_webhook_refused_total") == 1
    assert two.value("paket_webhook_refused_total") == 0


# -- serving ---------------------------------------------------------------------------------


async def test_a_taken_port_is_one_config_error() -> None:
    fake = Fake()
    first = await start_web(build_web_app(database=fake.database, metrics=Metrics()), port=0)
    try:
        port = bound_port(first)
        with pytest.raises(ConfigError) as caught:
            await start_web(build_web_app(database=fake.database, metrics=Metrics()), port=port)
        assert caught.value.params["port"] == port
    finally:
        await stop_web(first)


async def test_listens_on_loopback_by_default() -> None:
    runner = await start_web(build_web_app(database=Fake().database, metrics=Metrics()), port=0)
    try:
        assert runner.addresses[0][0] == "127.0.0.1"
    finally:
        await stop_web(runner)


# -- over the real database ------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["a", "A-z_0-9", "x" * 256])
def test_valid_secrets(secret: str) -> None:
    assert valid_secret(secret)


async def test_configured_secret_wins_and_is_not_stored(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        assert await webhook_secret(session, "from-env") == "from-env"
        assert await queries.get_setting(session, SECRET_SETTING) is None


async def test_a_bad_configured_secret_is_one_config_error(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        with pytest.raises(ConfigError):
            await webhook_secret(session, "no spaces allowed")


async def test_generated_secret_is_kept_and_valid(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        first = await webhook_secret(session, None)
    async with sessions() as session, session.begin():
        again = await webhook_secret(session, "")
    assert first == again
    assert valid_secret(first) and len(first) >= 32


async def test_two_instances_starting_together_share_one_secret(
    db_url: str, engine: AsyncEngine
) -> None:
    from storage.db import create_engine, session_factory

    engines = [create_engine(db_url) for _ in range(4)]

    async def one(eng: AsyncEngine) -> str:
        async with session_factory(eng)() as session, session.begin():
            return await webhook_secret(session, None)

    try:
        found = await asyncio.gather(*(one(e) for e in engines))
    finally:
        for eng in engines:
            await eng.dispose()
    assert len(set(found)) == 1
    async with session_factory(engine)() as session:
        assert await queries.get_setting(session, SECRET_SETTING) == found[0]


async def test_health_and_depths_over_the_real_database(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    metrics = Metrics()

    async def inbox_depth(session: AsyncSession) -> int:
        return 0

    app = build_web_app(
        database=lambda: ping(engine),
        depths=queue_depths(sessions, inbox_depth),
        metrics=metrics,
    )
    runner = await start_web(app, port=0)
    base = f"http://127.0.0.1:{bound_port(runner)}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 200
            async with http.get(f"{base}/metrics") as resp:
                assert resp.status == 200
    finally:
        await stop_web(runner)
    assert metrics.value("paket_outbox_depth") == 0
    assert metrics.value("paket_inbox_depth") == 0


async def test_outbox_depth_counts_pending_and_sending_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from storage.delivery import FINAL, OPEN, outbox_depth
    from storage.models import Broadcast, Outbox, Person
    from tests.seed import kendal

    district = await kendal(sessions, datetime(2026, 11, 2, tzinfo=UTC))
    statuses = [*OPEN, *FINAL, *OPEN]  # every status, the open ones twice
    async with sessions() as session, session.begin():
        broadcast = Broadcast(district_id=district.id, kind="announcement", status="queued")
        session.add(broadcast)
        await session.flush()
        for n, status in enumerate(statuses):
            person = Person(telegram_id=9000 + n)
            session.add(person)
            await session.flush()
            session.add(
                Outbox(
                    broadcast_id=broadcast.id,
                    person_id=person.id,
                    chat_id=person.telegram_id,
                    status=status,
                )
            )
    async with sessions() as session:
        assert await outbox_depth(session) == 4


# -- SQLite: health checks and scrapes never touch the write lock ----------------------------


@pytest.fixture
def sqlite_writer(tmp_path: Path) -> Iterator[tuple[str, sqlite3.Connection]]:
    """A migrated SQLite file and another connection of it, for holding the write lock."""
    path = tmp_path / "paket.db"
    raw = sqlite3.connect(path, isolation_level=None, timeout=0)
    yield f"sqlite+aiosqlite:///{path}", raw
    raw.close()


async def test_ping_and_scrape_do_not_wait_for_the_sqlite_writer(
    sqlite_writer: tuple[str, sqlite3.Connection],
) -> None:
    from storage import migrate
    from storage.db import create_engine, session_factory

    url, raw = sqlite_writer
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        raw.execute("BEGIN IMMEDIATE")  # someone else is writing, and takes their time
        try:
            await asyncio.wait_for(ping(engine), 2)
            depths = await asyncio.wait_for(queue_depths(session_factory(engine))(), 2)
            assert depths.outbox == 0
        finally:
            raw.execute("ROLLBACK")
        # A read-only check leaves nothing behind: an ordinary transaction still takes the write
        # lock up front, so a writer elsewhere is refused while it is open.
        await ping(engine)
        async with engine.begin() as conn:
            await conn.execute(text("SELECT 1"))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                raw.execute("BEGIN IMMEDIATE")
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://paket.example.org/telegram", "/telegram"),
        ("https://paket.example.org:8443/bot/hook?x=1", "/bot/hook"),
        ("https://paket.example.org", "/"),
    ],
)
def test_webhook_path_of(url: str, path: str) -> None:
    assert webhook_path_of(url) == path
