"""Announcements from the POKJA: written in the bot, previewed, confirmed, delivered to exactly
their audience in each person's language, and reported back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot import announcements
from bot.config import Settings
from bot.deeplink import village_parameter
from bot.errors import NotFound
from bot.people import ensure_person
from storage.models import Outbox, Person
from storage.views import Grant, PersonView, Role, Scope
from tests.outbound_helpers import (
    BATANG_KECAMATAN,
    SODONG,
    batang,
    counts,
    followers,
    outbox_statuses,
    queue_announcement,
    unreachable_ids,
    until,
    until_delivered,
)
from tests.review_helpers import grant
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
    await until(lambda: got(pak, "Pengumuman #1 selesai dikirim"), what="the final progress")
    assert got(ani, HEAD_ID) == 1 and got(bob, HEAD_EN) == 1
    assert ani.chat[-1].text.endswith("<penting> & terbuka")
    assert got(citra, HEAD_ID) == got(dedi, HEAD_ID) == 0
    assert any("Blumah: 2 terkirim, 0 diblokir, 0 gagal" in m.text for m in pak.chat)
    # A second tap on the old button queues nothing twice.
    await pak.press_data(pak.find_button("📤 Kirim ke 2 orang")[0], "a:c:1::0")
    async with sessions() as session:
        queued = select(func.count()).select_from(Outbox).where(Outbox.broadcast_id == 1)
        assert (await session.execute(queued)).scalar() == 2

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


# Places of every level, in Kendal and in Batang: (kode, level, in Kendal).
KEC_PLANTUNGAN, KEC_BOJA = "33.24.01", "33.24.07"
MEDONO = "33.24.07.2001"  # Kec. Boja
GETASBLAWONG = "33.24.02.2002"  # Kec. Pageruyung
CANDIROTO = "33.24.15.1001"  # a kelurahan, Kec. Kendal
PLACES = [
    (KEC_PLANTUNGAN, "kecamatan", True),
    (BLUMAH, "desa", True),
    (CANDIROTO, "kelurahan", True),
    ("33.24", "kabupaten", True),
    (BATANG_KECAMATAN, "kecamatan", False),
    (SODONG, "desa", False),
    ("33.25.02.1001", "kelurahan", False),
    ("99.99.99", "unknown", False),
]


@pytest.mark.parametrize("scope", [Scope.KECAMATAN, Scope.VILLAGES])
async def test_a_place_is_chosen_only_at_its_level_and_in_the_authors_district(
    sessions, clock, scope
):
    """Kecamatan are looked up as kecamatan, villages as villages, both in this district."""
    district = await kendal(sessions, clock())
    await batang(sessions, clock())
    async with sessions() as session, session.begin():
        row = await ensure_person(session, 5001, "Pak Harto", None, "id", clock())
        assert row.id is not None
        author = PersonView(
            row.id, 5001, "Pak Harto", "id", (Grant(Role.POKJA, district.id, None, None),)
        )
        draft = await announcements.start(session, author, None, clock())
        await announcements.set_body(session, author, draft.id, "Rapat")
        await announcements.choose_scope(session, author, draft.id, scope)
        wanted = ("kecamatan",) if scope == Scope.KECAMATAN else ("desa", "kelurahan")
        accepted = []
        for kode, level, here in PLACES:
            try:
                view = await announcements.toggle_place(session, author, draft.id, kode)
            except NotFound:
                assert not (here and level in wanted), (kode, level)
                continue
            assert here and level in wanted, (kode, level)
            assert kode in view.codes
            accepted.append(kode)
        assert accepted == [k for k, level, here in PLACES if here and level in wanted]
        # Tapping again removes it.
        view = await announcements.toggle_place(session, author, draft.id, accepted[0])
        assert accepted[0] not in view.codes


async def test_announcement_to_chosen_kecamatan_reaches_exactly_their_villages(
    bot, person, sessions, clock, emulator
):
    """Followers and PAKEM of the villages of the chosen kecamatan, once each; nobody else,
    in this district or the other."""
    district = await kendal(sessions, clock())
    other = await batang(sessions, clock())
    await round_(sessions, district, clock(), days=20)
    await round_(sessions, other, clock(), days=20)
    await bot()
    pak = person("Pak Harto", "id")
    await grant(pak, sessions, district, Role.POKJA, clock())
    reached = {
        "ani": (person("Ani", "id"), [BLUMAH]),
        "bob": (person("Bob", "en"), [PLANTUNGAN]),
        "eko": (person("Eko", "id"), [MEDONO]),
        "fajar": (person("Fajar", "id"), [MEDONO, BLUMAH]),  # two chosen villages: once
    }
    missed = {
        "citra": (person("Citra", "id"), [GETASBLAWONG]),  # another kecamatan
        "dedi": (person("Dedi", "id"), [SODONG]),  # another district
        "gita": (person("Gita", "id"), [BLUMAH]),  # paused announcements
    }
    for who, villages in [*reached.values(), *missed.values()]:
        for village in villages:
            await who.send(f"/start {village_parameter(village)}")
    await missed["gita"][0].send("/berhenti")
    siti = person("Siti", "id")  # PAKEM of Blumah: reached
    await grant(siti, sessions, district, Role.PAKEM, clock(), BLUMAH)
    tono = person("Tono", "id")  # PAKEM of a village elsewhere: not reached
    await grant(tono, sessions, district, Role.PAKEM, clock(), GETASBLAWONG)
    wati = person("Wati", "id")  # PAKEM in the other district's kecamatan
    await grant(wati, sessions, other, Role.PAKEM, clock(), SODONG)
    warga = [*(w for w, _ in reached.values()), *(w for w, _ in missed.values())]
    before = {w.id: len(w.chat) for w in [*warga, siti, tono, wati]}

    await pak.send("/umumkan")
    await pak.send("Musyawarah kecamatan Sabtu 09.00")
    await pak.press("🗺 Kecamatan pilihan")
    assert pak.saw("Ketuk kecamatan yang disertakan")
    await pak.press("Boja")
    assert not pak.saw("bukan bagian dari kabupaten ini")
    assert "✅ Boja" in pak.button_labels()
    await pak.press("▶")
    await pak.press("Plantungan")
    assert "✅ Plantungan" in pak.button_labels()
    # Another district's kecamatan, and a village where a kecamatan is asked: refused.
    message, button = pak.find_button("✅ Plantungan")
    broadcast = int(button["callback_data"].split(":")[2])
    for forged in (BATANG_KECAMATAN, BLUMAH):
        await pak.press_data(message, f"a:t:{broadcast}:{forged}:1")
        assert pak.saw("Tempat itu bukan bagian dari kabupaten ini.")
    await pak.press("✔ Selesai (2 dipilih)")
    assert pak.saw("Penerima: Kecamatan: Plantungan, Boja")
    assert pak.saw("sampai ke 5 orang")  # Ani, Bob, Eko, Fajar and Siti
    await pak.press("📤 Kirim ke 5 orang")
    await until(lambda: got(pak, "Laporan pengiriman"), what="the report")

    for who in (reached["ani"][0], reached["eko"][0], reached["fajar"][0], siti):
        assert got(who, HEAD_ID) == 1, who.user.first_name
    assert got(reached["bob"][0], HEAD_EN) == 1
    for who in (*(w for w, _ in missed.values()), tono, wati):
        assert len(who.chat) == before[who.id], who.user.first_name
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Person.telegram_id, Outbox.village_kode, Outbox.status)
                .join(Person, Person.id == Outbox.person_id)
                .where(Outbox.broadcast_id == broadcast)
            )
        ).all()
    assert sorted(rows) == sorted(
        [
            (reached["ani"][0].id, BLUMAH, "sent"),
            (reached["bob"][0].id, PLANTUNGAN, "sent"),
            (reached["eko"][0].id, MEDONO, "sent"),
            (reached["fajar"][0].id, BLUMAH, "sent"),
            (siti.id, BLUMAH, "sent"),
        ]
    )
    assert any("Blumah: 3 terkirim, 0 diblokir, 0 gagal" in m.text for m in pak.chat)
    assert not emulator.refusals
