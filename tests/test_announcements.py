"""Announcements from the POKJA: written in the bot, previewed, confirmed, delivered to exactly
their audience in each person's language, and reported back."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.config import Settings
from bot.deeplink import village_parameter
from storage.models import Outbox
from storage.views import Role
from tests.outbound_helpers import (
    counts,
    followers,
    outbox_statuses,
    queue_announcement,
    unreachable_ids,
    until,
    until_delivered,
)
from tests.seed import BLUMAH, PLANTUNGAN, invite, kendal, round_

HEAD_ID = "Pengumuman POKJA Kabupaten Kendal"
HEAD_EN = "Announcement from the POKJA of Kabupaten Kendal"


def got(user, fragment: str) -> int:
    return sum(fragment in m.text for m in user.chat)


async def test_announcement_to_chosen_villages_reaches_exactly_their_followers(
    bot, person, sessions, clock, emulator
):
    district = await kendal(sessions, clock())
    await bot()
    code = await invite(sessions, district, Role.POKJA, clock())
    pak = person("Pak Harto", "id")
    await pak.send(f"/start {code}")
    ani, bob, citra, dedi = (
        person("Ani", "id"),
        person("Bob", "en"),
        person("Citra", "id"),
        person("Dedi", "id"),
    )
    for who, village in ((ani, BLUMAH), (bob, BLUMAH), (citra, PLANTUNGAN), (dedi, BLUMAH)):
        await who.send(f"/start {village_parameter(village)}")
    await dedi.send("/berhenti")

    await pak.send("/umumkan")
    assert pak.saw("Pengumuman baru untuk Kabupaten Kendal")
    await pak.send_sticker()
    assert pak.saw("Mohon kirim teks, foto atau dokumen")
    await pak.send("x" * 3600)
    assert pak.saw("terlalu panjang: 3600 karakter")
    await pak.send("Rapat warga Jumat 19.00 di balai desa <penting> & terbuka")
    assert pak.saw("Siapa yang menerimanya?")
    await pak.press("🏡 Desa pilihan")
    await pak.press("✔ Selesai (0 dipilih)")
    assert pak.saw("Pilih paling sedikit satu tempat")
    await pak.send("Blumh")
    await pak.press("Blumah (Kec. Plantungan)")
    assert any(label.startswith("✅ Blumah") for label in pak.button_labels())
    await pak.press("✔ Selesai")
    assert pak.saw("Beginilah tampilannya")
    await pak.send("/back")
    assert pak.saw("Siapa yang menerimanya?")
    await pak.send("/back")
    assert pak.saw("Teks saat ini:")
    await pak.send("/back")
    assert pak.saw("Ini langkah pertama")
    await pak.send("Rapat warga Jumat 19.00 di balai desa <penting> & terbuka")
    await pak.press("🏡 Desa pilihan")
    assert pak.saw("Desa: Blumah")  # the villages chosen before are kept
    await pak.press("✔ Selesai (1 dipilih)")
    assert pak.saw("Beginilah tampilannya")
    assert pak.saw("<penting> & terbuka")  # shown as typed, not parsed as HTML
    assert pak.saw("sampai ke 2 orang")  # Ani and Bob; Dedi paused, Citra elsewhere
    # A restart before confirming loses nothing: the draft row is the state.
    await pak.send("/cancel")
    await pak.send("/umumkan")
    assert pak.saw("sampai ke 2 orang")
    await pak.press("📤 Kirim ke 2 orang")

    await until(lambda: got(pak, "Laporan pengiriman"), what="the report")
    assert got(ani, HEAD_ID) == 1 and got(bob, HEAD_EN) == 1
    assert ani.chat[-1].text.endswith("<penting> & terbuka")
    assert got(citra, HEAD_ID) == got(dedi, HEAD_ID) == 0
    assert pak.saw("Pengumuman #1 selesai dikirim") or any(
        "selesai dikirim" in m.text for m in pak.chat
    )
    assert any("Blumah: 2 terkirim, 0 diblokir, 0 gagal" in m.text for m in pak.chat)
    # A second tap on the old button queues nothing twice.
    await pak.press_data(pak.find_button("📤 Kirim ke 2 orang")[0], "a:c:1::0")
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Outbox))).scalar() == 2

    await pak.send("/pengumuman")
    assert pak.saw("#1") and pak.saw("2 terkirim, 0 diblokir, 0 gagal")
    await ani.send("/pengumuman")
    assert ani.saw("Rapat warga Jumat")
    await citra.send("/pengumuman")
    assert citra.saw("Belum ada pengumuman")

    # Resumed announcements reach Dedi again; the whole district includes Citra and the POKJA.
    await dedi.send("/mulai")
    await pak.send("/umumkan")
    await pak.send("Kerja bakti Minggu pagi")
    await pak.press("🏙 Seluruh kabupaten")
    assert pak.saw("sampai ke 5 orang")
    await pak.press("📤 Kirim ke 5 orang")
    await until(lambda: got(dedi, "Kerja bakti") and got(citra, "Kerja bakti"), what="district")
    await until(lambda: sum("Laporan pengiriman" in m.text for m in pak.chat) == 2)
    assert got(ani, "Kerja bakti") == got(bob, "Kerja bakti") == 1
    assert not emulator.refusals


async def test_storms_blocked_users_and_dropped_connections(
    bot, sessions, clock, emulator, settings: Settings
):
    district = await kendal(sessions, clock())
    settings.send_rate = 25
    await bot()
    users = await followers(sessions, emulator, BLUMAH, 70, 50_000, clock())
    blocked = users[:5]
    for user in blocked:
        user.blocked = True
    emulator.limits = (30, 1)
    emulator.chaos = (0.05, 0.05, 0.05)
    broadcast = await queue_announcement(
        sessions, emulator, district.id, "Musyawarah desa", clock()
    )
    final = await until_delivered(sessions, broadcast, within=90)
    assert (final.sent, final.blocked, final.failed) == (65, 5, 0)
    for user in users:
        assert emulator.delivered[user.id] == (0 if user in blocked else 1), user.id
    assert await unreachable_ids(sessions) == {u.id for u in blocked}
    assert sum(emulator.chaos_counts.values()) > 0, emulator.chaos_counts
    # The sender kept to the pace: Telegram's own limits never had to refuse it.
    assert emulator.flood_refusals == 0
    # Each blocked person was tried once; nothing else was refused.
    assert emulator.refusals == [("sendMessage", 403, "Forbidden: bot was blocked by the user")] * 5
    emulator.refusals.clear()

    # A blocked person who writes again is reachable again, and hears the next announcement.
    emulator.chaos = None
    await emulator.user_message(blocked[0], text="/start")
    await emulator.idle()
    assert blocked[0].id not in await unreachable_ids(sessions)
    second = await queue_announcement(sessions, emulator, district.id, "Jadwal baru", clock())
    final = await until_delivered(sessions, second)
    assert final.sent == 66 and final.blocked == 0
    assert (await outbox_statuses(sessions)).get("failed", 0) == 0


async def test_failed_chat_is_not_retried(bot, sessions, clock, emulator):
    district = await kendal(sessions, clock())
    await bot()
    users = await followers(sessions, emulator, BLUMAH, 3, 60_000, clock())
    del emulator.chats[users[1].id]  # Telegram no longer knows this chat
    broadcast = await queue_announcement(sessions, emulator, district.id, "Info", clock())
    final = await until_delivered(sessions, broadcast)
    assert (final.sent, final.failed) == (2, 1)
    assert (await counts(sessions, broadcast)).failed == 1
    emulator.refusals.clear()


async def test_opening_a_round_is_told_to_followers_in_their_language(
    bot, person, sessions, clock, emulator
):
    district = await kendal(sessions, clock())
    await bot()
    ani, bob = person("Ani", "id"), person("Bob", "en")
    await ani.send(f"/start {village_parameter(BLUMAH)}")
    await bob.send(f"/start {village_parameter(PLANTUNGAN)}")
    await round_(sessions, district, clock(), days=20, name="Tahap 1 2026")
    await until(lambda: got(ani, "dibuka") and got(bob, "is open"), what="the round event")
    assert got(ani, "Tahap 1 2026</b>") == 0  # HTML parsed, not shown
    assert "22 November 2026" in ani.chat[-1].text and "WIB" in ani.chat[-1].text
    assert "November 22, 2026" in bob.chat[-1].text or "22 November 2026" in bob.chat[-1].text
    assert not emulator.refusals


async def test_photo_announcement_keeps_its_caption(bot, person, sessions, clock, emulator):
    district = await kendal(sessions, clock())
    await bot()
    code = await invite(sessions, district, Role.POKJA, clock())
    pak, ani = person("Pak Harto", "id"), person("Ani", "en")
    await pak.send(f"/start {code}")
    await ani.send(f"/start {village_parameter(BLUMAH)}")
    await pak.send("/umumkan")
    photo = await pak.send_photo(caption="Peta lokasi pembangunan jalan")
    await pak.press("🏙 Seluruh kabupaten")
    assert pak.saw("sampai ke 2 orang")
    await pak.press("📤 Kirim ke 2 orang")
    await until(lambda: any(m.kind == "photo" for m in ani.chat), what="the photo")
    [shown] = [m for m in ani.chat if m.kind == "photo"]
    assert shown.file_id == photo and HEAD_EN in shown.text and "Peta lokasi" in shown.text
    assert not emulator.refusals
