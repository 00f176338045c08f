"""What Telegram would refuse, checked on our own output and on the emulator itself."""

from __future__ import annotations

import aiohttp
import pytest

from bot.text import join_blocks, visible_length
from handlers.callbacks import DraftCb, LangCb, MenuCb, RoundCb
from tests.emulator.html_entities import ParseError, parse
from tests.emulator.server import Emulator

# Ids are database integers (32-bit): the factories refuse larger numbers at unpacking.
BIG = 2**31 - 1


def test_callback_data_fits_with_the_largest_ids() -> None:
    for data in (
        DraftCb(action="x", id=BIG, arg=BIG),
        RoundCb(round_id=BIG),
        LangCb(code="id"),
        MenuCb(action="n"),
    ):
        assert len(data.pack().encode()) <= 64
    with pytest.raises(ValueError):  # a forged larger number matches no handler
        DraftCb.unpack(f"d:x:{BIG + 1}:0")


def test_long_text_is_split_between_blocks_only() -> None:
    blocks = [f"<b>{i}</b> " + "kata &amp; " * 60 for i in range(40)]
    messages = join_blocks(blocks)
    assert len(messages) > 1
    for message in messages:
        text, _ = parse(message)
        assert len(text) <= 4096 and visible_length(message) == len(text)
    assert "".join(messages).count("<b>") == 40


@pytest.mark.parametrize(
    "bad",
    ["<b>open", "<b>x</i>", "<foo>x</foo>", "a < b", '<span class="x">s</span>', "&nosuch;"],
)
def test_html_refusals(bad: str) -> None:
    with pytest.raises(ParseError):
        parse(bad)


def test_html_entities_and_lengths() -> None:
    text, entities = parse('<b>Rp</b> &lt;5&gt; &amp; <a href="https://x.id">t</a> 👍')
    assert text == "Rp <5> & t 👍"
    assert [e.type for e in entities] == ["bold", "text_link"]


async def call(emu: Emulator, method: str, **params):
    async with (
        aiohttp.ClientSession() as client,
        client.post(f"{emu.base_url}/bot{emu.token}/{method}", json=params) as response,
    ):
        return response.status, await response.json()


async def test_emulator_enforces_limits(emulator: Emulator) -> None:
    emulator.user(5, "A")
    ok, _ = await call(emulator, "sendMessage", chat_id=5, text="x" * 4096)
    assert ok == 200
    status, body = await call(emulator, "sendMessage", chat_id=5, text="x" * 4097)
    assert (status, body["description"]) == (400, "Bad Request: message is too long")
    status, _ = await call(
        emulator, "sendMessage", chat_id=5, text="<b>" + "x" * 4096 + "</b>", parse_mode="HTML"
    )
    assert status == 200  # the limit is on the text after entity parsing
    status, body = await call(emulator, "sendMessage", chat_id=5, text="<b>x", parse_mode="HTML")
    assert status == 400 and "can't parse entities" in body["description"]
    markup = {"inline_keyboard": [[{"text": "t", "callback_data": "x" * 65}]]}
    status, body = await call(emulator, "sendMessage", chat_id=5, text="t", reply_markup=markup)
    assert body["description"] == "Bad Request: BUTTON_DATA_INVALID"
    status, body = await call(emulator, "sendMessage", chat_id=6, text="t")
    assert body["description"] == "Bad Request: chat not found"
    emulator.users[5].blocked = True
    status, body = await call(emulator, "sendMessage", chat_id=5, text="t")
    assert (status, body["error_code"]) == (403, 403)
    emulator.users[5].blocked = False
    emulator.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    status, body = await call(emulator, "sendMessage", chat_id=5, text="t")
    assert status == 429 and body["parameters"]["retry_after"] == 3
    status, _ = await call(emulator, "sendMessage", chat_id=5, text="t")
    assert status == 200
    status, body = await call(emulator, "getMe")
    assert body["result"]["username"] == "paket_test_bot"
    async with (
        aiohttp.ClientSession() as client,
        client.post(f"{emulator.base_url}/bot1:wrong/getMe") as response,
    ):
        assert response.status == 401


async def test_bot_registers_its_command_menu_per_language(bot, emulator, sessions, clock):
    await bot()
    assert {lang for _, lang in emulator.commands} == {"", "id", "en"}
    by_lang = {
        lang: {c["command"]: c["description"] for c in cmds}
        for (_, lang), cmds in emulator.commands.items()
    }
    assert by_lang["id"]["baru"] == "Tulis usulan baru"
    assert by_lang["en"]["new"] == "Write a new proposal"
    assert by_lang[""] == by_lang["id"]
