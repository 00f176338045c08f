"""An announcement's delivery report and its progress message, under the faults Telegram and
networks produce: a server error, a dropped connection, a flood limit. The report is a message
to one person like any other (through the outbox: retried, sent once); the progress message is
a courtesy, edited only when its text changes, and brought to its end whatever it meets."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.people import ensure_person
from storage import queries
from storage.models import Broadcast, Outbox, Person
from tests.emulator.server import ChatMessage, Emulator
from tests.outbound_helpers import (
    Faults,
    followers,
    queue_announcement,
    until,
    until_delivered,
)
from tests.seed import BLUMAH, kendal

AUTHOR = 999_001  # queue_announcement's POKJA member
REPORT = "Laporan pengiriman"
SENDING = "Mengirim pengumuman"
FINAL = "selesai dikirim"
FAULTS = ["500", "drop", "429"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"progress_every": 0.3, "send_chat_interval": 0.05})


def author_chat(emulator: Emulator) -> list[ChatMessage]:
    return [m for m in emulator.messages.get(AUTHOR, []) if m.from_bot]


def reports(emulator: Emulator) -> list[ChatMessage]:
    return [m for m in author_chat(emulator) if REPORT in m.text]


def to_author(fragment: str) -> Any:
    return lambda p: int(p.get("chat_id", 0)) == AUTHOR and fragment in str(p.get("text", ""))


def edit_saying(fragment: str) -> Any:
    return lambda p: fragment in str(p.get("text", ""))


def assert_no_edit_repeats_the_shown_text(faults: Faults) -> None:
    """Each edit attempted differs from what the message showed (the last edit that landed)."""
    shown = None
    for call in faults.of("editMessageText"):
        assert call.params["text"] != shown, call.params["text"]
        if call.fault is None:
            shown = call.params["text"]


async def until_report_sent(sessions: Any, within: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not any(row[1] == "sent" for row in await report_rows(sessions)):
        assert loop.time() < deadline, "the report was not sent"
        await asyncio.sleep(0.1)


def not_modified(emulator: Emulator) -> list[tuple[str, int, str]]:
    return [r for r in emulator.refusals if "not modified" in r[2]]


async def report_rows(sessions: Any) -> list[Any]:
    async with sessions() as session:
        rows = await session.execute(
            select(
                Broadcast.params,
                Outbox.status,
                Outbox.attempts,
                Outbox.payload,
                Person.telegram_id,
            )
            .join(Outbox, Outbox.broadcast_id == Broadcast.id)
            .join(Person, Person.id == Outbox.person_id)
            .where(Broadcast.kind == "report")
        )
        return list(rows.all())


@pytest.mark.parametrize("fault", FAULTS)
async def test_the_report_and_the_progress_survive_transient_faults(
    bot, sessions, clock, emulator, fault
):
    """Each fault twice in a row on the report and on the final edit, once on a progress edit:
    the author still gets the report once, with the right figures, and the final progress."""
    district = await kendal(sessions, clock())
    await bot()
    users = await followers(sessions, emulator, BLUMAH, 5, 60_000, clock())
    users[3].blocked = True
    del emulator.chats[users[4].id]  # Telegram no longer knows this chat: failed
    faults = Faults(emulator)
    # One follower's message meets a server error: its 2 s backoff keeps the broadcast open
    # for several progress ticks.
    faults.add("sendMessage", "500", lambda p: int(p["chat_id"]) == users[0].id)
    faults.add("editMessageText", fault, edit_saying(SENDING))
    faults.add("editMessageText", fault, edit_saying(FINAL), times=2)
    faults.add("sendMessage", fault, to_author(REPORT), times=2)
    broadcast = await queue_announcement(
        sessions, emulator, district.id, "Musyawarah desa", clock(), progress=True
    )

    await until(lambda: reports(emulator), within=40, what="the report")
    progress = author_chat(emulator)[0]
    await until(lambda: FINAL in progress.text, within=20, what="the final progress")
    assert faults.plan == []  # every fault was met
    [report] = reports(emulator)
    assert f"pengumuman #{broadcast}" in report.text
    assert "3 terkirim, 1 diblokir, 1 gagal" in report.text
    assert "• Blumah: 3 terkirim, 1 diblokir, 1 gagal" in report.text
    assert f"Pengumuman #{broadcast} {FINAL}" in progress.text
    assert "Terkirim 3 dari 5; 1 diblokir, 1 gagal" in progress.text
    assert len(author_chat(emulator)) == 2  # the progress message and one report

    # The report went through the outbox: one row, for the author, retried like any other
    # (a 429 waits without counting as an attempt).
    await until_report_sent(sessions)
    [(params, status, attempts, _payload, chat)] = await report_rows(sessions)
    assert (status, chat) == ("sent", AUTHOR)
    assert attempts == (0 if fault == "429" else 2)
    assert json.loads(params)["announcement"] == broadcast
    assert json.loads(params)["counts"] == {
        "pending": 0,
        "sending": 0,
        "sent": 3,
        "blocked": 1,
        "failed": 1,
    }
    assert_no_edit_repeats_the_shown_text(faults)
    assert sorted(emulator.refusals) == [
        ("sendMessage", 400, "Bad Request: chat not found"),
        ("sendMessage", 403, "Forbidden: bot was blocked by the user"),
    ]


async def test_a_flood_limit_on_a_progress_edit_holds_back_only_its_edits(
    bot, sessions, clock, emulator, settings: Settings
):
    """A 429 on an edit waits its retry_after for that message's edits; deliveries go on."""
    settings.send_rate = 10
    settings.outbox_batch = 5  # an edit waits behind at most 5 sends for its turn
    district = await kendal(sessions, clock())
    await bot()
    await followers(sessions, emulator, BLUMAH, 30, 61_000, clock())
    faults = Faults(emulator)
    faults.add("editMessageText", "429", retry_after=2)
    broadcast = await queue_announcement(
        sessions, emulator, district.id, "Jadwal posyandu", clock(), progress=True
    )
    final = await until_delivered(sessions, broadcast)
    assert final.sent == 30
    [flooded] = [c for c in faults.of("editMessageText") if c.fault]
    during = [c for c in faults.calls if flooded.at < c.at < flooded.at + 1.9]
    assert not [c for c in during if c.method == "editmessagetext"]
    # Sends already past the gate would finish anyway; later ones show nothing was paused.
    later = [c for c in during if c.method == "sendmessage" and c.at > flooded.at + 0.8]
    assert len(later) >= 3, len(later)
    await until(lambda: reports(emulator), what="the report")
    progress = author_chat(emulator)[0]
    await until(lambda: FINAL in progress.text, what="the final progress")
    assert len(reports(emulator)) == 1
    assert not emulator.refusals


