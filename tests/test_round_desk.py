"""/round from the bot: opening a round, its checklist and self-help minimum, the villages view."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import AuditEntry, Round
from storage.views import Role
from tests.review_helpers import grant
from tests.seed import kendal


async def test_pokja_opens_a_round_and_shapes_its_checklist(bot, person, sessions, clock, emulator):
    district = await kendal(sessions, clock())
    await bot()
    budi = person("Budi POKJA")
    await grant(budi, sessions, district, Role.POKJA, clock())
    await budi.send("/round")
    assert budi.saw("Belum ada tahap.")
    await budi.press("➕ Buka tahap baru")
    await budi.send_sticker()
    assert budi.saw("Jawab dengan teks, atau /batal.")
    await budi.send("Tahap 2 2027")
    await budi.send("01-11-2026")
    assert budi.saw("Batas pengiriman usulan harus di masa depan")
    await budi.send("/back")
    await budi.send("Tahap 2 2026")
    await budi.send("31-12-2026")
    assert budi.saw("✅ Tahap 2 2026 dibuka")
    assert budi.saw("Batas pengiriman usulan: 31 Desember 2026, 23:59 WIB")

    await budi.press("☑️ Daftar periksa")
    assert budi.saw("7. Pemeliharaan sudah diatur")
    await budi.press("✅ Pemeliharaan sudah diatur")
    await budi.press("➕ Tambah butir")
    await budi.send("/back")
    assert budi.saw("Tidak ada yang diubah")
    await budi.press("➕ Tambah butir")
    await budi.send("Ada surat hibah lahan")
    assert budi.saw("7. Ada surat hibah lahan") and not budi.saw("Pemeliharaan sudah diatur\n")
    await budi.press("% Minimal swadaya: 10%")
    await budi.send("sepuluh")
    assert budi.saw("Ketik persentase dari 0 sampai 100")
    await budi.send("15%")
    assert "% Minimal swadaya: 15%" in budi.button_labels()
    await budi.press("⬅ Kembali ke tahap")
    await budi.press("🏡 Desa")
    assert budi.saw("Blumah: PAKEM 0, draf 0, terkirim 0, pengingat dibaca 0")

    async with sessions() as session:
        row = (await session.execute(select(Round))).scalars().one()
        assert json.loads(row.checklist or "[]") == [
            "in_round",
            "poor",
            "ceiling",
            "swadaya",
            "documents",
            "technical",
            "Ada surat hibah lahan",
        ]
        assert row.swadaya_min_pct == 15
        actions = list(
            (await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars()
        )
    assert actions.count("round.open") == 1 and actions.count("round.checklist") == 2
    assert "round.swadaya" in actions
    assert not emulator.refusals
