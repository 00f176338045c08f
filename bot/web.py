"""The bot's own web server: Telegram's webhook, `/healthz` and `/metrics`.

Everything it needs comes in as a callable, so it runs the same over the inbox in production and
over fakes in tests. The webhook only stores: Telegram gets its 200 once the raw update is written
to the inbox, and a failed write answers 500 so that Telegram delivers the update again. Handling
is the inbox workers' business, in polling and webhook mode alike.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import N_, ConfigError
from bot.metrics import METRICS, Metrics, QueueDepths

log = logging.getLogger("paket.web")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's rule for secret_token in setWebhook.
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
SECRET_SETTING = "webhook_secret"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_WEBHOOK_PATH = "/telegram"
# A health check or a scrape that waits longer on the database than this reports it unreachable.
CHECK_TIMEOUT = 5.0

Store = Callable[[list[dict[str, Any]]], Awaitable[int]]
Ping = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class InboxState:
    depth: int
    oldest_pending_seconds: float | None  # None: nothing pending


InboxProbe = Callable[[], Awaitable[InboxState]]
DepthCollector = Callable[[], Awaitable[QueueDepths]]


# -- the webhook secret --------------------------------------------------------------------------


def valid_secret(secret: str) -> bool:
    return bool(SECRET_RE.match(secret))


async def webhook_secret(session: AsyncSession, configured: str | None) -> str:
    """`WEBHOOK_SECRET` when set, else one generated once and kept in the database.

    Kept, not generated per start: instances behind one webhook must all accept the secret that
    Telegram was last given, whichever of them registered it. Call inside a transaction that
    commits right after; two instances starting together end with one secret.
    """
    from storage import queries

    if configured:
        if not valid_secret(configured):
            raise ConfigError(
                N_(
                    "WEBHOOK_SECRET may hold only letters A-Z and a-z, digits, _ and -, "
                    "1 to 256 of them."
                )
            )
        return configured
    stored = await queries.get_setting(session, SECRET_SETTING)
    if stored:
        return stored
    return await queries.setting_once(session, SECRET_SETTING, secrets.token_urlsafe(32))


def webhook_path_of(url: str) -> str:
    """The path this server must answer on for WEBHOOK_URL: Telegram posts to the URL as given,
    and a reverse proxy in front passes the path on unchanged."""
    from urllib.parse import urlsplit

    return urlsplit(url).path or "/"


def secret_matches(given: str | None, secret: str) -> bool:
    """Constant-time comparison; bytes, because compare_digest refuses non-ASCII str."""
    if not given:
        return False
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), secret.encode("utf-8", "surrogateescape")
    )


# -- handlers ------------------------------------------------------------------------------------


def _webhook_handler(store: Store, secret: str, metrics: Metrics) -> Any:
    async def handle(request: web.Request) -> web.Response:
        # Checked before the body is read: a refused request costs nothing and writes nothing.
        if not secret_matches(request.headers.get(SECRET_HEADER), secret):
            metrics.webhook_refused.inc()
            log.warning("webhook request from %s refused: wrong secret token", request.remote)
            return web.Response(status=403, text="Forbidden")
        try:
            update = await request.json(loads=json.loads)
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="Body is not JSON")
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.Response(status=400, text="Not an update")
        try:
            stored = await store([update])
        except Exception:
            # Telegram delivers the update again after a non-2xx answer: nothing is lost.
            log.exception("storing webhook update %s failed", update.get("update_id"))
            return web.Response(status=500, text="Not stored")
        if stored > 0:
            metrics.received.inc(stored)
        return web.Response(status=200, text="OK")

    return handle


async def _within(check: Callable[[], Awaitable[Any]], seconds: float) -> Any:
    async with asyncio.timeout(seconds):
        return await check()


def _health_handler(database: Ping, inbox: InboxProbe | None, timeout: float) -> Any:
    async def handle(request: web.Request) -> web.Response:
        try:
            result = await _within(database, timeout)
            reachable = result is not False
        except Exception as exc:
            log.warning("health check: database unreachable: %s", type(exc).__name__)
            reachable = False
        body: dict[str, Any] = {"status": "ok" if reachable else "unavailable"}
        body["database"] = reachable
        body["inbox_depth"] = None
        body["oldest_pending_seconds"] = None
        if reachable and inbox is not None:
            try:
                state = await _within(inbox, timeout)
                body["inbox_depth"] = state.depth
                body["oldest_pending_seconds"] = (
                    None
                    if state.oldest_pending_seconds is None
                    else round(state.oldest_pending_seconds, 3)
                )
            except Exception:
                log.warning("health check: the inbox could not be read", exc_info=True)
        return web.json_response(body, status=200 if reachable else 503)

    return handle


def _metrics_handler(metrics: Metrics, collect: DepthCollector | None, timeout: float) -> Any:
    async def handle(request: web.Request) -> web.Response:
        if collect is not None:
            try:
                metrics.set_depths(await _within(collect, timeout))
            except Exception as exc:
                # The counters are still worth serving; the gauges keep their last values.
                log.warning("metrics: queue depths could not be read: %s", type(exc).__name__)
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    return handle


def build_web_app(
    *,
    database: Ping,
    inbox: InboxProbe | None = None,
    depths: DepthCollector | None = None,
    store: Store | None = None,
    secret: str | None = None,
    webhook_path: str = DEFAULT_WEBHOOK_PATH,
    metrics: Metrics = METRICS,
    check_timeout: float = CHECK_TIMEOUT,
) -> web.Application:
    """The web application; the webhook route exists only when `store` and `secret` are given.

    In polling mode there is no webhook to offer, and a webhook without a secret would let anyone
    who guesses the path write into the inbox.
    """
    app = web.Application()
    if store is not None:
        if not secret or not valid_secret(secret):
            raise ValueError("the webhook needs a secret of 1-256 characters A-Z a-z 0-9 _ -")
        if not webhook_path.startswith("/"):
            raise ValueError("the webhook path must start with /")
        app.router.add_post(webhook_path, _webhook_handler(store, secret, metrics))
    app.router.add_get("/healthz", _health_handler(database, inbox, check_timeout))
    app.router.add_get("/metrics", _metrics_handler(metrics, depths, check_timeout))
    return app


# -- serving -------------------------------------------------------------------------------------


async def start_web(
    app: web.Application, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> web.AppRunner:
    """Listen on host:port; a port already taken is one operator-readable line, not a traceback."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(
            N_("The web server cannot listen on {host}:{port}: {reason}"),
            host=host,
            port=port,
            reason=exc.strerror or str(exc),
        ) from None
    return runner


async def stop_web(runner: web.AppRunner) -> None:
    """Stop listening, let requests in progress finish (a store mid-write completes), then close."""
    await runner.cleanup()


def bound_port(runner: web.AppRunner) -> int:
    """The port actually listened on: what a test that asked for port 0 needs to know."""
    for address in runner.addresses:
        return int(address[1])
    raise RuntimeError("the web server is not listening")


def queue_depths(
    sessions: Callable[[], AsyncSession],
    inbox_depth: Callable[[AsyncSession], Awaitable[int]] | None = None,
) -> DepthCollector:
    """The scrape-time collector over the database: outbox depth, and inbox depth when given."""
    from storage.db import READ_ONLY_OPTION
    from storage.delivery import outbox_depth

    async def collect() -> QueueDepths:
        async with sessions() as session:
            # Only reads: on SQLite it must not take the write lock from the bot.
            await session.connection(execution_options={READ_ONLY_OPTION: True})
            outbox = await outbox_depth(session)
            inbox = await inbox_depth(session) if inbox_depth is not None else None
        return QueueDepths(inbox=inbox, outbox=outbox)

    return collect
