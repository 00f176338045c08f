"""Deadline reminders with a fake clock: offsets, quiet hours, bundling, done committees,
restarts, acknowledgements, and two instances sharing one database."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.errors import Invalid
from bot.reminders import Quiet, due_reminder, parse_offsets, parse_quiet_hours
from storage import queries
from storage.models import Outbox, Proposal, ReminderMark
from storage.views import Role, RoundView
from tests.conftest import stop
from tests.outbound_helpers import until
from tests.seed import BLUMAH, PLANTUNGAN, invite, kendal, round_

WIB = ZoneInfo("Asia/Jakarta")


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB).astimezone(UTC)  # type: ignore[misc]


def test_offsets_and_quiet_hours_rules() -> None:
    assert parse_offsets("7d, 3d,1d,3h") == [
        timedelta(days=7),
        timedelta(days=3),
        timedelta(days=1),
        timedelta(hours=3),
    ]
    for bad in ("", "7x", "0m", "100d", "3d,,1d"):
        with pytest.raises(Invalid):
            parse_offsets(bad)
    quiet = Quiet(*parse_quiet_hours("21-06"), WIB)
    assert quiet.contains(wib(2026, 11, 5, 22, 0)) and quiet.contains(wib(2026, 11, 6, 5, 59))
    assert not quiet.contains(wib(2026, 11, 6, 6, 0)) and not quiet.contains(wib(2026, 11, 5, 20))
    assert quiet.next_end(wib(2026, 11, 5, 22, 0)) == wib(2026, 11, 6, 6, 0)
    assert quiet.next_end(wib(2026, 11, 6, 1, 0)) == wib(2026, 11, 6, 6, 0)
    assert quiet.next_morning(wib(2026, 11, 5, 10, 0)) == wib(2026, 11, 6, 6, 0)
    round_ = RoundView(1, 1, "Tahap 1", 2026, wib(2026, 11, 12, 22), None, "Asia/Jakarta")
    offsets = parse_offsets("7d,3d,1d,3h")
    assert (
        due_reminder(
            round_, "submission", round_.submission_deadline, offsets, wib(2026, 11, 5, 21)
        )
        is None
    )
    due = due_reminder(round_, "submission", round_.submission_deadline, offsets, wib(2026, 11, 10))
    assert due is not None and due.offset == timedelta(days=3)  # 7d was missed: only 3d counts
    late = wib(2026, 11, 12, 22, 1)
    assert due_reminder(round_, "submission", round_.submission_deadline, offsets, late) is None


def reminders_in(user) -> list[str]:
    return [
        m.text for m in user.chat if "Pengingat tenggat" in m.text or "Deadline reminder" in m.text
    ]


async def test_reminders_offsets_quiet_hours_bundling_restart_and_ack(
    bot, person, sessions, clock, emulator, settings
):
    settings.reminder_every = 3600  # the test ticks by hand; start-up still ticks once
    clock.now = wib(2026, 11, 1, 10, 0)
    district = await kendal(sessions, clock())
    first = await round_(sessions, district, clock(), days=1)  # placeholder, moved below
    async with sessions() as session, session.begin():
        from storage.models import Round, RoundVillage

        row = await session.get(Round, first.id)
        assert row is not None
        row.submission_deadline = wib(2026, 11, 12, 22, 0)
        second = Round(
            district_id=district.id,
            name="Tahap 2 2026",
            year=2026,
            submission_deadline=wib(2026, 11, 13, 0, 0),
            opened_at=clock(),
        )
        session.add(second)
        await session.flush()
        second_id = second.id
        assert second_id is not None
        session.add(RoundVillage(round_id=second_id, village_kode=BLUMAH))
    siti_code = await invite(
        sessions, district, Role.PAKEM, clock(), village=BLUMAH, round_id=first.id
    )
    siti2_code = await invite(
        sessions, district, Role.PAKEM, clock(), village=BLUMAH, round_id=second_id
    )
    rudi_code = await invite(
        sessions, district, Role.PAKEM, clock(), village=PLANTUNGAN, round_id=first.id
    )
    pokja_code = await invite(sessions, district, Role.POKJA, clock())
    run = await bot()
    siti, rudi, bu = person("Siti", "id"), person("Rudi", "en"), person("Bu POKJA", "id")
    await siti.send(f"/start {siti_code}")
    await siti.send(f"/start {siti2_code}")
    await rudi.send(f"/start {rudi_code}")
    await bu.send(f"/start {pokja_code}")
    async with sessions() as session, session.begin():
        # Plantungan's committee is done: its proposal is in and no draft is left.
        rudi_row = await queries.person_by_telegram_id(session, rudi.id)
        assert rudi_row is not None and rudi_row.id is not None
        session.add(
            Proposal(
                round_id=first.id,
                district_id=first.district_id,
                village_kode=PLANTUNGAN,
                author_id=rudi_row.id,
                status="submitted",
                number="KDL-2026-001",
                submitted_at=clock(),
            )
        )
    app: App = run.app
    assert await app.remind() == 0  # ten days ahead: nothing due

    # 7 days before the first deadline is 22:00 WIB, in quiet hours: it waits for the morning.
    clock.now = wib(2026, 11, 5, 22, 0)
    assert await app.remind() == 0
    clock.now = wib(2026, 11, 6, 6, 0)
    assert await app.remind() == 1  # one bundled message: both rounds' reminders for Siti
    await until(lambda: reminders_in(siti), what="Siti's reminder")
    [text] = reminders_in(siti)
    assert "Tahap 1 2026" in text and "Tahap 2 2026" in text and "Blumah" in text
    assert "tersisa sekitar 7 hari" in text
    assert reminders_in(rudi) == []  # done committees are not nagged
    assert await app.remind() == 0  # once per (reminder, person)

    # Siti reads it; the POKJA sees that.
    await siti.press("✅ Sudah dibaca")
    assert siti.alerts[-1].startswith("Terima kasih")
    await bu.send("/pengingat")
    assert bu.saw("Blumah: Siti — ✅ dibaca")

    # The bot is down from before the 3-day reminder until after the 1-day one.
    await stop(run)
    clock.now = wib(2026, 11, 12, 6, 0)
    run = await bot()
    await run.app.remind()
    await until(lambda: len(reminders_in(siti)) == 2, what="the late reminder")
    late = reminders_in(siti)[-1]
    assert "sekitar 16 jam" in late  # the 1-day reminder, sent late; the 3-day one skipped
    async with sessions() as session:
        keys = set((await session.execute(select(ReminderMark.key))).scalars())
    assert not any(k.endswith(":4320m") for k in keys)  # 3 days = 4,320 minutes: never sent

    # 3 hours before (19:00): Siti already had one today, but the deadline falls before
    # tomorrow morning, so it goes now.
    clock.now = wib(2026, 11, 12, 19, 0)
    await run.app.remind()
    await until(lambda: len(reminders_in(siti)) == 3, what="the 3-hour reminder")
    # After the deadline, nothing more.
    clock.now = wib(2026, 11, 13, 1, 0)
    assert await run.app.remind() == 0
    assert not emulator.refusals


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
async def test_two_instances_send_each_reminder_and_message_once(
    bot, person, sessions, clock, emulator, settings, db_url
):
    if "postgresql" not in db_url:
        pytest.skip("two instances share PostgreSQL, not a SQLite file")
    settings.reminder_every = 3600
    clock.now = wib(2026, 11, 1, 10, 0)
    district = await kendal(sessions, clock())
    first = await round_(sessions, district, clock(), days=3)
    codes = [
        await invite(sessions, district, Role.PAKEM, clock(), village=BLUMAH, round_id=first.id)
        for _ in range(6)
    ]
    run = await bot()
    members = [person(f"Anggota {n}", "id") for n in range(6)]
    for member, code in zip(members, codes, strict=True):
        await member.send(f"/start {code}")
    # A second instance: its own sender and reminder clock on the same database.
    other = App(settings, clock=clock)
    await other.prepare()
    other._start_background()
    try:
        clock.now = wib(2026, 11, 2, 12, 0)  # 2 days before: the 3-day reminder is due
        results = await asyncio.gather(
            *(app.remind() for app in (run.app, other) for _ in range(3))
        )
        assert sum(results) == 6
        await until(lambda: all(reminders_in(m) for m in members), what="all reminders")
        await asyncio.sleep(1.0)
        assert [len(reminders_in(m)) for m in members] == [1] * 6
        async with sessions() as session:
            assert (await session.execute(select(func.count()).select_from(Outbox))).scalar() == 6
    finally:
        await other.close()
