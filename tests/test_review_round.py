"""A whole round in public, over the emulator: review, candidates, objections, winners.

Several villages and proposals; a revision, a rejection and candidates; objections filed with a
name and anonymously, one after the window; the committee's reply; one objection upheld and one
dismissed; the final winners and their exports. At every step: what each person saw, and what
the database and the audit log hold.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from bot.config import Settings
from bot.deeplink import village_parameter
from storage.views import Role
from tests.outbound_helpers import drained
from tests.review_helpers import (
    KEDITEN,
    all_audit,
    audit_actions,
    everything_seen,
    grant,
    objections,
    proposal_by_number,
    write_proposal,
)
from tests.seed import BLUMAH, kendal, round_


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # One message a second into one chat is Telegram's rule; these chats are tiny and quick.
    return settings.model_copy(update={"send_chat_interval": 0.05})


async def test_a_whole_round_in_public(bot, person, sessions, clock, emulator):
    district = await kendal(sessions, clock())
    await round_(sessions, district, clock(), days=5)
    emulator.keep_messages = True
    await bot()

    budi = person("Budi POKJA")
    admin = person("Admin Kendal")
    ani = person("Ani Blumah")
    rina = person("Rina Warga")
    dodi = person("Dodi Warga", "en")
    await grant(budi, sessions, district, Role.POKJA, clock())
    await grant(admin, sessions, district, Role.ADMIN, clock())
    await grant(ani, sessions, district, Role.PAKEM, clock(), BLUMAH)

    # -- POKJA invites a colleague and Kediten's committee from the bot ------------------------
    await budi.send("/undang")
    await budi.press("🏛 Anggota POKJA")
    link = budi.reply_text
    assert "berlaku sekali sampai" in link
    code = link.split("?start=")[1].split()[0]
    sari = person("Sari POKJA")
    await sari.send(f"/start {code}")
    assert sari.saw("anggota POKJA")
    late = person("Orang Lain")
    await late.send(f"/start {code}")
    assert late.saw("sudah dipakai")
    await budi.send("/undang")
    await budi.press("👥 Anggota PAKEM sebuah desa")
    await budi.send("kediten")
    assert budi.saw("anggota PAKEM Kediten")
    code = budi.reply_text.split("?start=")[1].split()[0]
    joko = person("Joko Kediten")
    await joko.send(f"/start {code}")
    assert joko.saw("anggota PAKEM")

    # -- residents follow their villages --------------------------------------------------------
    await rina.send(f"/start {village_parameter(BLUMAH)}")
    await dodi.send(f"/start {village_parameter(KEDITEN)}")

    # -- committees write proposals -------------------------------------------------------------
    a = await write_proposal(
        ani,
        "Betonisasi jalan RT 03",
        [
            ("Semen 50 kg", "100 sak", "65.000", "apbd"),
            ("Tenaga kerja", "30 HOK", "100.000", "swadaya"),
        ],
    )
    b = await write_proposal(
        ani, "Saluran drainase RW 02", [("Pipa", "20 batang", "150.000", "apbd")]
    )
    c = await write_proposal(
        joko,
        "Sumur bor dusun Kediten",
        [
            ("Pengeboran", "1 paket", "25 juta", "apbn"),
            ("Swadaya warga", "20 HOK", "100.000", "swadaya"),
        ],
    )
    d = await write_proposal(
        joko, "Gapura desa", [("Gapura", "1 unit", "40 juta", "apbd")], photo=False
    )
    assert (a, b, c, d) == ("KDL-2026-001", "KDL-2026-002", "KDL-2026-003", "KDL-2026-004")

    # -- the calendar: dates in order, each change told ----------------------------------------
    clock.advance(days=6)  # the submission deadline has passed
    await budi.send("/round")
    await budi.press("✏️ Awal penilaian")
    assert budi.saw("31-12-2026 17:00 (WIB)") and not budi.saw("Asia/Jakarta")
    await budi.send("05-11-2026")
    assert budi.saw("Tanggal itu sudah lewat")
    await budi.send("2026-11-08 18:00")
    assert budi.saw("Awal penilaian diubah menjadi 8 November 2026, 18:00 WIB")
    await budi.press("✏️ Akhir penilaian")
    await budi.send("15-11-2026")
    await budi.press("✏️ Penutupan masa sanggah")
    await budi.send("tanggal besok")
    assert budi.saw("Tulis tanggal seperti 31-12-2026")
    await budi.send("12-11-2026")
    assert budi.saw(
        "Penutupan masa sanggah harus setelah Akhir penilaian (15 November 2026, 23:59 WIB)"
    )
    await budi.send("22-11-2026")
    await budi.press("✏️ Pengumuman akhir")
    await budi.send("25-11-2026 09:00")
    assert budi.saw("Pengumuman akhir diubah menjadi 25 November 2026, 09:00 WIB")
    await drained(sessions)
    assert "Penutupan masa sanggah diubah menjadi" in everything_seen(rina)  # residents hear it
    assert "Akhir penilaian diubah menjadi" in everything_seen(ani)  # the committees hear theirs
    assert "Akhir penilaian" not in everything_seen(rina)
    await budi.press("🏡 Desa")
    assert budi.saw("Blumah: PAKEM 1, draf 0, terkirim 2")

    # -- the review queue, filtered and paged ---------------------------------------------------
    await budi.send("/tinjau")
    assert budi.saw("4 usulan, halaman 1 dari 1")
    await budi.press("🏡 Desa")
    await budi.press("Kediten")
    assert budi.saw("2 usulan") and budi.saw("KDL-2026-003") and not budi.saw("KDL-2026-001")
    await budi.press("Buka KDL-2026-003")
    dossier = budi.reply_text
    assert "Sumur bor dusun Kediten" in dossier
    assert "APBN (anggaran nasional): Rp 25.000.000" in dossier
    assert "Swadaya masyarakat: Rp 2.000.000" in dossier
    assert "dalam penilaian (versi 1)" in dossier
    assert "Riwayat KDL-2026-003" in dossier and "dikirim sebagai KDL-2026-003" in dossier
    files = [m for m in budi.replies if m.kind in ("photo", "document")]
    assert [m.kind for m in files] == ["photo", "document"]  # attachments re-sent by file_id

    # checklist item with a note, the bot's own facts beside it
    await budi.press("☑️ Daftar periksa")
    assert budi.saw("bot: swadaya 7%, minimal 10%")
    await budi.press("4. Porsi swadaya mencapai batas minimal")
    await budi.press("❌ Tidak")
    await budi.send("Swadaya 7%, kurang dari 10%")
    assert budi.saw("❌ tidak · Swadaya 7%, kurang dari 10%")

    # a field visit from Sari's phone
    await sari.send("/tinjau")
    await sari.press("Buka KDL-2026-003")
    await sari.press("📍 Kunjungan lapangan")
    await sari.send("Lokasi sumur sesuai, warga hadir 20 orang.")
    await sari.send_photo()
    await sari.send_location(-7.05, 110.12)
    await sari.send("09-11-2026")
    await sari.press("💾 Simpan kunjungan")
    assert sari.saw("Kunjungan lapangan tersimpan")
    assert sari.saw("Sari POKJA: Lokasi sumur sesuai") and sari.saw("1 foto atau berkas")

    # decisions: C shortlisted, D rejected, B revised, A shortlisted
    await budi.send("/tinjau")
    await budi.press("Buka KDL-2026-003")
    await budi.press("⭐ Masukkan daftar calon")
    await budi.send("ok")
    assert budi.saw("paling sedikit 10 karakter")
    await budi.send("Layak, swadaya akan ditambah saat pelaksanaan.")
    assert budi.saw("KDL-2026-003: calon pemenang. PAKEM (1 orang) sudah diberi tahu.")
    await budi.send("/tinjau")
    await budi.press("Buka KDL-2026-004")
    await budi.press("✖ Tolak")
    await budi.send("Gapura bukan prasarana yang membantu warga miskin.")
    await budi.send("/tinjau")
    await budi.press("Buka KDL-2026-002")
    await budi.press("✏️ Minta revisi")
    await budi.send("Tambahkan gambar teknis dan perbaiki volume pipa menjadi 25 batang.")
    await budi.press("3 hari")
    assert budi.saw("KDL-2026-002: diminta revisi")
    await budi.send("/tinjau")
    await budi.press("Buka KDL-2026-001")
    await budi.press("⭐ Masukkan daftar calon")
    await budi.send("Memenuhi semua syarat kelayakan.")
    await drained(sessions)
    joko_saw = everything_seen(joko)
    assert "ditolak" in joko_saw and "Gapura bukan prasarana" in joko_saw
    ani_saw = everything_seen(ani)
    assert "Tambahkan gambar teknis dan perbaiki volume pipa menjadi 25 batang." in ani_saw
    assert "/usulan" in ani_saw

    # the committee revises after the submission deadline, within the revision deadline
    await ani.send("/drafts")
    assert ani.saw("Saluran drainase RW 02 — diminta revisi, dapat diubah sampai 11 November 2026")
    await ani.press("✏️ Lanjutkan: KDL-2026-002")
    assert ani.saw("Perubahan yang diminta POKJA")
    await ani.press("✏️ Judul")
    await ani.send("Saluran drainase RW 02 (revisi)")
    await ani.press("📨 Kirim usulan")
    assert ani.saw("KDL-2026-002")
    row_b = await proposal_by_number(sessions, b)
    assert row_b.status == "submitted" and row_b.title == "Saluran drainase RW 02 (revisi)"
    assert row_b.number == b  # the number stays
    await budi.send("/tinjau")
    await budi.press("Buka KDL-2026-002")
    await budi.press("⭐ Masukkan daftar calon")
    await budi.send("Revisi sudah sesuai permintaan POKJA.")

    # -- candidates announced, the window opens ---------------------------------------------------
    await budi.send("/round")
    await budi.press("⭐ Umumkan calon")
    assert budi.saw("Penilaian berlangsung sampai 15 November 2026, 23:59 WIB")
    clock.advance(days=8)  # 16 Nov, 10:00 WIB: the review period is over
    await budi.press("⭐ Umumkan calon")
    preview = budi.reply_text
    assert "Calon pemenang" in preview and "Blumah" in preview and "Kediten" in preview
    assert "KDL-2026-004" not in preview
    await budi.press(
        next(label for label in budi.button_labels() if label.startswith("📤 Terbitkan ke"))
    )
    assert budi.saw("Masa sanggah dibuka sampai 22 November 2026, 23:59 WIB")
    await drained(sessions)
    rina_announcement = [m for m in rina.chat if "Calon pemenang" in m.text]
    assert rina_announcement, everything_seen(rina)
    dodi_announcement = [m for m in dodi.chat if "Candidate winners" in m.text]
    assert dodi_announcement, everything_seen(dodi)  # in his own language
    assert "APBD (anggaran kabupaten): Rp 6.500.000" in everything_seen(
        rina
    ) and "Rp 6,500,000" in everything_seen(dodi)
    # the announcement names each reader's own commands
    assert "/objection" in everything_seen(dodi) and "/keberatan" not in everything_seen(dodi)
    assert "/village" in everything_seen(dodi) and "/desa" not in everything_seen(dodi)
    assert "/keberatan" in everything_seen(rina) and "/objection" not in everything_seen(rina)

    # -- objections ---------------------------------------------------------------------------
    clock.advance(days=1)
    # Rina, anonymously, straight from the announcement's button, with a voice note
    await rina.press("⚖️ Sanggah KDL-2026-001")
    await rina.press("Anggaran digelembungkan")
    await rina.send("Harga semen Rp 65.000 per sak terlalu tinggi; di toko desa Rp 52.000.")
    await rina.send_voice()
    await rina.send_photo()
    await rina.press("✅ Selesai")
    await rina.press("🙈 Tanpa nama")
    await rina.press("📨 Ajukan keberatan")
    assert rina.saw("Keberatan Anda tercatat dengan nomor")
    # Dodi, with his name, through /objection and the village list
    await dodi.send("/objection")
    await dodi.press("Kediten")
    await dodi.press("KDL-2026-003: Sumur bor dusun Kediten")
    await dodi.press("Conflict of interest")
    await dodi.send("The drilling contractor is the village head's brother.")
    await dodi.press("✅ Done")
    await dodi.press("👤 With my name")
    await dodi.send("/back")
    await dodi.press("👤 With my name")
    await dodi.press("📨 File the objection")
    assert dodi.saw("Your objection is filed as")
    [obj_a, obj_c] = await objections(sessions)
    assert (obj_a.anonymous, obj_c.anonymous) == (True, False)
    assert obj_a.pseudonym and obj_a.pseudonym.startswith("Warga-")
    await rina.send("/status")
    assert rina.saw(obj_a.number) and rina.saw("menunggu jawaban POKJA")

    # The committee is told, without anyone's identity, and replies once
    await drained(sessions)
    ani_saw = everything_seen(ani)
    assert "Harga semen Rp 65.000 per sak terlalu tinggi" in ani_saw
    for secret in ("Rina", obj_a.pseudonym):
        assert secret not in ani_saw
    assert "Dodi" not in everything_seen(joko)
    await ani.press("✍️ Jawab dengan klarifikasi")
    await ani.send("Harga Rp 65.000 termasuk ongkos angkut ke dusun atas.")
    assert ani.saw("sudah dikirim ke POKJA")

    # POKJA reads both; the anonymous objector shows as a pseudonym
    await drained(sessions)
    await budi.send("/keberatan")
    assert budi.saw("Seluruhnya 2 keberatan, 2 menunggu jawaban")
    await budi.press(next(lbl for lbl in budi.button_labels() if lbl.startswith(obj_a.number)))
    seen = budi.reply_text
    assert f"Dari: {obj_a.pseudonym} (tanpa nama)" in seen and "Rina" not in seen
    assert "termasuk ongkos angkut" in seen  # the PAKEM's reply
    assert [m.kind for m in budi.replies if m.kind != "text"] == ["voice", "photo"]
    assert "🔓 Buka identitas (admin)" not in budi.button_labels()[-3:]
    await budi.press("✅ Kabulkan")
    await budi.send("Harga pasar semen di Kendal Rp 55.000; anggaran harus disesuaikan.")
    assert budi.saw("KDL-2026-001 kembali ke penilaian")
    await budi.send("/keberatan")
    await budi.press(next(lbl for lbl in budi.button_labels() if lbl.startswith(obj_c.number)))
    assert budi.saw("Dari: Dodi Warga")
    assert "✖ Tolak" not in budi.button_labels()[-3:]  # that word is for proposals
    await budi.press("✖ Tidak dikabulkan")
    await budi.send("Kontraktor dipilih lewat lelang terbuka; tidak ada hubungan keluarga.")

    # the admin unmasks, with a reason, and it is logged
    await admin.send("/keberatan")
    await admin.press(next(lbl for lbl in admin.button_labels() if lbl.startswith(obj_a.number)))
    await admin.press("🔓 Buka identitas (admin)")
    await admin.send("Diperlukan untuk klarifikasi harga langsung kepada pelapor.")
    assert admin.saw("Penyanggahnya: Rina Warga")

    await drained(sessions)
    assert "dikabulkan" in everything_seen(rina) and "Harga pasar semen" in everything_seen(rina)
    assert "dismissed" in everything_seen(dodi) and "lelang terbuka" in everything_seen(dodi)
    assert "Rina" not in everything_seen(ani) and "Dodi" not in everything_seen(joko)
    assert "Usulan Anda kembali ke penilaian" in everything_seen(ani)
    assert (await proposal_by_number(sessions, a)).status == "submitted"

    # a winner cannot be named while the window is open
    await budi.send("/tinjau")
    await budi.press("Buka KDL-2026-003")
    await budi.press("🏆 Tetapkan pemenang")
    assert budi.saw("Masa sanggah dibuka sampai")

    # -- after the window ------------------------------------------------------------------------
    clock.advance(days=6)  # 23 Nov, 10:00 WIB
    eko = person("Eko Warga")
    await eko.send("/keberatan")
    assert eko.saw("Masa sanggah sudah ditutup pada 22 November 2026, 23:59 WIB")
    await budi.send("/tinjau")
    await budi.press("Buka KDL-2026-003")
    await budi.press("🏆 Tetapkan pemenang")
    assert budi.saw("KDL-2026-003 ditetapkan sebagai pemenang")
    await budi.send("/round")
    await budi.press("🏆 Umumkan pemenang")
    assert budi.saw("belum diputuskan: KDL-2026-002")
    await budi.send("/tinjau")
    await budi.press("Buka KDL-2026-002")
    await budi.press("🏆 Tetapkan pemenang")
    await budi.send("/round")
    await budi.press("🏆 Umumkan pemenang")
    preview = budi.reply_text
    assert (
        "Calon diumumkan: 3. Keberatan masuk: 2, dikabulkan 1, tidak dikabulkan 1. Pemenang: 2"
        in preview
    )
    await budi.press(
        next(label for label in budi.button_labels() if label.startswith("📤 Terbitkan ke"))
    )
    await drained(sessions)
    assert "Pemenang akhir" in everything_seen(rina) and "Final winners" in everything_seen(dodi)
    for who in (ani, joko, dodi):
        assert obj_a.pseudonym not in everything_seen(who)

    # the history lists the announcements and notices that reached each person, safely cut
    await rina.send("/pengumuman")
    assert rina.saw("Calon pemenang Tahap 1 2026") and rina.saw("Pemenang akhir Tahap 1 2026")
    await ani.send("/pengumuman")
    assert ani.saw("Seorang warga mengajukan keberatan atas usulan Anda")

    # -- exports ---------------------------------------------------------------------------------
    emulator.calls.clear()
    await budi.send("/ekspor")
    uploads = {
        p["document"]["upload"]: p["document"]["data"]
        for m, p in emulator.calls
        if m == "sendDocument"
    }
    names = sorted(uploads)
    assert [n.rsplit("-", 1)[-1] for n in names] == [
        "proposals.csv",
        "proposals.xlsx",
        "radio.txt",
        "winners.pdf",
    ]
    rows = list(csv.DictReader(io.StringIO(uploads[names[0]].decode("utf-8-sig"))))
    by_number = {r["Nomor"]: r for r in rows}
    assert set(by_number) == {a, b, c, d}
    assert {r["Kegiatan"] for r in rows} == {"Jalan dan gang"}  # labels, not the codes
    assert by_number[c]["Status"] == "pemenang" and by_number[d]["Status"] == "ditolak"
    assert by_number[c]["Jumlah (Rp)"] == "27000000" and by_number[c]["Swadaya (Rp)"] == "2000000"
    assert by_number[c]["Daftar periksa (ya dari yang berlaku)"] == "0/1"
    assert by_number[a]["Keberatan dikabulkan"] == "1"
    sheet = load_workbook(io.BytesIO(uploads[names[1]])).active
    values = list(sheet.values)
    assert values[0][0] == "Nomor" and len(values) == 5
    assert {r[0]: r[8] for r in values[1:]}[c] == 27_000_000
    radio = uploads[names[2]].decode("utf-8")
    assert "Sumur bor dusun Kediten" in radio and "Gapura" not in radio
    assert "27.000.000 Rupiah" in radio
    pdf = PdfReader(io.BytesIO(uploads[names[3]]))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert "KDL-2026-003" in text and "KDL-2026-002" in text and "KDL-2026-001" not in text

    # -- the audit log: every decision, answer, unmasking, grant and calendar change -------------
    row_a = await proposal_by_number(sessions, a)
    assert await audit_actions(sessions, f"proposal:{row_a.id}") == [
        "proposal.draft",
        "proposal.submit",
        "proposal.candidate",
        "proposal.announced",
        "objection.file",
        "objection.reply",
        "objection.upheld",
        "proposal.back_to_review",
        "objection.unmask",
    ]
    entries = await all_audit(sessions)
    actions = [e.action for e in entries]
    assert actions.count("round.calendar") == 4 and actions.count("role.grant") == 5
    assert "round.candidates" in actions and "round.winners" in actions
    unmask = next(e for e in entries if e.action == "objection.unmask")
    assert json.loads(unmask.detail)["reason"].startswith("Diperlukan untuk klarifikasi")

    # the timeline in one thread, from draft to final, with the pseudonym not the name
    await budi.send("/tinjau")
    await budi.press("Buka KDL-2026-001")
    await budi.press("🧾 Riwayat")
    timeline = budi.reply_text
    assert "draf dimulai" in timeline and "kembali ke penilaian" in timeline
    assert obj_a.pseudonym in timeline and "Rina" not in timeline
    assert not emulator.refusals, emulator.refusals
