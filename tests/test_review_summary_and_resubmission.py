"""How often the whole proposal summary arrives, and the first submission time kept through a
revision: over the emulator, what each person saw, what the database and the exports hold."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from bot.i18n import when
from storage.models import Proposal
from storage.views import Role
from tests.outbound_helpers import drained
from tests.people import Person
from tests.review_helpers import everything_seen, grant, proposal_by_number, write_proposal
from tests.test_proposal_scenarios import LABELS, add_line, fill_until_budget, join, rows
from tests.test_proposal_scenarios import setup_round as setup

# One block of the whole summary, and only of it, in each language.
SUMMARY_MARK = {"id": "Masalah yang diatasi:", "en": "Problem it solves:"}
ZONE = ZoneInfo("Asia/Jakarta")


def summaries(p: Person, lang: str) -> int:
    return sum(1 for m in p.chat if SUMMARY_MARK[lang] in m.text)


async def test_whole_summary_only_at_review_and_on_submit(bot, person, sessions, clock, emulator):
    district, _ = await setup(sessions, clock, days=5)
    await bot()
    siti, budi, pokja = person("Siti", "id"), person("Budi", "en"), person("Pak Pokja", "id")
    await join(siti, sessions, district, clock)
    await join(budi, sessions, district, clock)
    await grant(pokja, sessions, district, Role.POKJA, clock())
    L = LABELS["id"]

    await fill_until_budget(siti, "id")
    await add_line(siti, "id", "Semen", "10 sak", "65.000", "swadaya")
    await siti.press(L["done"])
    await siti.press(L["done"])
    assert summaries(siti, "id") == 1  # arriving at the review

    # An edit at the review shows what changed, not the whole summary again.
    await siti.press(L["edit_title"])
    await siti.send("Betonisasi jalan RT 03 dan RT 04")
    assert siti.saw("Yang berubah")
    assert siti.saw("Judul: Betonisasi jalan RT 03 → Betonisasi jalan RT 03 dan RT 04")
    assert siti.saw("Langkah 8 dari 8")
    await siti.press("✏️ Penerima manfaat")
    await siti.send("200 KK")
    await siti.send("90")
    assert siti.saw(
        "Penerima manfaat: 120 KK, 45 di antaranya KK miskin → 200 KK, 90 di antaranya KK miskin"
    )
    assert not siti.saw("Judul:")  # only this edit's change
    await siti.press("✏️ Anggaran")
    await siti.press(L["add"])
    await siti.send("Pasir")
    await siti.send("2 m3")
    await siti.send("200.000")
    await siti.press(L["apbd"])
    await siti.press(L["done"])
    assert siti.saw("Baris anggaran: — → Pasir: 2 m3 × Rp 200.000 = Rp 400.000")
    assert siti.saw("Jumlah: Rp 650.000 → Rp 1.050.000")
    # A removed line is that line, not every line after it.
    await siti.press("✏️ Anggaran")
    await siti.press(L["remove"])
    await siti.press("1. Semen")
    await siti.press(L["done"])
    assert siti.saw("Baris anggaran: Semen: 10 sak × Rp 65.000 = Rp 650.000")
    assert not siti.saw("Baris anggaran: Pasir")
    assert siti.saw("Jumlah: Rp 1.050.000 → Rp 400.000")
    await siti.send("/kembali")
    await siti.press(L["done"])
    assert siti.saw("Tidak ada yang berubah pada usulan")
    assert summaries(siti, "id") == 1
    # The whole summary when she asks for it.
    await siti.press("📄 Lihat seluruh usulan")
    assert summaries(siti, "id") == 2 and siti.saw("Betonisasi jalan RT 03 dan RT 04")

    await siti.press(L["submit"])
    await drained(sessions)  # the committee's copies go through the outbox
    assert summaries(siti, "id") == 3 and summaries(budi, "en") == 1  # on submit, to each
    [row] = await rows(sessions, Proposal)
    assert (row.households, row.poor_households, row.status) == (200, 90, "submitted")
    first = row.submitted_at
    assert first is not None and row.resubmitted_at is None

    # -- the POKJA asks for a revision after the deadline; Siti revises and resubmits --------
    clock.advance(days=6)
    await pokja.send("/tinjau")
    await pokja.press("Buka KDL-2026-001")
    await pokja.press("✏️ Minta revisi")
    await pokja.send("Tambahkan gambar teknis dan perbaiki volume semen.")
    await pokja.press("3 hari")
    assert pokja.saw("KDL-2026-001: diminta revisi")
    assert summaries(budi, "en") == 1
    pokja_read = summaries(pokja, "id")  # in the dossiers it opened
    clock.advance(hours=5)
    await siti.send("/usulan")
    await siti.press("✏️ Lanjutkan: KDL-2026-001")
    assert summaries(siti, "id") == 4  # she opened it: the whole summary, with the request
    assert siti.saw("perbaiki volume semen")
    await siti.press(L["edit_title"])
    await siti.send("Betonisasi jalan RT 03 dan RT 04 (revisi)")
    assert summaries(siti, "id") == 4 and siti.saw("Yang berubah")
    await siti.press(L["submit"])
    await drained(sessions)
    assert summaries(siti, "id") == 5 and summaries(budi, "en") == 2
    assert summaries(pokja, "id") == pokja_read  # the POKJA reads it when it opens the dossier

    assert not emulator.refusals


async def test_first_submission_time_kept_through_a_revision(
    bot, person, sessions, clock, emulator
):
    """An on-time proposal, revised and resubmitted after the deadline, does not look late."""
    district, round_view = await setup(sessions, clock, days=5)
    await bot()
    ani, budi, pokja = person("Ani", "id"), person("Budi", "en"), person("Pak Pokja", "id")
    await join(ani, sessions, district, clock)
    await join(budi, sessions, district, clock)
    await grant(pokja, sessions, district, Role.POKJA, clock())
    number = await write_proposal(
        ani, "Saluran drainase RW 02", [("Pipa", "20 batang", "150.000", "apbd")]
    )
    first = (await proposal_by_number(sessions, number)).submitted_at
    assert first is not None and first < round_view.submission_deadline

    clock.advance(days=6)  # past the submission deadline
    await pokja.send("/tinjau")
    await pokja.press(f"Buka {number}")
    await pokja.press("✏️ Minta revisi")
    await pokja.send("Perbaiki volume pipa menjadi 25 batang.")
    await pokja.press("3 hari")
    clock.advance(hours=5)
    await ani.send("/usulan")
    await ani.press(f"✏️ Lanjutkan: {number}")
    await ani.press("✏️ Judul")
    await ani.send("Saluran drainase RW 02 (revisi)")
    await ani.press("📨 Kirim usulan")

    row = await proposal_by_number(sessions, number)
    assert row.status == "submitted" and row.submitted_at == first
    again = row.resubmitted_at
    assert again is not None and again > round_view.submission_deadline
    first_id, again_id = when(first, ZONE, "id"), when(again, ZONE, "id")
    assert f"Dikirim: {first_id} · dikirim ulang: {again_id}" in ani.reply_text
    first_en, again_en = when(first, ZONE, "en"), when(again, ZONE, "en")
    await drained(sessions)
    assert f"Submitted: {first_en} · resubmitted: {again_en}" in everything_seen(budi)

    emulator.calls.clear()
    await pokja.send("/ekspor")
    uploads = {
        p["document"]["upload"].rsplit("-", 1)[-1]: p["document"]["data"]
        for m, p in emulator.calls
        if m == "sendDocument"
    }
    stamp = first.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
    restamp = again.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
    [line] = list(csv.DictReader(io.StringIO(uploads["proposals.csv"].decode("utf-8-sig"))))
    assert line["Dikirim"] == stamp and line["Dikirim ulang setelah revisi"] == restamp
    sheet = load_workbook(io.BytesIO(uploads["proposals.xlsx"])).active
    header, values = list(sheet.values)
    cells = dict(zip(header, values, strict=True))
    assert cells["Dikirim"] == stamp and cells["Dikirim ulang setelah revisi"] == restamp
    assert not emulator.refusals
