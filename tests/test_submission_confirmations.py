"""Submission confirmations to the rest of the committee go through the outbox: queued in the
submission's own transaction, rendered when sent in each member's language, sent once each
whatever Telegram's faults, and never lost to a crash between the commit and the sending."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import proposals
from bot.announcements import Template, submission_params, submitted_view
from bot.app import App
from bot.i18n import build_i18n, when
from bot.text import MESSAGE_LIMIT, visible_length
from handlers.outbound import OutboundRenderer
from storage import queries
from storage.models import Broadcast, Outbox, Proposal
from storage.views import (
    AttachmentView,
    BroadcastView,
    ClaimedRow,
    LineView,
    ProposalView,
    Role,
    RoundView,
)
from tests.inbox_helpers import inbox_row, settle_inbox
from tests.outbound_helpers import drained, followers, until
from tests.people import Person
from tests.review_helpers import grant, proposal_by_number, write_proposal
from tests.seed import BLUMAH, PLANTUNGAN, invite, kendal, round_
from tests.test_crash_restart import start_process
from tests.test_proposal_scenarios import join, setup_round

ZONE = ZoneInfo("Asia/Jakarta")
HEAD = {"id": "Siti mengirim usulan", "en": "Siti submitted proposal"}
TOTAL = {"id": "Rp 3.000.000", "en": "Rp 3,000,000"}  # 20 batang × Rp 150.000


async def confirmation_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> list[tuple[int, str, int]]:
    """(person_id, status, broadcast_id) of every queued submission confirmation."""
    async with sessions() as session:
        rows = await session.execute(
            select(Outbox.person_id, Outbox.status, Outbox.broadcast_id)
            .join(Broadcast, Broadcast.id == Outbox.broadcast_id)
            .where(Broadcast.template == Template.SUBMITTED.value)
            .order_by(Outbox.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def person_id(sessions: async_sessionmaker[AsyncSession], p: Person) -> int:
    async with sessions() as session:
        row = await queries.person_by_telegram_id(session, p.id)
        assert row is not None and row.id is not None
        return row.id


def copies(p: Person, number: str) -> int:
    return sum(1 for m in p.chat if number in m.text and "Siti" in m.text)


@contextlib.asynccontextmanager
async def nudging(app: App) -> AsyncIterator[None]:
    """The sender of these tests waits an hour between looks unless nudged: look often now."""

    async def nudge() -> None:
        while True:
            assert app.sender is not None
            app.sender.nudge()
            await asyncio.sleep(0.05)

    task = asyncio.create_task(nudge())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_each_member_once_in_own_language_through_faults(
    bot, person, sessions, clock, emulator, settings
):
    """Two other members (English, Indonesian; one paused announcements with /berhenti) get one
    copy each, through a dropped connection, a 500 and a 429; nobody else gets one."""
    settings.sender_poll = 3600  # held until nudged: what the handler itself sent shows alone
    district, _ = await setup_round(sessions, clock)
    run = await bot()
    siti, budi, rina = person("Siti", "id"), person("Budi", "en"), person("Rina", "id")
    other_village = person("Dewi", "id")
    for p in (siti, budi, rina):
        await join(p, sessions, district, clock)
    await join(other_village, sessions, district, clock, village=PLANTUNGAN)
    [resident] = await followers(sessions, emulator, BLUMAH, 1, 80_000, clock())
    await rina.send("/berhenti")
    async with sessions() as session:
        muted = await queries.person_by_telegram_id(session, rina.id)
        assert muted is not None and muted.announcements_muted

    number = await write_proposal(
        siti, "Saluran drainase RW 02", [("Pipa", "20 batang", "150.000", "apbd")]
    )
    # The submitter's own confirmation is the conversation's answer, sent at once.
    assert "Setiap anggota panitia Anda menerima ringkasan ini" in siti.reply_text
    assert TOTAL["id"] in siti.reply_text
    # Nothing went to the others inline: their copies wait, committed, in the outbox.
    assert copies(budi, number) == copies(rina, number) == 0
    queued = await confirmation_rows(sessions)
    ids = {await person_id(sessions, p) for p in (budi, rina)}
    assert sorted((pid, status) for pid, status, _ in queued) == sorted(
        (pid, "pending") for pid in ids
    )

    async with nudging(run.app):
        for kind, chaos in (("drop", (0, 0, 1)), ("500", (0, 1, 0)), ("429", (1, 0, 0))):
            before = emulator.chaos_counts[kind]
            emulator.chaos = chaos
            await until(lambda k=kind, b=before: emulator.chaos_counts[k] > b, within=30, what=kind)
            emulator.chaos = None
        await drained(sessions)

    submitted = (await proposal_by_number(sessions, number)).submitted_at
    assert submitted is not None
    for p, lang in ((budi, "en"), (rina, "id")):
        assert copies(p, number) == 1, [m.text for m in p.chat]
        [copy] = [m.text for m in p.chat if number in m.text and "Siti" in m.text]
        assert HEAD[lang] in copy and TOTAL[lang] in copy
        assert when(submitted, ZONE, lang) in copy  # the round's time zone, their language
    for p in (siti, other_village):
        assert not any(HEAD[lang] in m.text for m in p.chat for lang in HEAD)
    assert not any(number in m.text for m in emulator.messages.get(resident.id, []))
    assert {s for _, s, _ in await confirmation_rows(sessions)} == {"sent"}
    assert [r for r in emulator.refusals if r[1] != 429] == []


async def test_resubmission_is_confirmed_again_once(bot, person, sessions, clock, emulator):
    """A revision resubmitted: a second confirmation, in a broadcast of its own."""
    district, _ = await setup_round(sessions, clock, days=5)
    await bot()
    siti, budi, pokja = person("Siti", "id"), person("Budi", "en"), person("Pak Pokja", "id")
    await join(siti, sessions, district, clock)
    await join(budi, sessions, district, clock)
    await grant(pokja, sessions, district, Role.POKJA, clock())
    number = await write_proposal(siti, "Sumur RT 04", [("Pipa", "20 batang", "150.000", "apbd")])
    await drained(sessions)
    await pokja.send("/tinjau")
    await pokja.press(f"Buka {number}")
    await pokja.press("✏️ Minta revisi")
    await pokja.send("Perbaiki volume pipa.")
    await pokja.press("3 hari")
    await siti.send("/usulan")
    await siti.press(f"✏️ Lanjutkan: {number}")
    await siti.press("✏️ Judul")
    await siti.send("Sumur RT 04 (revisi)")
    await siti.press("📨 Kirim usulan")
    await drained(sessions)

    rows = await confirmation_rows(sessions)
    assert len(rows) == 2 and len({b for _, _, b in rows}) == 2
    assert {s for _, s, _ in rows} == {"sent"}
    [first, again] = [m.text for m in budi.chat if number in m.text and "Siti" in m.text]
    assert "Sumur RT 04 (revisi)" not in first and "Sumur RT 04 (revisi)" in again
    assert "resubmitted" in again


async def test_kill_after_the_commit_loses_no_confirmation(settings, emulator, sessions, person):
    """kill -9 after the submission's commit, before anything was sent: the copies were
    committed with it, and the restarted process sends each once."""
    emulator.settlers.append(settle_inbox(sessions))
    now = datetime.now(UTC)
    district = await kendal(sessions, now)
    # The wall clock: the round's year (in the district's zone) is whatever today makes it.
    number = f"KDL-{(await round_(sessions, district, now)).year}-001"
    process = await start_process(settings, emulator, SENDER_POLL="3600")
    try:
        siti, budi, rina = person("Siti", "id"), person("Budi", "en"), person("Rina", "id")
        for p in (siti, budi, rina):
            code = await invite(sessions, district, Role.PAKEM, now, village=BLUMAH)
            await p.send(f"/start {code}")
        await siti.press("📝 Usulan baru")
        await siti.send("Sumur bor RT 02")
        await siti.press("Air bersih")
        await siti.send("Dusun Sidomulyo")
        await siti.send("/skip")
        await siti.send("Warga kekurangan air bersih saat kemarau.")
        await siti.send("120")
        await siti.send("45")
        await siti.press("➕ Tambah baris")
        await siti.send("Pipa")
        await siti.send("20 batang")
        await siti.send("150.000")
        await siti.press("APBD (anggaran kabupaten)")
        await siti.press("✅ Selesai")
        await siti.press("✅ Selesai")
        # The submission commits; the submitter's reply is held; the process dies.
        hold = emulator.hold_next("sendMessage")
        message, button = siti.find_button("📨 Kirim usulan")
        await emulator.press(siti.user, message, button["callback_data"])
        press = emulator.last_update_id
        await asyncio.wait_for(hold.arrived.wait(), 30)
        process.kill()
        await process.wait()
        hold.release.set()

        [row] = await proposal_rows(sessions)
        assert (row.status, row.number) == ("submitted", number)
        ids = {await person_id(sessions, p) for p in (budi, rina)}
        assert {(pid, s) for pid, s, _ in await confirmation_rows(sessions)} == {
            (pid, "pending") for pid in ids
        }
        assert copies(budi, number) == copies(rina, number) == 0

        process = await start_process(settings, emulator)
        await drained(sessions, within=60)
        assert (await inbox_row(sessions, press)).status == "done"
        assert copies(budi, number) == copies(rina, number) == 1
        assert any(HEAD["en"] in m.text for m in budi.chat)
        assert any(HEAD["id"] in m.text for m in rina.chat)
        assert len(await proposal_rows(sessions)) == 1
        # The press is not handled again: its replies, kept with its commit, are sent again.
        # The one Telegram had taken before the kill is refused as unchanged, harmlessly, and
        # the answer to the press comes too late: both expected, neither seen by Siti.
        assert any(number in m.text for m in siti.chat)
        assert {(r[0], r[2].split(":")[1].strip()) for r in emulator.refusals} <= {
            (
                "answerCallbackQuery",
                "query is too old and response timeout expired or query ID is invalid",
            ),
            ("editMessageReplyMarkup", "message is not modified"),
        }
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def proposal_rows(sessions: async_sessionmaker[AsyncSession]) -> list[Proposal]:
    async with sessions() as session:
        return list((await session.execute(select(Proposal))).scalars())


async def test_confirmations_roll_back_with_the_submission(bot, person, sessions, clock):
    """The rows are written in the submission's transaction: rolled back, neither exists."""
    district, _ = await setup_round(sessions, clock)
    await bot()
    siti, budi = person("Siti", "id"), person("Budi", "en")
    await join(siti, sessions, district, clock)
    await join(budi, sessions, district, clock)
    # Siti's draft, at the review step, not submitted.
    await siti.press("📝 Usulan baru")
    await siti.send("Sumur bor RT 02")
    await siti.press("Air bersih")
    await siti.send("Dusun Sidomulyo")
    await siti.send("/skip")
    await siti.send("Warga kekurangan air bersih saat kemarau.")
    await siti.send("120")
    await siti.send("45")
    await siti.press("➕ Tambah baris")
    await siti.send("Pipa")
    await siti.send("20 batang")
    await siti.send("150.000")
    await siti.press("APBD (anggaran kabupaten)")
    await siti.press("✅ Selesai")
    await siti.press("✅ Selesai")
    [draft] = await proposal_rows(sessions)
    assert draft.id is not None

    async with sessions() as session:
        author = await queries.person_by_telegram_id(session, siti.id)
        assert author is not None
        view = await queries.person_view(session, author)
    async with sessions() as session:
        result = await proposals.submit(session, view, draft.id, clock())
        assert result.notified == 1
        await session.rollback()
    [still] = await proposal_rows(sessions)
    assert (still.status, still.number) == ("draft", None)
    assert await confirmation_rows(sessions) == []

    async with sessions() as session, session.begin():
        result = await proposals.submit(session, view, draft.id, clock())
    [pid] = [p for p, _, _ in await confirmation_rows(sessions)]
    assert pid == await person_id(sessions, budi)
    await drained(sessions)
    assert copies(budi, "KDL-2026-001") == 1


