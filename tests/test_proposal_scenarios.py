"""Whole conversations over the emulator: what each person saw, and what the database holds."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from storage.models import Attachment, AuditEntry, BudgetLine, Proposal
from storage.views import Role
from tests.outbound_helpers import drained
from tests.people import Person
from tests.seed import BLUMAH, PLANTUNGAN, invite, kendal, round_

LABELS = {
    "id": {
        "new": "📝 Usulan baru",
        "road": "Jalan dan gang",
        "add": "➕ Tambah baris",
        "apbn": "APBN (anggaran nasional)",
        "swadaya": "Swadaya masyarakat",
        "apbd": "APBD (anggaran kabupaten)",
        "done": "✅ Selesai",
        "submit": "📨 Kirim usulan",
        "correct": "✏️ Perbaiki baris",
        "remove": "🗑 Hapus baris",
        "edit_title": "✏️ Judul",
        "save": "💾 Simpan dan keluar",
        "skip": "Lewati",
    },
    "en": {
        "new": "📝 New proposal",
        "road": "Roads and paths",
        "add": "➕ Add a line",
        "swadaya": "Self-help (swadaya)",
        "apbd": "District budget (APBD)",
        "done": "✅ Done",
        "submit": "📨 Submit",
        "correct": "✏️ Correct a line",
        "remove": "🗑 Remove a line",
        "edit_title": "✏️ Title",
        "save": "💾 Save and leave",
        "skip": "Skip",
    },
}


async def setup_round(sessions, clock, **round_kw):
    district = await kendal(sessions, clock())
    round_view = await round_(sessions, district, clock(), **round_kw)
    return district, round_view


async def join(p: Person, sessions, district, clock, village=BLUMAH, round_id=None) -> None:
    code = await invite(sessions, district, Role.PAKEM, clock(), village=village, round_id=round_id)
    await p.send(f"/start {code}")


async def fill_until_budget(p: Person, lang: str, title: str = "Betonisasi jalan RT 03") -> None:
    L = LABELS[lang]
    await p.press(L["new"])
    await p.send(title)
    await p.press(L["road"])
    await p.send("Dusun Krajan, RT 03/RW 01")
    await p.send_location(-7.0412, 110.1267)
    await p.send("Jalan tanah becek saat hujan; anak sekolah & lansia sulit lewat.")
    await p.send("120")
    await p.send("45")


async def add_line(p: Person, lang: str, item: str, qty: str, price: str, source: str) -> None:
    L = LABELS[lang]
    await p.press(L["add"])
    await p.send(item)
    await p.send(qty)
    await p.send(price)
    await p.press(L[source])


async def rows(sessions, model, *where):
    async with sessions() as session:
        return list((await session.execute(select(model).where(*where))).scalars())


@pytest.mark.parametrize("lang", ["id", "en"])
async def test_whole_proposal(lang, bot, person, sessions, clock, emulator):
    district, _ = await setup_round(sessions, clock, ceiling=500_000_000)
    await bot()
    siti = person("Siti", lang)
    budi = person("Budi", "en" if lang == "id" else "id")
    await join(siti, sessions, district, clock)
    await join(budi, sessions, district, clock)
    L = LABELS[lang]

    await fill_until_budget(siti, lang)
    assert siti.saw("Anggaran" if lang == "id" else "Budget")
    price = "Rp 65.000" if lang == "id" else "Rp 65,000"
    await add_line(siti, lang, "Semen 50 kg", "50 sak", price, "swadaya")
    expected_line = "Rp 3.250.000" if lang == "id" else "Rp 3,250,000"
    assert siti.saw(expected_line)
    await add_line(siti, lang, "Pasir", "12,5 m3", "1,5 juta", "apbd")
    # Running total and its split by source after every line.
    total = "Rp 22.000.000" if lang == "id" else "Rp 22,000,000"
    assert siti.saw(total)
    assert siti.saw("Rp 18.750.000" if lang == "id" else "Rp 18,750,000")
    await siti.press(L["done"])
    await siti.send_photo()
    await siti.send_document("rab.pdf")
    await siti.press(L["done"])
    summary = siti.reply_text
    assert "Betonisasi jalan RT 03" in summary
    assert "anak sekolah &amp;" not in summary and "anak sekolah & lansia" in summary
    assert ("Langkah 8 dari 8" if lang == "id" else "Step 8 of 8") in summary
    await siti.press(L["submit"])
    confirmation = siti.reply_text
    assert "KDL-2026-001" in confirmation
    assert total in confirmation

    # The database holds the whole proposal, in whole Rupiah.
    [proposal] = await rows(sessions, Proposal)
    assert proposal.status == "submitted" and proposal.number == "KDL-2026-001"
    assert (proposal.households, proposal.poor_households) == (120, 45)
    assert proposal.latitude == pytest.approx(-7.0412)
    lines = await rows(sessions, BudgetLine, BudgetLine.proposal_id == proposal.id)
    assert sorted(
        (line.item, line.volume_milli, line.unit, line.unit_price, line.source) for line in lines
    ) == [
        ("Pasir", 12_500, "m3", 1_500_000, "apbd"),
        ("Semen 50 kg", 50_000, "sak", 65_000, "swadaya"),
    ]
    assert len(await rows(sessions, Attachment)) == 2
    actions = [e.action for e in await rows(sessions, AuditEntry)]
    assert actions.count("role.grant") == 2 and "proposal.submit" in actions

    # The other committee member gets the full summary, in their own language (the outbox).
    await drained(sessions)
    other = budi.chat[-1].text
    other_total = "Rp 22,000,000" if lang == "id" else "Rp 22.000.000"
    assert "KDL-2026-001" in other and other_total in other
    greeting = "Siti submitted proposal" if lang == "id" else "Siti mengirim usulan"
    assert greeting in other
    assert not emulator.refusals


async def test_wrong_input_at_each_step(bot, person, sessions, clock, emulator):
    district, _ = await setup_round(sessions, clock)
    await bot()
    siti = person("Siti", "id")
    await join(siti, sessions, district, clock)
    await siti.press(LABELS["id"]["new"])

    await siti.send_sticker()
    assert siti.saw("Mohon jawab dengan teks")
    await siti.send("x" * 201)
    assert siti.saw("Terlalu panjang: 201 karakter, paling banyak 200")
    await siti.send("<script>alert(1)</script> Jalan")
    await siti.send("jalan")  # text where a button is expected
    assert siti.saw("Mohon pilih dengan tombol")
    await siti.press("Jalan dan gang")
    await siti.send_photo()  # a photo for the place name
    assert siti.saw("Mohon jawab dengan teks")
    await siti.send("Dusun Krajan")
    await siti.send("Kantor desa")  # text where a location or skip is expected
    assert siti.saw("Mohon kirim lokasi")
    await siti.tap("Lewati")
    await siti.send("y" * 3001)
    assert siti.saw("Terlalu panjang: 3001 karakter, paling banyak 3000")
    await siti.send("Jalan rusak parah, warga sulit lewat.")
    await siti.send("banyak")
    assert siti.saw("bilangan bulat")
    await siti.send("0")
    assert siti.saw("antara 1 dan")
    await siti.send("100")
    await siti.send("150")
    assert siti.saw("tidak boleh lebih dari jumlah semua KK (100)")
    await siti.send("60")
    await siti.send("/skip")  # budget is not optional
    assert siti.saw("tidak bisa dilewati")
    await siti.press(LABELS["id"]["add"])
    await siti.send("Semen")
    await siti.send("50")
    assert siti.saw("tambahkan satuan")
    await siti.send("50 sak")
    await siti.send_photo()  # a photo for an amount
    assert siti.saw("Mohon jawab dengan teks")
    for bad, words in [
        ("-5000", "tidak boleh negatif"),
        ("0", "lebih dari nol"),
        ("1,500", "tidak yakin"),
        ("sejuta", "tidak mengerti"),
        ("99999999999999", "terlalu besar"),
        ("2m", "tidak yakin"),
    ]:
        await siti.send(bad)
        assert siti.saw(words), bad
        assert siti.saw("1,5 juta"), "every refusal shows what works"
    await siti.send("65rb")
    assert siti.saw("Rp 65.000")
    [proposal] = await rows(sessions, Proposal)
    assert proposal.title == "<script>alert(1)</script> Jalan"
    assert (proposal.households, proposal.poor_households, proposal.step) == (
        100,
        60,
        "line_source",
    )
    lines = await rows(sessions, BudgetLine)
    assert [(line.volume_milli, line.unit_price) for line in lines] == [(50_000, 65_000)]
    assert not emulator.refusals


AMOUNTS = [
    ("1500000", 1_500_000),
    ("1.500.000", 1_500_000),
    ("Rp 1.500.000", 1_500_000),
    ("Rp1.500.000,00", 1_500_000),
    ("1,5 juta", 1_500_000),
    ("1,5jt", 1_500_000),
    ("750 ribu", 750_000),
    ("2 M", 2_000_000_000),
    ("2 milyar", 2_000_000_000),
    ("2 miliar", 2_000_000_000),
]


async def test_every_amount_format(bot, person, sessions, clock, emulator):
    district, _ = await setup_round(sessions, clock)
    await bot()
    siti = person("Siti", "id")
    await join(siti, sessions, district, clock)
    await fill_until_budget(siti, "id")
    from babel.numbers import format_decimal

    for text, value in AMOUNTS:
        await siti.press(LABELS["id"]["add"])
        await siti.send(f"Barang {text}")
        await siti.send("1 paket")
        await siti.send(text)
        # The bot echoes what it understood, in Indonesian notation.
        assert siti.saw(f"1 paket × Rp {format_decimal(value, locale='id')}"), text
        await siti.press("Swadaya masyarakat")
    lines = await rows(sessions, BudgetLine)
    assert [line.unit_price for line in sorted(lines, key=lambda x: x.position)] == [
        v for _, v in AMOUNTS
    ]
    assert not siti.saw("melebihi batas")
    await add_line(siti, "id", "Gedung", "1 unit", "4 M", "apbn")
    # Now over the programme's cap of Rp 10 milyar: said at the budget step.
    assert siti.saw("melebihi batas Rp 10.000.000.000")


async def test_back_and_cancel_keep_everything(bot, person, sessions, clock, emulator):
    district, _ = await setup_round(sessions, clock)
    await bot()
    siti = person("Siti", "en")
    await join(siti, sessions, district, clock)
    await siti.press("📝 New proposal")
    await siti.send("/back")
    assert siti.saw("This is the first step")
    await siti.send("Jalan RT 05")
    await siti.press("Drainage")
    await siti.send("/back")
    assert siti.saw("What type of activity")
    await siti.press("Roads and paths")
    await siti.send("/cancel")
    assert siti.saw("The draft is saved")
    await siti.send("Hello?")
    assert siti.saw("/drafts")
    await siti.send("/drafts")
    assert siti.saw("Jalan RT 05")
    await siti.press("✏️ Continue: Jalan RT 05")
    assert siti.saw("Where is it?")
    [proposal] = await rows(sessions, Proposal)
    assert (proposal.title, proposal.activity, proposal.step) == ("Jalan RT 05", "road", "location")
    # Correct and remove budget lines, going back from a line to the budget menu.
    await siti.send("RT 05")
    await siti.send("/skip")
    await siti.send("Banjir setiap musim hujan di RT 05.")
    await siti.send("80")
    await siti.send("30")
    await add_line(siti, "en", "Pipa", "10 batang", "100 ribu", "apbd")
    await add_line(siti, "en", "Semen", "5 sak", "65000", "swadaya")
    await siti.press("✏️ Correct a line")
    await siti.press("1. Pipa")
    assert siti.saw("Now: Pipa")
    await siti.send("/skip")
    await siti.send("20 batang")
    await siti.send("/skip")
    await siti.press("District budget (APBD)")
    assert siti.saw("Rp 2,000,000")
    await siti.press("🗑 Remove a line")
    await siti.press("2. Semen")
    assert siti.saw("The line is removed")
    await siti.press("➕ Add a line")
    await siti.send("/back")
    assert siti.saw("Add a line, correct or remove one")
    lines = await rows(sessions, BudgetLine)
    assert [(line.item, line.volume_milli, line.complete) for line in lines] == [
        ("Pipa", 20_000, True)
    ]
    assert not emulator.refusals


async def test_resume_after_restart(bot, person, sessions, clock, emulator):
    from tests.conftest import stop

    district, _ = await setup_round(sessions, clock)
    first = await bot()
    siti = person("Siti", "id")
    await join(siti, sessions, district, clock)
    await siti.press(LABELS["id"]["new"])
    await siti.send("Sumur bor RT 02")
    await siti.press("Air bersih")
    await stop(first)
    # While the bot is down, she types the place name; Telegram keeps it for the next start.
    await emulator.user_message(siti.user, text="Dusun Sidomulyo")
    await bot()
    assert siti.chat[-1].text.count("lokasi dari HP") == 1
    [proposal] = await rows(sessions, Proposal)
    assert (proposal.location_name, proposal.step) == ("Dusun Sidomulyo", "geo")
    await siti.tap("Lewati")
    assert siti.saw("Masalah apa yang diatasi")
    assert not emulator.refusals


async def test_expired_used_and_unknown_invites(bot, person, sessions, clock, emulator):
    district, _ = await setup_round(sessions, clock)
    code = await invite(sessions, district, Role.PAKEM, clock(), village=BLUMAH)
    await bot()
    clock.advance(days=8)
    siti = person("Siti", "id")
    await siti.send(f"/start {code}")
    assert siti.saw("Undangan ini kedaluwarsa pada 9 November 2026")
    fresh = await invite(sessions, district, Role.PAKEM, clock(), village=BLUMAH)
    await siti.send(f"/start {fresh}")
    assert siti.saw("Anda sekarang anggota PAKEM")
    budi = person("Budi", "id")
    await budi.send(f"/start {fresh}")
    assert budi.saw("sudah dipakai")
    await budi.send("/start NOSUCHCODE")
    assert budi.saw("tidak dikenal")
    await budi.send("/new")
    assert budi.saw("Hanya anggota panitia kemitraan desa (PAKEM)")
    grants = [e for e in await rows(sessions, AuditEntry) if e.action == "role.grant"]
    assert len(grants) == 1 and json.loads(grants[0].detail)["code"] == fresh


async def test_submission_after_deadline(bot, person, sessions, clock, emulator):
    district, _ = await setup_round(sessions, clock, days=2)
    await bot()
    siti = person("Siti", "id")
    await join(siti, sessions, district, clock)
    await fill_until_budget(siti, "id")
    await add_line(siti, "id", "Semen", "10 sak", "65.000", "swadaya")
    await siti.press("✅ Selesai")
    await siti.press("✅ Selesai")
    clock.advance(days=3)
    await siti.press("📨 Kirim usulan")
    assert siti.saw("Batas waktu pengajuan sudah lewat (4 November 2026, 10:00 WIB)")
    await siti.send("Judul baru")
    assert siti.saw("Batas waktu pengajuan sudah lewat")
    await siti.send("/drafts")
    assert siti.saw("draf, terkunci setelah batas waktu")
    await siti.press("👁 Baca: Betonisasi jalan RT 03")
    assert siti.saw("Betonisasi jalan RT 03")
    await siti.send("/new")
    assert siti.saw("tidak ada tahap yang menerima pengajuan")
    [proposal] = await rows(sessions, Proposal)
    assert proposal.status == "draft" and proposal.number is None
    assert proposal.title == "Betonisasi jalan RT 03"


async def test_over_ceiling_cannot_be_submitted(bot, person, sessions, clock, emulator):
    district, _ = await setup_round(sessions, clock, ceiling=5_000_000)
    await bot()
    siti = person("Siti", "en")
    await join(siti, sessions, district, clock)
    await fill_until_budget(siti, "en")
    await add_line(siti, "en", "Semen", "100 sak", "65,000", "swadaya")
    assert siti.saw("over the limit of Rp 5,000,000")
    await siti.press("✅ Done")
    await siti.press("✅ Done")
    assert siti.saw("over the limit of Rp 5,000,000")
    await siti.press("📨 Submit")
    assert siti.saw("The total Rp 6,500,000 is over the limit of Rp 5,000,000")
    [proposal] = await rows(sessions, Proposal)
    assert proposal.status == "draft"


async def test_two_members_of_one_village_at_once(bot, person, sessions, clock, emulator):
    district, _ = await setup_round(sessions, clock)
    await bot()
    siti, budi = person("Siti", "id"), person("Budi", "en")
    await join(siti, sessions, district, clock)
    await join(budi, sessions, district, clock)
    await siti.press(LABELS["id"]["new"])
    await budi.press(LABELS["en"]["new"])
    await siti.send("Drainase RT 01")
    await budi.send("Sumur RT 04")
    await budi.press("Clean water")
    await siti.press("Drainase")
    for p in (siti, budi):
        await p.send("Dusun Krajan")
        await p.send("/skip")
        await p.send("Masalah air dan banjir di dusun.")
        await p.send("50")
        await p.send("20")
    await add_line(siti, "id", "Saluran", "100 m", "150.000", "apbd")
    await add_line(budi, "en", "Bor", "1 unit", "25 juta", "swadaya")
    for p, lang in ((budi, "en"), (siti, "id")):
        await p.press(LABELS[lang]["done"])
        await p.press(LABELS[lang]["done"])
        # Telegram's flood limit hits a reply: it is waited out, not lost nor apologised for.
        emulator.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        await p.press(LABELS[lang]["submit"])
    found = {p.title: p.number for p in await rows(sessions, Proposal)}
    assert found == {"Sumur RT 04": "KDL-2026-001", "Drainase RT 01": "KDL-2026-002"}
    # Each got the other's confirmation too, in their own language (the outbox).
    await drained(sessions)
    assert any("Budi mengirim usulan" in m.text for m in siti.chat)
    assert any("Siti submitted proposal" in m.text for m in budi.chat)
    assert [r for r in emulator.refusals if r[1] != 429] == []
    assert sum(1 for m in budi.chat if "KDL-2026-001" in m.text) == 1


@pytest.mark.parametrize(
    ("code", "expected"),
    [("pt-br", "id"), ("zz", "id"), ("en-US", "en"), (None, "id"), ("12$%", "id"), ("en", "en")],
)
async def test_language_codes(code, expected, bot, person, sessions, clock, emulator):
    await setup_round(sessions, clock)
    await bot()
    p = person("Ana", code)
    await p.send("/start")
    hello = "Ini PAKET Bot" if expected == "id" else "This is PAKET Bot"
    assert p.saw(hello)
    await p.send("/bahasa")
    await p.press("English" if expected == "id" else "Bahasa Indonesia")
    assert p.saw("Language set: English." if expected == "id" else "Bahasa diatur")


async def test_group_chat_points_to_private(bot, person, emulator, sessions, clock):
    await setup_round(sessions, clock)
    await bot()
    p = person("Ana", "id")
    emulator.group(-100123, "Warga Blumah")
    await emulator.user_message(p.user, chat_id=-100123, text="/start")
    await emulator.user_message(p.user, chat_id=-100123, text="selamat pagi semua")
    await emulator.idle()
    group = [m for m in emulator.messages[-100123] if m.from_bot]
    assert len(group) == 1
    [button] = group[0].buttons()
    assert button["url"] == "https://t.me/paket_test_bot?start=help"


async def test_forged_button_for_someone_elses_draft(bot, person, sessions, clock, emulator):
    district, _round_view = await setup_round(sessions, clock)
    await bot()
    siti, eko = person("Siti", "id"), person("Eko", "id")
    await join(siti, sessions, district, clock)
    await join(eko, sessions, district, clock, village=PLANTUNGAN)
    await siti.press(LABELS["id"]["new"])
    await siti.send("Jalan Siti")
    [proposal] = await rows(sessions, Proposal)
    await eko.send("/start")
    await eko.press_data(eko.last, f"d:a:{proposal.id}:0")
    assert eko.saw("Anda tidak bisa melakukan itu")
    [proposal] = await rows(sessions, Proposal)
    assert proposal.activity is None and proposal.step == "activity"
    assert not emulator.refusals


async def test_an_update_delivered_twice_is_applied_once(bot, person, sessions, clock, emulator):
    from tests.conftest import stop

    district, _ = await setup_round(sessions, clock)
    first = await bot()
    siti = person("Siti", "id")
    await join(siti, sessions, district, clock)
    await fill_until_budget(siti, "id")
    answer_id = emulator.last_update_id - 1  # "120" households, just before "45"
    await stop(first)
    # The bot stopped after handling "120" but before Telegram heard so: it comes again.
    await emulator.redeliver(answer_id)
    seen = len(siti.chat)
    await bot()
    assert len(siti.chat) == seen  # silence: it was answered the first time
    [proposal] = await rows(sessions, Proposal)
    assert (proposal.households, proposal.poor_households, proposal.step) == (120, 45, "budget")


async def test_round_is_asked_only_when_several_are_open(bot, person, sessions, clock, emulator):
    district, first = await setup_round(sessions, clock)
    second = await round_(sessions, district, clock(), name="Tahap 2 2026", days=60)
    await bot()
    siti = person("Siti", "en")
    await join(siti, sessions, district, clock, round_id=first.id)
    await siti.send("/new")
    assert siti.saw("What is the title")  # one round of hers is open: no question
    await siti.send("/cancel")
    await join(siti, sessions, district, clock, round_id=second.id)
    await siti.send("/new")
    assert siti.saw("Several rounds are open")
    await siti.press("Tahap 2 2026")
    assert siti.saw("What is the title")
    drafts = await rows(sessions, Proposal)
    assert sorted(p.round_id for p in drafts) == [first.id, second.id]


async def test_review_edits_attachment_limit_and_read_only_after_submit(
    bot, person, sessions, clock, emulator
):
    district, _ = await setup_round(sessions, clock)
    await bot()
    siti = person("Siti", "en")
    await join(siti, sessions, district, clock)
    await fill_until_budget(siti, "en")
    await add_line(siti, "en", "Semen", "10 sak", "65,000", "swadaya")
    await siti.press("✅ Done")
    for _ in range(10):
        await siti.send_photo()
    await siti.send_document("foto.exe", "application/x-msdownload")
    assert siti.saw("Only photos and PDF documents")
    await siti.send_photo()
    assert siti.saw("already has 10 attachments")
    await siti.press("✅ Done")
    await siti.press("✏️ Title")
    await siti.send("Betonisasi jalan RT 03 dan RT 04")
    assert siti.saw("Betonisasi jalan RT 03 dan RT 04") and siti.saw("Step 8 of 8")
    await siti.press("✏️ Beneficiaries")
    await siti.send("200")
    await siti.send("90")
    assert siti.saw("200 households, 90 of them poor")
    review, title_button = siti.find_button("✏️ Title")
    await siti.press("📨 Submit")
    assert siti.saw("KDL-2026-001")
    # The review's buttons are gone; an old copy of one, pressed anyway, changes nothing.
    assert "✏️ Title" not in [b["text"] for b in review.buttons()]
    await siti.press_data(review, title_button["callback_data"])
    assert siti.saw("has been submitted and can no longer be changed")
    [proposal] = await rows(sessions, Proposal)
    assert (proposal.title, proposal.households, proposal.poor_households) == (
        "Betonisasi jalan RT 03 dan RT 04",
        200,
        90,
    )
    assert len(await rows(sessions, Attachment)) == 10
    assert not emulator.refusals


async def test_long_summary_is_split_within_telegram_limits(bot, person, sessions, clock, emulator):
    district, _ = await setup_round(sessions, clock)
    await bot()
    siti = person("Siti", "id")
    await join(siti, sessions, district, clock)
    await fill_until_budget(siti, "id")
    await siti.send("/cancel")
    [proposal] = await rows(sessions, Proposal)
    async with sessions() as session, session.begin():
        row = await session.get(Proposal, proposal.id)
        row.problem = "Masalah <b>&amp; banjir</b> " * 110  # 2,900 characters, shown escaped
        row.step = "attachments"
        for i in range(1, 61):
            session.add(
                BudgetLine(
                    proposal_id=row.id,
                    position=i,
                    item=f"Barang nomor {i} " * 6,
                    volume_milli=1000 * i,
                    unit="unit",
                    unit_price=10_000,
                    source="apbd",
                    complete=True,
                )
            )
    await siti.send("/drafts")
    await siti.press("✏️ Lanjutkan: Betonisasi jalan RT 03")
    await siti.press("✅ Selesai")
    summary = [m for m in siti.replies if "Langkah" not in m.text]
    assert len(summary) >= 3
    assert all(len(m.text) <= 4096 for m in summary)
    text = "\n".join(m.text for m in summary)
    assert "Masalah <b>&amp; banjir</b>" in text  # escaped on the way out, shown literally
    assert all(f"{i}. Barang nomor {i}" in text for i in range(1, 61))
    assert not emulator.refusals


async def test_telegram_failing_mid_answer_loses_neither_the_answer_nor_the_reply(
    bot, person, sessions, clock, emulator
):
    """Telegram fails the reply (500). The answer was committed before the reply left, so it
    stays; the reply, kept with it, is sent again once Telegram takes it: no apology, no need
    to type it again, and the question comes once."""
    district, _ = await setup_round(sessions, clock)
    await bot()
    siti = person("Siti", "id")
    await join(siti, sessions, district, clock)
    await siti.press(LABELS["id"]["new"])
    emulator.fail_next("sendMessage", 500, "Internal Server Error")
    await siti.send("Jalan RT 07")
    assert not siti.saw("Maaf, terjadi kesalahan di pihak kami")
    assert sum("Apa jenis kegiatannya" in m.text for m in siti.chat) == 1
    [proposal] = await rows(sessions, Proposal)
    assert (proposal.title, proposal.step) == ("Jalan RT 07", "activity")