async def test_no_progress_edit_repeats_its_text_during_a_backoff(bot, sessions, clock, emulator):
    """While the sender waits out a backoff the figures stand still: nothing is edited."""
    district = await kendal(sessions, clock())
    await bot()
    users = await followers(sessions, emulator, BLUMAH, 3, 62_000, clock())
    faults = Faults(emulator)
    faults.add("sendMessage", "500", lambda p: int(p["chat_id"]) == users[0].id)
    broadcast = await queue_announcement(
        sessions, emulator, district.id, "Kerja bakti", clock(), progress=True
    )
    await until_delivered(sessions, broadcast)
    progress = author_chat(emulator)[0]
    await until(lambda: FINAL in progress.text, what="the final progress")
    assert f"Pengumuman #{broadcast} {FINAL}" in progress.text
    # The backoff lasted 2 s, about 6 progress ticks; the figures took at most 4 values
    # (0, 1 or 2 of 3 sent, then the end), so at most 4 edits.
    assert not_modified(emulator) == []
    assert_no_edit_repeats_the_shown_text(faults)
    edits = faults.of("editMessageText")
    assert 1 <= len(edits) <= 4, [c.params["text"] for c in edits]
    assert not emulator.refusals


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_long_report_is_received_once_even_when_a_part_fails(
    bot, sessions, clock, emulator, settings: Settings, fault
):
    """A report of several messages resumes after the last part delivered: no part twice."""
    settings.send_rate = 0
    district = await kendal(sessions, clock())
    await bot()
    async with sessions() as session, session.begin():
        villages = await queries.villages_of(session, district.id)
        for n, kode in enumerate(villages):
            user = emulator.user(63_000 + n, f"Warga {n}", "id")
            row = await ensure_person(session, user.id, user.first_name, None, "id", clock())
            assert row.id is not None
            await queries.add_follow(session, row.id, kode, clock())
    faults = Faults(emulator)
    # The second part of the report (the first one after the heading).
    faults.add(
        "sendMessage",
        fault,
        lambda p: int(p.get("chat_id", 0)) == AUTHOR and str(p.get("text")).startswith("•"),
    )
    broadcast = await queue_announcement(
        sessions, emulator, district.id, "Imunisasi massal", clock()
    )
    final = await until_delivered(sessions, broadcast, within=60)
    assert final.sent == len(villages)

    await until_report_sent(sessions)
    assert faults.plan == []
    chat = author_chat(emulator)
    assert len(chat) >= 3, "the report fits one message: nothing was tested"
    assert sum(REPORT in m.text for m in chat) == 1
    lines = [line for m in chat for line in m.text.splitlines() if line.startswith("• ")]
    assert len(lines) == len(villages)
    [(_params, status, attempts, payload, _chat)] = await report_rows(sessions)
    assert status == "sent"
    assert attempts == (0 if fault == "429" else 1)
    if fault != "429":  # a 429 is waited out within the attempt
        assert json.loads(payload)["parts_sent"] == 1


async def test_the_report_is_written_in_the_authors_language_when_it_is_sent(
    bot, sessions, clock, emulator
):
    """Rendered at send time: an author who switched to English reads it in English."""
    district = await kendal(sessions, clock())
    await bot()
    users = await followers(sessions, emulator, BLUMAH, 2, 64_000, clock())
    faults = Faults(emulator)
    faults.add("sendMessage", "500", lambda p: int(p["chat_id"]) == users[0].id)
    broadcast = await queue_announcement(sessions, emulator, district.id, "Rapat", clock())
    async with sessions() as session, session.begin():
        author = await queries.person_by_telegram_id(session, AUTHOR)
        assert author is not None
        author.locale = "en"
    await until_report_sent(sessions)
    [report] = [m for m in author_chat(emulator) if "Delivery report" in m.text]
    assert f"announcement #{broadcast}" in report.text
    assert "• Blumah: 2 sent, 0 blocked, 0 failed" in report.text
    assert not reports(emulator)  # nothing in Indonesian
