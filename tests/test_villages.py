"""Residents follow their village: by name (typos forgiven), by browsing, or by a poster's link."""

from __future__ import annotations

from sqlalchemy import select

from bot.deeplink import village_link
from bot.follows import rank
from storage.models import Follow, Person
from storage.views import VillageView
from tests.seed import BLUMAH, kendal


def v(name: str, kecamatan: str, kode: str = "1") -> VillageView:
    return VillageView(kode, name, "desa", "k", kecamatan, 1, "Kabupaten Kendal")


def test_ranking_prefers_exact_then_prefix_then_close_spelling() -> None:
    villages = [
        v("Blumah", "Plantungan"),
        v("Bulu", "Patebon"),
        v("Blorok", "Brangsong"),
        v("Mlumah", "X"),
        v("Gondang", "Limbangan"),
        v("Gondangsari", "Y"),
    ]
    assert [x.name for x in rank("gondang", villages)] == ["Gondang", "Gondangsari"]
    assert rank("blumh", villages)[0].name == "Blumah"
    assert rank("Desa Blumah", villages)[0].name == "Blumah"
    assert rank("zzzz", villages) == []


async def follows_of(sessions, telegram_id: int) -> list[str]:
    async with sessions() as session:
        rows = await session.execute(
            select(Follow.village_kode)
            .join(Person, Person.id == Follow.person_id)
            .where(Person.telegram_id == telegram_id)
            .order_by(Follow.village_kode)
        )
        return list(rows.scalars())


async def test_search_with_typo_and_same_names_told_apart(bot, person, sessions, clock, emulator):
    await kendal(sessions, clock())
    await bot()
    ani = person("Ani", "id")
    await ani.send("/desa")
    assert ani.saw("Anda belum mengikuti desa mana pun")
    await ani.send("bl")
    assert ani.saw("paling sedikit 3 huruf")
    await ani.send("Blumh")  # a typo
    await ani.press("Blumah (Kec. Plantungan)")
    assert ani.saw("Anda sekarang mengikuti Blumah (Kec. Plantungan)")
    # Two villages called Bangunsari: the kecamatan tells them apart.
    await ani.send("/desa")
    await ani.send("bangunsari")
    labels = [b for b in ani.button_labels() if b.startswith("Bangunsari")]
    assert len(labels) == 2 and labels[0] != labels[1]
    await ani.press(labels[1])
    await ani.send("xyzxyz")
    assert ani.saw("Tidak ada desa bernama “xyzxyz”")
    await ani.send_sticker()
    assert ani.saw("Mohon ketik nama desa")
    await ani.send("/cancel")
    assert ani.saw("Pencarian ditutup")
    await ani.send("Blumah")  # the search is closed: this is no longer a village name
    assert ani.saw("Saya tidak mengerti")
    assert len(await follows_of(sessions, ani.id)) == 2
    assert not emulator.refusals


async def test_browse_by_kecamatan_with_pages(bot, person, sessions, clock, emulator):
    await kendal(sessions, clock())
    await bot()
    budi = person("Budi", "en")
    await budi.send("/village")
    await budi.press("🗺 Browse by kecamatan")
    assert budi.saw("Which kecamatan?")
    await budi.press("▶")
    await budi.press("▶")
    await budi.press("Plantungan")
    assert budi.saw("Villages in Kec. Plantungan (1 of 2)")
    await budi.press("▶")
    assert budi.saw("(2 of 2)")
    await budi.press("◀")
    await budi.press("Blumah")
    assert budi.saw("You now follow Blumah (Kec. Plantungan)")
    await budi.press("Blumah")  # the same button again
    assert budi.saw("You already follow Blumah")
    assert await follows_of(sessions, budi.id) == [BLUMAH]
    await budi.send("/village")
    assert budi.saw("Villages you follow") and budi.saw("· Blumah (Kec. Plantungan)")
    await budi.press("✖ Stop following Blumah")
    assert budi.saw("You no longer follow Blumah")
    assert await follows_of(sessions, budi.id) == []
    assert not emulator.refusals


async def test_deep_link_follows_in_one_tap_and_stop_resume(bot, person, sessions, clock, emulator):
    await kendal(sessions, clock())
    await bot()
    sri = person("Sri", "id")
    await sri.open_link(village_link(emulator.bot_username, BLUMAH))
    assert sri.saw("Anda sekarang mengikuti Blumah")
    await sri.send("/start v_9999")
    assert sri.saw("Tautan desa itu tidak sah")
    await sri.send("/berhenti")
    assert sri.saw("Pengumuman dihentikan") and sri.saw("usulan Anda sendiri tetap masuk")
    async with sessions() as session:
        row = (
            await session.execute(select(Person).where(Person.telegram_id == sri.id))
        ).scalar_one()
    assert row.announcements_muted
    await sri.send("/desa")
    assert sri.saw("Pengumuman sedang dihentikan")
    await sri.send("/mulai")
    assert sri.saw("Pengumuman kembali diterima")
    async with sessions() as session:
        row = (
            await session.execute(select(Person).where(Person.telegram_id == sri.id))
        ).scalar_one()
    assert not row.announcements_muted
    assert await follows_of(sessions, sri.id) == [BLUMAH]


async def test_poster_png_and_pdfs_carry_a_qr_that_follows_the_village(
    bot, person, sessions, clock, emulator
):
    import io

    import cv2
    import numpy as np
    from pypdf import PdfReader

    from storage.views import Role
    from tests.seed import invite

    district = await kendal(sessions, clock())
    code = await invite(sessions, district, Role.POKJA, clock())
    await bot()
    warga = person("Warga", "id")
    await warga.send("/poster")
    assert warga.saw("Hanya anggota POKJA")
    pokja = person("Pokja", "en")
    await pokja.send(f"/start {code}")
    await pokja.send("/poster")
    await pokja.send("blumah")
    await pokja.press("Blumah (Kec. Plantungan)")
    uploads = [params["document"] for method, params in emulator.calls if method == "sendDocument"]
    assert [u["upload"] for u in uploads] == [
        "poster-blumah.png",
        "poster-blumah-a4.pdf",
        "spanduk-blumah.pdf",
    ]
    link = "https://t.me/paket_test_bot?start=v_3324012001"

    def decode(data: bytes) -> str:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        return cv2.QRCodeDetector().detectAndDecode(image)[0]

    assert decode(uploads[0]["data"]) == link
    for upload, wide in ((uploads[1], False), (uploads[2], True)):
        page = PdfReader(io.BytesIO(upload["data"])).pages[0]
        text = page.extract_text()
        # Printed in the district's language, whatever the requester's.
        assert "Blumah" in text and "Kec. Plantungan, Kabupaten Kendal" in text
        assert "Pindai dengan kamera HP" in text
        [qr] = page.images
        assert decode(qr.data) == link
        box = page.mediabox
        assert (box.width > box.height) == wide
    # The link really follows the village, opened as the Telegram apps open it.
    await warga.open_link(link)
    assert warga.saw("Anda sekarang mengikuti Blumah")
    assert emulator.dropped_start_parameters == []
    assert not emulator.refusals
