"""Settings from the environment or a `.env` file.

Nothing here is global: every entry point builds a `Settings` and passes it on, so tests can run
several differently configured bots in one process.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,100}$")
SUPPORTED_LOCALES = ("id", "en")


def N_(message: str) -> str:
    """Mark a string for translation where it is translated later, when printed."""
    return message


class ConfigError(Exception):
    """A configuration problem that the operator must fix; printed as one translated line."""

    def __init__(self, template: str, **params: object) -> None:
        super().__init__(template.format(**params))
        self.template = template
        self.params = params


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str = ""
    database_url: str = "sqlite+aiosqlite:///paket.db"
    telegram_api_url: str = "https://api.telegram.org"
    default_locale: str = "id"
    timezone: str = "Asia/Jakarta"
    redis_url: str | None = None
    bot_username: str | None = None
    invite_days: int = Field(default=7, ge=1, le=365)
    polling_timeout: int = Field(default=25, ge=0, le=50)
    # Delivery: messages per second across all chats (0 = no limit of ours) and per chat.
    send_rate: float = Field(default=25, ge=0)
    send_chat_interval: float = Field(default=1.0, ge=0)
    # Rows one sender holds in `sending` at most: the bound on duplicates after a crash.
    outbox_batch: int = Field(default=50, ge=1, le=1000)
    outbox_lease: float = Field(default=300, ge=1)
    send_attempts: int = Field(default=5, ge=1, le=50)
    progress_every: float = Field(default=5, gt=0)
    sender_poll: float = Field(default=0.5, gt=0)
    quiet_hours: str = "21-06"
    reminder_offsets: str = "7d,3d,1d,3h"
    reminder_every: float = Field(default=60, gt=0)
    # The update inbox: updates handled at once per process (default: 4 on PostgreSQL, 2 on
    # SQLite), unhandled updates one chat may queue, tries before an update is set aside, and
    # seconds after which another process takes over a crashed worker's update.
    workers: int | None = Field(default=None, ge=1, le=64)
    inbox_backlog: int = Field(default=20, ge=1, le=10_000)
    inbox_attempts: int = Field(default=3, ge=1, le=20)
    inbox_lease: float = Field(default=120, ge=1)
    # Webhook mode (else long polling) and the web server of /healthz, /metrics and the webhook;
    # port 0 takes any free port (tests).
    webhook_url: str | None = None
    webhook_secret: str | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"DEFAULT_LOCALE must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"TIMEZONE {value!r} is not a known IANA zone") from exc
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        from bot.errors import Invalid
        from bot.reminders import parse_quiet_hours

        try:
            parse_quiet_hours(value)
        except Invalid:
            raise ValueError("QUIET_HOURS looks like 21-06 (from-to, hours)") from None
        return value

    @field_validator("reminder_offsets")
    @classmethod
    def _offsets(cls, value: str) -> str:
        from bot.errors import Invalid
        from bot.reminders import parse_offsets

        try:
            parse_offsets(value)
        except Invalid:
            raise ValueError("REMINDER_OFFSETS looks like 7d,3d,1d,3h") from None
        return value

    @property
    def worker_count(self) -> int:
        """SQLite has one writer, and a handler holds it from its first statement to its
        commit, Telegram calls included: more handlers at once only queue for it. Two keep the
        next update claimed and decoded while one commits. PostgreSQL serves four in parallel."""
        if self.workers is not None:
            return self.workers
        return 2 if self.database_url.startswith("sqlite") else 4

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def require_token(self) -> str:
        if not self.bot_token:
            raise ConfigError(N_("BOT_TOKEN is not set: put the token from @BotFather in it."))
        if not TOKEN_RE.match(self.bot_token):
            raise ConfigError(
                N_("BOT_TOKEN is malformed: it looks like 123456789:AA... as @BotFather gives it.")
            )
        return self.bot_token


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's multi-line report into one operator-readable line."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())).upper()
        raise ConfigError(
            N_("{field} is not valid: {reason}"), field=field, reason=first.get("msg", "")
        ) from None
