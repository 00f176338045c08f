"""A Telegram Bot API emulator: aiohttp on 127.0.0.1, the real `/bot<token>/<method>` protocol.

It enforces what Telegram enforces (message length after entity parsing, HTML entities,
callback_data of 1-64 bytes, answering a callback once, editing unchanged content, 403 for
people who blocked the bot, 429 with retry_after) and records every refusal in `refusals`,
so a test can assert the bot never sent anything Telegram would have refused.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from tests.emulator.html_entities import ParseError, parse, visible_len

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
SENDING = frozenset({"sendmessage", "sendphoto", "senddocument", "sendvoice", "editmessagetext"})
COMMAND_RE = r"^[a-z0-9_]{1,32}$"
SECRET_TOKEN_RE = r"^[A-Za-z0-9_-]{1,256}$"
# The Bot API's deep-linking rule: the apps pass a start parameter only if it fits this.
START_PARAMETER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


@dataclass
class ChatMessage:
    """One message in a chat, as the person sees it (edits applied in place)."""

    message_id: int
    chat_id: int
    from_bot: bool
    text: str = ""
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    kind: str = "text"
    file_id: str | None = None
    date: int = 0
    edited: int = 0  # the emulator's edit counter when last edited; 0 = never
    raw: dict[str, Any] = field(default_factory=dict)

    def buttons(self) -> list[dict[str, Any]]:
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [b if isinstance(b, dict) else {"text": b} for row in rows for b in row]


@dataclass
class SimUser:
    id: int
    first_name: str
    language_code: str | None = "id"
    username: str | None = None
    blocked: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code is not None:
            out["language_code"] = self.language_code
        if self.username:
            out["username"] = self.username
        return out


@dataclass
class Webhook:
    url: str
    secret: str | None
    retry_pause: float = 0.05
    attempts: int = 0
    errors: int = 0
    last_error: str | None = None
    last_error_date: int = 0
    delivered: list[int] = field(default_factory=list)


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


@dataclass
class Hold:
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


class Emulator:
    def __init__(self, token: str = "123456789:TESTTOKENabcdefghijklmnopqrstuvwxyz1") -> None:
        self.token = token
        self.bot_id = int(token.split(":")[0])
        self.bot_username = "paket_test_bot"
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, list[ChatMessage]] = {}
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = 1
        self.last_update_id = 0
        self.confirmed_offset = 0
        self.message_ids = itertools.count(1)
        self.callback_ids = itertools.count(1)
        self.file_ids = itertools.count(1)
        self.files: dict[str, dict[str, Any]] = {}
        self.callbacks: dict[str, dict[str, Any]] = {}
        self.alerts: dict[int, list[str]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.refusals: list[tuple[str, int, str]] = []
        self.injected: list[tuple[str, int, str, int | None]] = []
        self.dropped_start_parameters: list[str] = []
        self.polls_waiting = 0
        self.history: dict[int, dict[str, Any]] = {}
        self.holds: dict[str, Hold] = {}
        self.closing = False
        self.edit_seq = 0
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.clock: Callable[[], float] = time.time
        # Telegram's flood limits, off unless a test turns them on: (overall, per chat) per second.
        self.limits: tuple[int, int] | None = None
        self._sent_times: deque[float] = deque()
        self._chat_last: dict[int, float] = {}
        self.flood_refusals = 0
        # Random faults on sending methods: probabilities of 429, 500 and a dropped connection.
        self.chaos: tuple[float, float, float] | None = None
        self.chaos_counts = {"429": 0, "500": 0, "drop": 0}
        self._random = random.Random(7)
        # Bulk mode: count deliveries per chat instead of keeping every message (benchmarks).
        self.keep_messages = True
        self.any_chat = False  # bulk mode: every positive chat id is a known private chat
        self.delivered: Counter[int] = Counter()
        # Webhook mode (setWebhook): updates are POSTed to the bot instead of fetched.
        self.webhook: Webhook | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        # Telegram refuses answerCallbackQuery this many seconds (of `clock`) after the press.
        self.callback_ttl = 15.0
        # Waits `idle()` also awaits: the bot confirms an update once it is stored, so whoever
        # runs the bot says here when it has handled what it stored (see tests/conftest.py).
        self.settlers: list[Callable[[], Awaitable[None]]] = []

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/_stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        await self._stop_webhook()
        for hold in self.holds.values():
            hold.release.set()
        async with self._cond:
            self.closing = True
            self._cond.notify_all()
        if self._runner:
            await self._runner.cleanup()

    # -- HTTP ----------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.json()
            params.update(body or {})
        elif ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            if ctype == "multipart/form-data":
                reader = await request.multipart()
                async for part in reader:
                    if part.filename:  # type: ignore[union-attr]
                        data = await part.read()  # type: ignore[union-attr]
                        params[part.name] = {"upload": part.filename, "data": data}  # type: ignore[union-attr]
                    else:
                        params[part.name] = await part.text()  # type: ignore[union-attr]
            else:
                params.update(await request.post())
        for key in ("reply_markup", "commands", "scope", "link_preview_options", "allowed_updates"):
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except json.JSONDecodeError:
                    raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
        return params

    async def _stats(self, request: web.Request) -> web.Response:
        """Not Telegram: what a benchmark in another process needs to know."""
        return web.json_response(
            {
                "delivered": sum(self.delivered.values()),
                "chats": len(self.delivered),
                "duplicates": sum(n - 1 for n in self.delivered.values() if n > 1),
                "flood_refusals": self.flood_refusals,
            }
        )

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        try:
            params = await self._params(request)
            if self.keep_messages:
                self.calls.append((method, params))
            if method.lower() in SENDING:
                if method.lower() != "editmessagetext" and self._chaos(request):
                    # The connection dies before Telegram processed anything.
                    assert request.transport is not None
                    request.transport.close()
                    raise ConnectionResetError("dropped by the emulator")
                self._flood_check(method, params)
            result = await self._dispatch(method, params)
        except ApiError as exc:
            if method.lower() != "getupdates" and 400 <= exc.code < 500 and exc.code != 429:
                self.refusals.append((method, exc.code, exc.description))
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return web.json_response(body, status=exc.code)
        return web.json_response({"ok": True, "result": result})

    async def _dispatch(self, method: str, params: dict[str, Any]) -> Any:
        name = method.lower()
        hold = self.holds.pop(name, None)
        if hold is not None:
            hold.arrived.set()
            await hold.release.wait()
            # The caller is gone (killed while waiting): nothing is delivered.
            raise ApiError(500, "Internal Server Error: held call abandoned")
        for index, (target, code, description, retry) in enumerate(self.injected):
            if target.lower() == name:
                del self.injected[index]
                raise ApiError(code, description, retry)
        handler = getattr(self, f"api_{name}", None)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        return await handler(params)

    # -- injection -----------------------------------------------------------------------------

    def _chaos(self, request: web.Request) -> bool:
        if self.chaos is None:
            return False
        p429, p500, pdrop = self.chaos
        roll = self._random.random()
        if roll < p429:
            self.chaos_counts["429"] += 1
            raise ApiError(429, "Too Many Requests: retry after 1", 1)
        if roll < p429 + p500:
            self.chaos_counts["500"] += 1
            raise ApiError(500, "Internal Server Error")
        if roll < p429 + p500 + pdrop:
            self.chaos_counts["drop"] += 1
            return True
        return False

    def _flood_check(self, method: str, params: dict[str, Any]) -> None:
        """Telegram's limits: about 30 messages a second overall, one a second into a chat."""
        if self.limits is None:
            return
        overall, per_chat = self.limits
        now = time.monotonic()
        while self._sent_times and now - self._sent_times[0] >= 1.0:
            self._sent_times.popleft()
        try:
            chat = int(params.get("chat_id", 0))
        except (TypeError, ValueError):
            chat = 0
        last = self._chat_last.get(chat)
        if len(self._sent_times) >= overall or (
            method.lower() != "editmessagetext" and last is not None and now - last < 1.0 / per_chat
        ):
            self.flood_refusals += 1
            wait = 1 if len(self._sent_times) >= overall else max(1, round(1.0 / per_chat))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        self._sent_times.append(now)
        if method.lower() != "editmessagetext":
            self._chat_last[chat] = now

    def hold_next(self, method: str) -> Hold:
        """Keep the next call of `method` waiting, so a test can kill the bot in the middle."""
        hold = Hold()
        self.holds[method.lower()] = hold
        return hold

    def fail_next(
        self, method: str, code: int, description: str, retry_after: int | None = None
    ) -> None:
        self.injected.append((method, code, description, retry_after))

    # -- validation ----------------------------------------------------------------------------

    def _chat(self, params: dict[str, Any]) -> int:
        try:
            chat_id = int(params.get("chat_id", ""))
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        if chat_id not in self.chats:
            if not (self.any_chat and chat_id > 0):
                raise ApiError(400, "Bad Request: chat not found")
            self.chats[chat_id] = {"id": chat_id, "type": "private", "first_name": "Warga"}
        user = self.users.get(chat_id)
        if user is not None and user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _text(self, raw: Any, parse_mode: str | None, limit: int, empty: str) -> tuple[str, list]:
        text = str(raw or "")
        entities: list[dict[str, Any]] = []
        if parse_mode and parse_mode.upper() == "HTML":
            try:
                text, parsed = parse(text)
            except ParseError as exc:
                raise ApiError(400, str(exc)) from None
            entities = [e.as_dict() for e in parsed]
        elif parse_mode:
            raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")
        text = text.strip()
        if not text and empty:
            raise ApiError(400, empty)
        if visible_len(text) > limit:
            raise ApiError(
                400,
                "Bad Request: message is too long"
                if limit == MAX_TEXT
                else "Bad Request: message caption is too long",
            )
        return text, entities

    def _markup(self, markup: Any) -> dict[str, Any] | None:
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list):
                raise ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array')
            for row in rows:
                for button in row:
                    if not str(button.get("text", "")).strip():
                        raise ApiError(
                            400, "Bad Request: text buttons are unallowed in the inline keyboard"
                        )
                    kinds = [
                        k
                        for k in (
                            "callback_data",
                            "url",
                            "switch_inline_query",
                            "web_app",
                            "login_url",
                            "pay",
                            "copy_text",
                        )
                        if k in button
                    ]
                    if len(kinds) != 1:
                        raise ApiError(
                            400,
                            "Bad Request: can't parse inline keyboard button: "
                            "exactly one of the optional fields must be used",
                        )
                    if "callback_data" in button:
                        data = str(button["callback_data"]).encode("utf-8")
                        if not 1 <= len(data) <= MAX_CALLBACK_DATA:
                            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                    if "url" in button and not str(button["url"]).startswith(
                        ("http://", "https://", "tg://")
                    ):
                        raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        elif "keyboard" in markup:
            for row in markup["keyboard"]:
                for button in row:
                    label = button.get("text") if isinstance(button, dict) else button
                    if not str(label or "").strip():
                        raise ApiError(400, "Bad Request: keyboard button text is empty")
        return markup

    # -- methods -------------------------------------------------------------------------------

    async def api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "PAKET Test",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def api_deletewebhook(self, params: dict[str, Any]) -> bool:
        await self._stop_webhook()
        if _flag(params.get("drop_pending_updates")):
            async with self._cond:
                self.updates.clear()
        return True

    async def api_setwebhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self.api_deletewebhook(params)
        if not url.startswith(("https://", "http://127.0.0.1:")):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = params.get("secret_token")
        if secret is not None and not re.match(SECRET_TOKEN_RE, str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        await self._stop_webhook()
        if _flag(params.get("drop_pending_updates")):
            async with self._cond:
                self.updates.clear()
        self.webhook = Webhook(url=url, secret=None if secret is None else str(secret))
        self._webhook_task = asyncio.create_task(self._deliver(self.webhook), name="emu-webhook")
        return True

    async def api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        hook = self.webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if hook and hook.last_error:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error
        return info

    async def api_setmycommands(self, params: dict[str, Any]) -> bool:
        import re

        commands = params.get("commands") or []
        if not 1 <= len(commands) <= 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not re.match(COMMAND_RE, command.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = (params.get("scope") or {}).get("type", "default")
        self.commands[(scope, params.get("language_code") or "")] = commands
        return True

    async def api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        scope = (params.get("scope") or {}).get("type", "default")
        return self.commands.get((scope, params.get("language_code") or ""), [])

    async def api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        async with self._cond:
            if offset:
                self.confirmed_offset = max(self.confirmed_offset, offset)
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            self._cond.notify_all()
            if not self.updates and timeout:
                self.polls_waiting += 1
                self._cond.notify_all()
                try:
                    await asyncio.wait_for(
                        self._cond.wait_for(lambda: bool(self.updates) or self.closing), timeout
                    )
                except TimeoutError:
                    pass
                finally:
                    self.polls_waiting -= 1
            return self.updates[:limit]

    def _store(self, chat_id: int, **fields: Any) -> ChatMessage:
        self.delivered[chat_id] += 1
        message = ChatMessage(
            message_id=next(self.message_ids),
            chat_id=chat_id,
            from_bot=True,
            date=int(self.clock()),
            **fields,
        )
        if self.keep_messages:
            self.messages.setdefault(chat_id, []).append(message)
        message.raw = self._message_dict(message)
        return message

    def _message_dict(self, message: ChatMessage) -> dict[str, Any]:
        chat = self.chats[message.chat_id]
        out: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": chat,
            "from": {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": "PAKET Test",
                "username": self.bot_username,
            },
        }
        if message.kind == "text":
            out["text"] = message.text
            if message.entities:
                out["entities"] = message.entities
        else:
            if message.text:
                out["caption"] = message.text
            if message.kind == "photo":
                out["photo"] = [
                    {
                        "file_id": message.file_id,
                        "file_unique_id": message.file_id,
                        "width": 800,
                        "height": 600,
                    }
                ]
            else:
                out["document"] = {"file_id": message.file_id, "file_unique_id": message.file_id}
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            out["reply_markup"] = message.reply_markup
        return out

    async def api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        text, entities = self._text(
            params.get("text"),
            params.get("parse_mode"),
            MAX_TEXT,
            "Bad Request: message text is empty",
        )
        markup = self._markup(params.get("reply_markup"))
        message = self._store(chat_id, text=text, entities=entities, reply_markup=markup)
        return message.raw

    async def _send_file(self, params: dict[str, Any], kind: str) -> dict[str, Any]:
        chat_id = self._chat(params)
        caption, entities = self._text(
            params.get("caption"), params.get("parse_mode"), MAX_CAPTION, ""
        )
        value = params.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
            params[kind] = value
        if isinstance(value, dict):  # an upload
            file_id = f"F{next(self.file_ids)}"
            self.files[file_id] = {"kind": kind, **value}
        elif isinstance(value, str) and value in self.files:
            stored = self.files[value]["kind"]
            if stored != kind:
                # Telegram refuses to re-send a file as another kind than it was sent as.
                raise ApiError(
                    400,
                    f"Bad Request: can't use file of type {stored.title()} as {kind.title()}",
                )
            file_id = value
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        markup = self._markup(params.get("reply_markup"))
        message = self._store(
            chat_id,
            text=caption,
            entities=entities,
            reply_markup=markup,
            kind=kind,
            file_id=file_id,
        )
        return message.raw

    async def api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file(params, "photo")

    async def api_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file(params, "document")

    async def api_sendvoice(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file(params, "voice")

    def _find(self, params: dict[str, Any]) -> ChatMessage:
        chat_id = self._chat(params)
        try:
            message_id = int(params.get("message_id", 0))
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: message to edit not found") from None
        for message in self.messages.get(chat_id, []):
            if message.message_id == message_id:
                if not message.from_bot:
                    raise ApiError(400, "Bad Request: message can't be edited")
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    async def api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(params)
        text, entities = self._text(
            params.get("text"),
            params.get("parse_mode"),
            MAX_TEXT,
            "Bad Request: message text is empty",
        )
        markup = self._markup(params.get("reply_markup"))
        if text == message.text and entities == message.entities and markup == message.reply_markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same as a current "
                "content and reply markup of the message",
            )
        message.text, message.entities, message.reply_markup = text, entities, markup
        self.edit_seq += 1
        message.edited = self.edit_seq
        message.raw = self._message_dict(message)
        return message.raw

    async def api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(params)
        markup = self._markup(params.get("reply_markup"))
        if markup == message.reply_markup or (not markup and not message.reply_markup):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same as a current "
                "content and reply markup of the message",
            )
        message.reply_markup = markup
        self.edit_seq += 1
        message.edited = self.edit_seq
        message.raw = self._message_dict(message)
        return message.raw

    async def api_deletemessage(self, params: dict[str, Any]) -> bool:
        message = self._find(params)
        self.messages[message.chat_id].remove(message)
        return True

    async def api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        query = self.callbacks.get(query_id)
        if (
            query is None
            or query.get("answered")
            or self.clock() - query["pressed"] > self.callback_ttl
        ):
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = str(params.get("text") or "")
        if len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        query["answered"] = True
        if text:
            self.alerts.setdefault(query["user_id"], []).append(text)
        return True

    async def api_sendchataction(self, params: dict[str, Any]) -> bool:
        self._chat(params)
        return True

    async def api_close(self, params: dict[str, Any]) -> bool:
        return True

    # -- simulated people ----------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None = "id",
        username: str | None = None,
    ) -> SimUser:
        user = SimUser(user_id, first_name, language_code, username)
        self.users[user_id] = user
        self.chats[user_id] = {"id": user_id, "type": "private", "first_name": first_name}
        return user

    def group(self, chat_id: int, title: str) -> None:
        self.chats[chat_id] = {"id": chat_id, "type": "supergroup", "title": title}

    async def push(self, kind: str, payload: dict[str, Any]) -> int:
        async with self._cond:
            update_id = self.next_update_id
            self.next_update_id += 1
            self.updates.append({"update_id": update_id, kind: payload})
            self.history[update_id] = self.updates[-1]
            self.last_update_id = update_id
            self._cond.notify_all()
        return update_id

    async def user_message(
        self, user: SimUser, chat_id: int | None = None, **content: Any
    ) -> ChatMessage:
        chat = chat_id if chat_id is not None else user.id
        if isinstance(content.get("text"), str):
            content["text"] = self._deep_link(content["text"])
        message = ChatMessage(
            message_id=next(self.message_ids),
            chat_id=chat,
            from_bot=False,
            text=content.get("text", "") or content.get("caption", ""),
            kind=next(
                (k for k in ("photo", "document", "sticker", "location", "voice") if k in content),
                "text",
            ),
            date=int(self.clock()),
        )
        self.messages.setdefault(chat, []).append(message)
        payload = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self.chats[chat],
            "from": user.as_dict(),
            **content,
        }
        text = content.get("text")
        if isinstance(text, str) and text.startswith("/"):
            command = text.split()[0]
            payload["entities"] = [
                {
                    "type": "bot_command",
                    "offset": 0,
                    "length": len(command.encode("utf-16-le")) // 2,
                }
            ]
        user.blocked = False
        await self.push("message", payload)
        return message

    def _deep_link(self, text: str) -> str:
        """`/start PARAM` stands for opening `t.me/<bot>?start=PARAM`: the apps drop a parameter
        outside Telegram's alphabet and send a plain /start, and so does the emulator."""
        command, _, parameter = text.partition(" ")
        if command.split("@")[0] != "/start" or not parameter:
            return text
        if START_PARAMETER_RE.fullmatch(parameter):
            return text
        self.dropped_start_parameters.append(parameter)
        return command

    def start_text(self, url: str) -> str:
        """What the apps send when a person opens a t.me link to this bot."""
        parts = urlsplit(url)
        bot = parts.path.strip("/")
        if parts.scheme != "https" or parts.netloc not in ("t.me", "telegram.me"):
            raise AssertionError(f"{url!r} is not a t.me link")
        if bot.lower() != self.bot_username.lower():
            raise AssertionError(f"{url!r} does not lead to @{self.bot_username}")
        values = parse_qs(parts.query, keep_blank_values=True).get("start", [])
        if not values or not START_PARAMETER_RE.fullmatch(values[0]):
            if values:
                self.dropped_start_parameters.append(values[0])
            return "/start"
        return f"/start {values[0]}"

    async def open_link(self, user: SimUser, url: str) -> ChatMessage:
        """A person taps a link or scans a QR code that leads to the bot."""
        return await self.user_message(user, text=self.start_text(url))

    async def inject(self, content: dict[str, Any]) -> int:
        """Put raw JSON in the getUpdates queue (say, a message lacking a field the bot needs)."""
        async with self._cond:
            update_id = self.next_update_id
            self.next_update_id += 1
            self.updates.append({"update_id": update_id, **content})
            self.history[update_id] = self.updates[-1]
            self.last_update_id = update_id
            self._cond.notify_all()
        return update_id

    async def redeliver(self, update_id: int) -> None:
        """Deliver an update again, as Telegram does when its confirmation never arrived."""
        async with self._cond:
            self.updates.append(self.history[update_id])
            self.updates.sort(key=lambda u: u["update_id"])
            self._cond.notify_all()

    def new_file_id(self, kind: str, **meta: Any) -> str:
        file_id = f"U{next(self.file_ids)}{kind[:1]}"
        self.files[file_id] = {"kind": kind, **meta}
        return file_id

    async def press(self, user: SimUser, message: ChatMessage, data: str) -> str:
        query_id = str(next(self.callback_ids))
        self.callbacks[query_id] = {"user_id": user.id, "answered": False, "pressed": self.clock()}
        payload = {
            "id": query_id,
            "from": user.as_dict(),
            "chat_instance": str(message.chat_id),
            "message": self._message_dict(message),
            "data": data,
        }
        await self.push("callback_query", payload)
        return query_id

    # -- webhook delivery ----------------------------------------------------------------------

    async def _deliver(self, hook: Webhook) -> None:
        """POST the oldest pending update until the bot answers 2xx, then the next (in order).

        As Telegram does: any other answer, or no answer, is an error kept in getWebhookInfo,
        and the same update is delivered again after a pause.
        """
        import aiohttp

        headers = {} if hook.secret is None else {"X-Telegram-Bot-Api-Secret-Token": hook.secret}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            while True:
                async with self._cond:
                    await self._cond.wait_for(lambda: bool(self.updates) or self.closing)
                    if self.closing:
                        return
                    update = self.updates[0]
                try:
                    async with http.post(hook.url, json=update, headers=headers) as resp:
                        status, reason = resp.status, resp.reason
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status, reason = 0, type(exc).__name__
                hook.attempts += 1
                if 200 <= status < 300:
                    async with self._cond:
                        if self.updates and self.updates[0] is update:
                            self.updates.pop(0)
                        hook.delivered.append(update["update_id"])
                        self._cond.notify_all()
                    continue
                hook.last_error = (
                    f"Wrong response from the webhook: {status} {reason}"
                    if status
                    else f"Connection failed: {reason}"
                )
                hook.last_error_date = int(self.clock())
                hook.errors += 1
                await asyncio.sleep(hook.retry_pause)

    async def _stop_webhook(self) -> None:
        task, self._webhook_task, self.webhook = self._webhook_task, None, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def webhook_idle(self, within: float = 15.0) -> None:
        """Wait until the bot has accepted (answered 2xx to) every update pushed so far."""

        async def done() -> None:
            async with self._cond:
                await self._cond.wait_for(lambda: not self.updates)

        await asyncio.wait_for(done(), within)

    # -- waiting -------------------------------------------------------------------------------

    async def idle(self, within: float = 15.0) -> None:
        """Wait until the bot has handled every update pushed so far.

        The bot confirms an update (getUpdates with a higher offset) once it stored it; the
        settlers then wait until it handled what it stored. Exact, not a guess from quiet time.
        """

        async def done() -> None:
            async with self._cond:
                # Updates leave the queue only when a later getUpdates confirms them, or, with a
                # webhook, when the bot answered their POST with 2xx.
                await self._cond.wait_for(
                    lambda: (
                        not self.updates and (self.webhook is not None or self.polls_waiting > 0)
                    )
                )
            for settled in self.settlers:
                await settled()

        await asyncio.wait_for(done(), within)
