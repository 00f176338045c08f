"""Replies held until the update commits: kept in the inbox row exactly as they would have been
sent, and sent in order, with Telegram's refusals sorted into skip, stop and later."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendDocument,
    SendLocation,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    TelegramMethod,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.after_commit import (
    HeldReplies,
    HoldUntilCommit,
    NotSentYet,
    deliver,
    dump,
    held_replies,
    load,
)
from bot.telegram import FloodGate, Lane, LaneMustWait, current_lane

BOT = Bot("1:x", default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True))
INLINE = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Ya", callback_data="p:1")]]
)
EVERY_KIND: list[TelegramMethod[Any]] = [
    SendMessage(chat_id=7, text="<b>Usulan</b> terkirim", reply_markup=INLINE),
    SendMessage(chat_id=7, text="a <b> literally", parse_mode=None),
    SendMessage(
        chat_id=7,
        text="lokasi?",
        reply_markup=ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="📍 Kirim lokasi", request_location=True)]],
            resize_keyboard=True,
        ),
    ),
    SendMessage(chat_id=7, text="ok", reply_markup=ReplyKeyboardRemove()),
    SendDocument(
        chat_id=7, document=BufferedInputFile(b"PK\x03\x04\x00\xff", "rab.xlsx"), caption="RAB"
    ),
    SendPhoto(chat_id=7, photo="AgACAgQAAx0", caption="foto"),
    SendLocation(chat_id=7, latitude=-6.92, longitude=110.2),
    EditMessageText(chat_id=7, message_id=3, text="diubah", reply_markup=INLINE),
    EditMessageReplyMarkup(chat_id=7, message_id=3),
    DeleteMessage(chat_id=7, message_id=4),
    AnswerCallbackQuery(callback_query_id="991", text="Tersimpan"),
    SetMyCommands(
        commands=[BotCommand(command="mulai", description="Beranda")],
        scope=BotCommandScopeChat(chat_id=7),
    ),
]


def sent_form(method: TelegramMethod[Any]) -> dict[str, Any]:
    """What aiogram puts on the wire for a call: the bot's defaults applied, files attached."""
    files: dict[str, Any] = {}
    form = {
        k: BOT.session.prepare_value(v, bot=BOT, files=files)
        for k, v in method.model_dump(warnings=False).items()
    }
    form = {k: v for k, v in form.items() if v is not None}
    return {"form": form, "files": {f.filename: f.data for f in files.values()}}


def without_attach_keys(sent: dict[str, Any]) -> dict[str, Any]:
    form = {k: ("attach" if str(v).startswith("attach://") else v) for k, v in sent["form"].items()}
    return {"form": form, "files": sent["files"]}


def test_a_kept_reply_goes_on_the_wire_exactly_as_it_would_have() -> None:
    again = load(dump(BOT, EVERY_KIND))
    assert [type(m) for m in again] == [type(m) for m in EVERY_KIND]
    for before, after in zip(EVERY_KIND, again, strict=True):
        assert without_attach_keys(sent_form(after)) == without_attach_keys(sent_form(before))


def test_an_explicit_plain_text_reply_stays_plain() -> None:
    [plain] = load(dump(BOT, [SendMessage(chat_id=1, text="x", parse_mode=None)]))
    assert "parse_mode" not in sent_form(plain)["form"]
    [html] = load(dump(BOT, [SendMessage(chat_id=1, text="x")]))
    assert sent_form(html)["form"]["parse_mode"] == "HTML"


def test_only_replies_are_read_back() -> None:
    with pytest.raises(ValueError):
        load('[{"method":"GetMe","fields":{}}]')
    with pytest.raises(ValueError):
        load('[{"method":"LogOut","fields":{}}]')


async def test_replies_are_held_while_a_transaction_is_open_and_reading_one_is_an_error() -> None:
    middleware = HoldUntilCommit(FloodGate())
    through: list[str] = []

    async def telegram(bot: Bot, method: TelegramMethod[Any]) -> Any:
        through.append(type(method).__name__)
        return True

    held = HeldReplies()
    token = held_replies.set(held)
    try:
        result = await middleware(telegram, BOT, SendMessage(chat_id=1, text="a"))
        assert isinstance(result, NotSentYet)
        with pytest.raises(RuntimeError, match="after the update's transaction commits"):
            _ = result.message_id
        assert await middleware(telegram, BOT, GetMe()) is True  # a question is asked at once
    finally:
        held_replies.reset(token)
    assert [type(m).__name__ for m in held.methods] == ["SendMessage"]
    assert through == ["GetMe"]
    assert await middleware(telegram, BOT, SendMessage(chat_id=1, text="b")) is True
    assert through == ["GetMe", "SendMessage"]


