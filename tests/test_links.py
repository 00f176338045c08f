"""Every t.me link the bot makes must survive Telegram's deep-linking rule (1-64 characters of
A-Z a-z 0-9 _ -), or the apps drop its parameter and the person gets a plain /start.

The class of tests: each place that makes a link (poster QR codes, follow links, invites from the
bot and the CLI, the group's button) is opened through the emulator, which drops a parameter
outside that alphabet as the apps do, and every t.me link the bot ever sent is checked.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.deeplink import (
    LinkError,
    StartKind,
    help_link,
    parse_start,
    start_link,
    village_link,
    village_parameter,
)
from bot.people import new_code
from bot.regions import parse_rows
from storage.views import Role
from tests.emulator.server import START_PARAMETER_RE, Emulator
from tests.review_helpers import grant
from tests.seed import BLUMAH, KENDAL_CSV, kendal, round_

KEDITEN = "33.24.01.2002"
official_codes = st.builds(
    lambda *parts: ".".join(parts),
    st.from_regex(r"[0-9]{2}", fullmatch=True),
    st.from_regex(r"[0-9]{2}", fullmatch=True),
    st.from_regex(r"[0-9]{2}", fullmatch=True),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
)


def parameter_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["start"][0]


# -- the rule, without Telegram ----------------------------------------------------------------


@given(official_codes)
def test_every_official_village_code_becomes_a_parameter_telegram_passes(kode: str) -> None:
    parameter = village_parameter(kode)
    assert START_PARAMETER_RE.fullmatch(parameter)
    assert parse_start(parameter).kind == StartKind.VILLAGE
    assert parse_start(parameter).value == kode


def test_every_village_of_kendal_has_a_working_follow_link() -> None:
    rows = parse_rows(KENDAL_CSV.read_text(encoding="utf-8"))
    villages = [r["kode"] for r in rows if r["tingkat"] in ("desa", "kelurahan")]
    assert len(villages) == 286
    for kode in villages:
        link = village_link("paket_test_bot", kode)
        assert START_PARAMETER_RE.fullmatch(parameter_of(link)), link
        assert parse_start(parameter_of(link)).value == kode
    assert (
        village_link("paket_test_bot", BLUMAH) == "https://t.me/paket_test_bot?start=v_3324012001"
    )


@given(st.lists(st.from_regex(r"[0-9]{1,5}", fullmatch=True), min_size=1, max_size=6))
def test_codes_of_other_shapes_round_trip_too(parts: list[str]) -> None:
    kode = ".".join(parts)
    parameter = village_parameter(kode)
    assert START_PARAMETER_RE.fullmatch(parameter)
    assert parse_start(parameter).value == kode


@pytest.mark.parametrize(
    ("parameter", "kode"),
    [("v_33.24.01.2001", "33.24.01.2001"), ("v_3324012001", "33.24.01.2001")],
)
def test_the_old_dotted_form_is_still_read(parameter: str, kode: str) -> None:
    start = parse_start(parameter)
    assert (start.kind, start.value) == (StartKind.VILLAGE, kode)


def test_help_and_invites_are_told_apart() -> None:
    assert parse_start("help").kind == StartKind.HELP
    assert parse_start("ABCDEFGH23") == parse_start(" ABCDEFGH23 ")
    assert parse_start("ABCDEFGH23").kind == StartKind.INVITE


def test_invite_codes_are_in_telegrams_alphabet() -> None:
    for _ in range(500):
        link = start_link("paket_test_bot", new_code())
        assert START_PARAMETER_RE.fullmatch(parameter_of(link))


@given(st.text(min_size=1, max_size=80))
def test_no_link_is_made_with_a_parameter_telegram_would_drop(parameter: str) -> None:
    if START_PARAMETER_RE.fullmatch(parameter):
        assert parameter_of(start_link("b_bot", parameter)) == parameter
    else:
        with pytest.raises(LinkError):
            start_link("b_bot", parameter)


def test_links_name_the_bot_without_its_at_sign() -> None:
    assert help_link("@paket_bot") == "https://t.me/paket_bot?start=help"
    with pytest.raises(LinkError):
        help_link("")


def test_the_emulator_drops_what_the_apps_drop() -> None:
    emulator = Emulator()
    bot = emulator.bot_username
    assert emulator.start_text(f"https://t.me/{bot}?start=v_33.24.01.2001") == "/start"
    assert emulator.start_text(f"https://t.me/{bot}?start={'a' * 65}") == "/start"
    assert emulator.start_text(f"https://t.me/{bot}?start=v_3324012001") == "/start v_3324012001"
    assert emulator.dropped_start_parameters == ["v_33.24.01.2001", "a" * 65]
    assert emulator._deep_link("/start v_33.24") == "/start"
    assert emulator._deep_link("/start ABC-def_9") == "/start ABC-def_9"
    with pytest.raises(AssertionError):
        emulator.start_text("https://t.me/another_bot?start=help")


# -- every link the running bot makes ----------------------------------------------------------

T_ME = re.compile(r"https://t\.me/[^\s<>\"]+")


def links_sent(emulator: Emulator) -> list[str]:
    """Every t.me link in a text, caption or URL button the bot sent."""
    found: list[str] = []
    for _method, params in emulator.calls:
        for key in ("text", "caption"):
            found += T_ME.findall(str(params.get(key) or ""))
        markup: Any = params.get("reply_markup") or {}
        if isinstance(markup, str):
            import json

            markup = json.loads(markup)
        for row in markup.get("inline_keyboard", []):
            found += [b["url"] for b in row if "url" in b]
    return found


def decode_qr(data: bytes) -> str:
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return cv2.QRCodeDetector().detectAndDecode(image)[0]


async def test_every_link_the_bot_makes_opens_in_the_apps(bot, person, sessions, clock, emulator):
    """Invites from /undang, the poster's QR codes (PNG and both PDFs) and the group button, each
    opened as the apps open it; then every t.me link the bot sent is checked against the rule."""
    import io

    from pypdf import PdfReader

    district = await kendal(sessions, clock())
    await round_(sessions, district, clock(), days=5)
    await bot()
    budi = person("Budi POKJA")
    await grant(budi, sessions, district, Role.POKJA, clock())

    await budi.send("/undang")
    await budi.press("🏛 Anggota POKJA")
    [link] = T_ME.findall(budi.reply_text)
    sari = person("Sari POKJA")
    await sari.open_link(link)
    assert sari.saw("Selamat datang") and sari.saw("anggota POKJA")

    await budi.send("/undang")
    await budi.press("👥 Anggota PAKEM sebuah desa")
    await budi.send("kediten")
    [link] = T_ME.findall(budi.reply_text)
    joko = person("Joko Kediten")
    await joko.open_link(link)
    assert joko.saw("anggota PAKEM")

    await budi.send("/poster")
    await budi.send("blumah")
    await budi.press("Blumah (Kec. Plantungan)")
    uploads = [p["document"] for m, p in emulator.calls if m == "sendDocument"]
    codes = [decode_qr(uploads[0]["data"])]
    for upload in uploads[1:]:
        [image] = PdfReader(io.BytesIO(upload["data"])).pages[0].images
        codes.append(decode_qr(image.data))
    assert codes == [village_link(emulator.bot_username, BLUMAH)] * 3
    warga = person("Warga")
    await warga.open_link(codes[0])
    assert warga.saw("Anda sekarang mengikuti Blumah")

    emulator.group(-100777, "Warga Blumah")
    await emulator.user_message(warga.user, chat_id=-100777, text="/start")
    await emulator.idle()
    [reply] = [m for m in emulator.messages[-100777] if m.from_bot]
    [button] = reply.buttons()
    await warga.open_link(button["url"])
    assert warga.saw("Halo")

    sent = links_sent(emulator) + codes
    assert len(sent) == 6  # two invites, the group's button, three QR codes
    for url in sent:
        assert emulator.start_text(url) != "/start", url
    assert emulator.dropped_start_parameters == []
    assert not emulator.refusals


async def test_a_link_shared_before_the_fix_reaches_the_bot_as_a_plain_start(
    bot, person, sessions, clock, emulator
):
    """The apps drop `v_33.24.01.2001`: the person gets the overview, not an error."""
    await kendal(sessions, clock())
    await bot()
    ani = person("Ani")
    await ani.open_link(f"https://t.me/{emulator.bot_username}?start=v_{BLUMAH}")
    assert emulator.dropped_start_parameters == [f"v_{BLUMAH}"]
    assert ani.saw("Halo") and not ani.saw("mengikuti")
    await ani.open_link(village_link(emulator.bot_username, KEDITEN))
    assert ani.saw("Anda sekarang mengikuti Kediten")