# -- rendering, without Telegram ---------------------------------------------------------------

AT = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def proposal(lines: int, **changes: object) -> ProposalView:
    base = ProposalView(
        id=7,
        round=RoundView(
            id=1,
            district_id=1,
            name="Tahap 1",
            year=2026,
            submission_deadline=AT + timedelta(days=30),
            ceiling=None,
            timezone="Asia/Jayapura",
            review_start=AT + timedelta(days=31),
            checklist=("a", "b"),
        ),
        village_kode=BLUMAH,
        village_name="Blumah",
        kecamatan_name="Plantungan",
        author_id=3,
        status="submitted",
        step="review",
        return_to_review=False,
        number="KDL-2026-001",
        title="Jalan <beton> & saluran",
        activity="road",
        location_name="Dusun Krajan",
        latitude=-7.04,
        longitude=110.12,
        problem="Becek. " * 40,
        households=120,
        poor_households=45,
        editing_line_id=None,
        updated_at=AT,
        submitted_at=AT,
        lines=tuple(
            LineView(n, n, f"Barang nomor {n} " + "x" * 60, 1000 * n, "sak", 65_000, "apbd", True)
            for n in range(1, lines + 1)
        ),
        attachments=(AttachmentView(1, "photo", "f1", None),),
        version=2,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


VIEWS = [
    proposal(1),
    proposal(3, resubmitted_at=AT + timedelta(days=9), revision_deadline=AT + timedelta(days=12)),
    proposal(0, latitude=None, longitude=None, households=None, attachments=()),
    proposal(120),
]


@pytest.mark.parametrize("view", VIEWS, ids=["one-line", "resubmitted", "empty", "long"])
def test_kept_proposal_comes_back_equal(view: ProposalView) -> None:
    params = json.loads(json.dumps(submission_params(view, "Siti"), ensure_ascii=False))
    assert params["proposal"] == view.id
    assert submitted_view(params) == view


def broadcast(view: ProposalView) -> BroadcastView:
    return BroadcastView(
        id=1,
        district_id=1,
        district_name="Kabupaten Kendal",
        timezone="Asia/Jakarta",
        kind="event",
        status="queued",
        step="queued",
        author_id=None,
        body=None,
        media_kind=None,
        media_file_id=None,
        template=Template.SUBMITTED.value,
        params=json.loads(json.dumps(submission_params(view, "Siti <Aminah>"))),
        scope=None,
        codes=(),
        total=1,
        created_at=AT,
        queued_at=AT,
        finished_at=None,
        progress_chat_id=None,
        progress_message_id=None,
    )


@pytest.mark.parametrize("locale", ["id", "en"])
@pytest.mark.parametrize("view", VIEWS, ids=["one-line", "resubmitted", "empty", "long"])
def test_rendered_in_parts_that_fit(view: ProposalView, locale: str) -> None:
    renderer = OutboundRenderer(build_i18n("id"))
    row = ClaimedRow(1, 1, 1, 42, locale, None, 0)
    messages = renderer.message(broadcast(view), row)
    head = {"id": "Siti &lt;Aminah&gt; mengirim usulan", "en": "Siti &lt;Aminah&gt; submitted"}
    assert head[locale] in messages[0].text
    assert all(visible_length(m.text) <= MESSAGE_LIMIT for m in messages)
    assert all(m.markup is None and m.media_kind is None for m in messages)
    assert (len(messages) > 1) == (len(view.lines) > 50)
    everything = "\n".join(m.text for m in messages)
    assert when(AT, ZoneInfo("Asia/Jayapura"), locale) in everything  # the round's zone
    assert f"Barang nomor {len(view.lines)}" in everything or not view.lines