async def test_a_chat_telegram_holds_back_waits_in_its_lane_before_any_reply() -> None:
    gate = FloodGate()
    gate.refused(5, 12)
    middleware = HoldUntilCommit(gate)

    async def telegram(bot: Bot, method: TelegramMethod[Any]) -> Any:
        raise AssertionError("nothing is sent while held")

    async def acquire() -> None:
        return None

    lane = Lane(5, lambda: None, acquire)
    tokens = (current_lane.set(lane), held_replies.set(HeldReplies()))
    try:
        with pytest.raises(LaneMustWait) as waited:
            await middleware(telegram, BOT, SendMessage(chat_id=5, text="a"))
        assert 11 < waited.value.seconds <= 12
        # Another chat is not held back.
        await middleware(telegram, BOT, SendMessage(chat_id=6, text="a"))
    finally:
        held_replies.reset(tokens[1])
        current_lane.reset(tokens[0])


class Telegram:
    """Answers each call with the next outcome: True, or an exception to raise."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[str] = []

    async def __call__(self, method: TelegramMethod[Any]) -> Any:
        self.calls.append(getattr(method, "text", type(method).__name__))
        outcome = self.outcomes.pop(0) if self.outcomes else True
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def texts(*names: str) -> list[TelegramMethod[Any]]:
    return [SendMessage(chat_id=1, text=n) for n in names]


async def test_deliver_in_order_and_skip_what_telegram_refuses_for_good() -> None:
    method = SendMessage(chat_id=1, text="b")
    telegram = Telegram(True, TelegramBadRequest(method, "Bad Request: can't parse entities"))
    delivery = await deliver(telegram, texts("a", "b", "c"))  # type: ignore[arg-type]
    assert telegram.calls == ["a", "b", "c"]
    assert (delivery.sent, delivery.left) == (2, [])


async def test_a_person_who_blocked_the_bot_gets_none_of_the_rest() -> None:
    method = SendMessage(chat_id=1, text="a")
    telegram = Telegram(TelegramForbiddenError(method, "Forbidden: bot was blocked by the user"))
    delivery = await deliver(telegram, texts("a", "b"))  # type: ignore[arg-type]
    assert telegram.calls == ["a"]
    assert (delivery.sent, delivery.left) == (0, [])


@pytest.mark.parametrize(
    ("refusal", "retry_in"),
    [
        (TelegramRetryAfter(SendMessage(chat_id=1, text="b"), "Too Many Requests", 40), 40.0),
        (TelegramNetworkError(SendMessage(chat_id=1, text="b"), "connection reset"), 2.0),
    ],
)
async def test_what_telegram_could_not_take_now_is_left_for_later(
    refusal: Exception, retry_in: float
) -> None:
    telegram = Telegram(True, refusal)
    delivery = await deliver(telegram, texts("a", "b", "c"))  # type: ignore[arg-type]
    assert delivery.sent == 1
    assert [m.text for m in delivery.left] == ["b", "c"]  # type: ignore[attr-defined]
    assert delivery.retry_in == retry_in


@pytest.mark.parametrize(
    "refusal",
    [
        TelegramEntityTooLarge(SendMessage(chat_id=1, text="b"), "Request Entity Too Large"),
        TelegramNotFound(SendMessage(chat_id=1, text="b"), "Not Found: chat not found"),
        ClientDecodeError("Telegram answered what is not JSON", ValueError(), "<html>"),
    ],
)
async def test_a_final_refusal_of_any_kind_skips_that_reply_only(refusal: Exception) -> None:
    """Sending it again could not help: the chat must not wait behind it for ever."""
    telegram = Telegram(refusal)
    delivery = await deliver(telegram, texts("b", "c"))  # type: ignore[arg-type]
    assert telegram.calls == ["b", "c"]
    assert (delivery.sent, delivery.left) == (1, [])


async def test_a_button_answer_first_does_not_hide_a_held_back_chat() -> None:
    gate = FloodGate()
    gate.refused(5, 12)
    middleware = HoldUntilCommit(gate)

    async def telegram(bot: Bot, method: TelegramMethod[Any]) -> Any:
        raise AssertionError("nothing is sent while held")

    async def acquire() -> None:
        return None

    tokens = (current_lane.set(Lane(5, lambda: None, acquire)), held_replies.set(HeldReplies()))
    try:
        await middleware(telegram, BOT, AnswerCallbackQuery(callback_query_id="1"))
        with pytest.raises(LaneMustWait):
            await middleware(telegram, BOT, EditMessageText(chat_id=5, message_id=2, text="x"))
    finally:
        held_replies.reset(tokens[1])
        current_lane.reset(tokens[0])
