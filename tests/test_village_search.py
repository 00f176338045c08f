"""/desa with two districts in one database, where many villages share a name.

The class of tests: every village can be reached by typing its exact name (through the pages),
and its name with its kecamatan narrows the search to that one village; swapped letters are
forgiven. Region codes are synthesized in the official shape; the names are real.
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.follows import osa_distance, page_of, rank, similarity
from bot.regions import import_regions, parse_rows
from storage import queries
from storage.models import Follow, Person
from storage.views import VillageView
from tests.seed import KENDAL_CSV

CIANJUR = ("32.03", "Kabupaten Cianjur", ["Cianjur", "Cibeber", "Cilaku", "Warungkondang",
           "Cugenang", "Sukaluyu", "Karangtengah", "Campaka"])  # fmt: skip
GARUT = ("32.05", "Kabupaten Garut", ["Cibatu", "Cikajang", "Bayongbong", "Cisurupan", "Leles",
         "Kadungora", "Wanaraja", "Malangbong"])  # fmt: skip
# How many kecamatan of each district have a Sukamulya and a Mekarsari: 13 of each in all.
SHARED = {"32.03": {"Sukamulya": 6, "Mekarsari": 7}, "32.05": {"Sukamulya": 7, "Mekarsari": 6}}
FILLERS = ["Sukamaju", "Mekarjaya", "Cibodas"]  # near spellings and a third common name


def district_csv(kode: str, name: str, kecamatan: list[str]) -> str:
    """Kecamatan k has the shared names (in the first n kecamatan) and the fillers."""
    lines = ["kode,nama,tingkat", f"{kode},{name},kabupaten"]
    for k, kec in enumerate(kecamatan, start=1):
        kec_kode = f"{kode}.{k:02d}"
        lines.append(f"{kec_kode},{kec},kecamatan")
        names = [n for n, count in SHARED[kode].items() if k <= count] + FILLERS
        if kode == "32.05" and k == 1:
            names.append("Pongangan")
        for v, village in enumerate(names, start=1):
            lines.append(f"{kec_kode}.{2000 + v},{village},desa")
    return "\n".join(lines) + "\n"


async def two_districts(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    for kode, name, kecamatan in (CIANJUR, GARUT):
        async with sessions() as session, session.begin():
            await import_regions(session, district_csv(kode, name, kecamatan), now)


def all_villages() -> list[VillageView]:
    views = []
    for index, (kode, district, kecamatan) in enumerate((CIANJUR, GARUT)):
        rows = parse_rows(district_csv(kode, district, kecamatan))
        names = {r["kode"]: r["nama"] for r in rows}
        for row in rows:
            if row["tingkat"] == "desa":
                parent = row["kode"].rsplit(".", 1)[0]
                views.append(
                    VillageView(
                        row["kode"], row["nama"], "desa", parent, names[parent], index, district
                    )
                )
    return views


def shared_villages() -> list[VillageView]:
    """The 26 villages named Sukamulya or Mekarsari."""
    return [v for v in all_villages() if v.name in ("Sukamulya", "Mekarsari")]


# -- ranking, without Telegram -----------------------------------------------------------------


def test_the_fixture_has_13_of_each_shared_name() -> None:
    names = [v.name for v in shared_villages()]
    assert names.count("Sukamulya") == 13 and names.count("Mekarsari") == 13


def test_every_shared_name_finds_all_its_villages_over_the_pages() -> None:
    villages = all_villages()
    for name in ("Sukamulya", "Mekarsari", "sukamulya", "Desa Mekarsari"):
        found = rank(name, villages, limit=None)
        assert len(found) == 13 and {v.name for v in found} == {name.removeprefix("Desa ").title()}
        pages = [page_of(found, n) for n in range(page_of(found, 0).pages)]
        assert [len(p.villages) for p in pages] == [8, 5]
        assert [v for p in pages for v in p.villages] == found


def test_name_and_kecamatan_or_district_narrow_the_search() -> None:
    villages = all_villages()
    for village in shared_villages():
        for query in (
            f"{village.name} {village.kecamatan_name}",
            f"{village.kecamatan_name} {village.name}",
            f"{village.name}, Kec. {village.kecamatan_name}",
            f"{village.name.lower()} {village.kecamatan_name.lower()}",
        ):
            assert rank(query, villages, limit=None) == [village], query
    garut = rank("Sukamulya Garut", villages, limit=None)
    assert len(garut) == 7 and {v.district_name for v in garut} == {"Kabupaten Garut"}
    assert len(rank("Mekarsari Kabupaten Cianjur", villages, limit=None)) == 7
    assert len(rank("Mekarsari Kab. Garut", villages, limit=None)) == 6
    assert len(rank("Sukamulya kec cianjur", villages, limit=None)) == 1


def test_two_swapped_letters_still_find_the_village() -> None:
    villages = all_villages()
    assert osa_distance("ponagngan", "pongangan") == 1
    assert rank("ponagngan", villages)[0].name == "Pongangan"
    assert rank("Mekarsrai", villages)[0].name == "Mekarsari"
    assert rank("Sukamulya Cibtau", villages, limit=None)[0].kecamatan_name == "Cibatu"


KENDAL_NAMES = sorted(
    {r["nama"] for r in parse_rows(KENDAL_CSV.read_text(encoding="utf-8")) if len(r["nama"]) >= 5}
)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(KENDAL_NAMES), st.data())
def test_any_name_with_two_neighbours_swapped_is_found(name: str, data: st.DataObject) -> None:
    positions = [i for i in range(len(name) - 1) if name[i] != name[i + 1]]
    at = data.draw(st.sampled_from(positions))
    typed = name[:at] + name[at + 1] + name[at] + name[at + 2 :]
    assume(typed not in KENDAL_NAMES)  # Kedungsari -> Kedungasri, another village's name
    assert similarity(typed.casefold(), name.casefold()) >= 0.75
    villages = [
        VillageView(str(i), n, "desa", "k", "K", 1, "D") for i, n in enumerate(KENDAL_NAMES)
    ]
    assert name in [v.name for v in rank(typed, villages, limit=None)]


async def test_a_search_within_one_district_is_not_crowded_out_by_another(sessions, clock):
    """/undang and /umumkan search one district: its villages must not be cut off by the best 8
    of all districts."""
    from bot.follows import search

    await two_districts(sessions, clock())
    async with sessions() as session:
        garut = next(d for d in await queries.districts(session) if d.kode == "32.05")
        found = await search(session, "Mekarsari", district_id=garut.id)
    assert len(found) == 6 and {v.district_id for v in found} == {garut.id}


# -- the same over the emulator ----------------------------------------------------------------


async def followed(sessions: async_sessionmaker[AsyncSession], telegram_id: int) -> set[str]:
    async with sessions() as session:
        rows = await session.execute(
            select(Follow.village_kode)
            .join(Person, Person.id == Follow.person_id)
            .where(Person.telegram_id == telegram_id)
        )
        return set(rows.scalars())


def village_buttons(labels: list[str], name: str) -> list[str]:
    return [label for label in labels if label.startswith(name + " (Kec.")]


async def test_every_village_is_reached_by_its_exact_name(bot, person, sessions, clock, emulator):
    await two_districts(sessions, clock())
    await bot()
    ani = person("Ani", "id")
    for name in ("Sukamulya", "Mekarsari"):
        await ani.send("/desa")
        await ani.send(name)
        assert ani.saw("13 desa yang cocok (halaman 1 dari 2)")
        first = village_buttons([b["text"] for b in ani.last.buttons()], name)
        assert len(first) == 8 and "◀" not in ani.button_labels()
        await ani.press("▶")
        assert ani.saw("(halaman 2 dari 2)")
        second = village_buttons([b["text"] for b in ani.last.buttons()], name)
        assert len(second) == 5 and "▶" not in [b["text"] for b in ani.last.buttons()]
        labels = first + second
        assert len(set(labels)) == 13
        # Villages of two districts: each label names its district.
        assert all(label.endswith(("Kabupaten Cianjur", "Kabupaten Garut")) for label in labels)
        await ani.press("◀")
        assert ani.saw("(halaman 1 dari 2)")
        await ani.press("▶")
        for label in second:  # the villages the old search could never show
            await ani.press(label)
            assert ani.saw("Anda sekarang mengikuti " + name)
    expected = {v.kode for v in shared_villages()}
    assert (
        len(await followed(sessions, ani.id)) == 10 and await followed(sessions, ani.id) < expected
    )
    assert not emulator.refusals


async def test_name_and_kecamatan_lead_to_one_village(bot, person, sessions, clock, emulator):
    await two_districts(sessions, clock())
    await bot()
    budi = person("Budi", "en")
    await budi.send("/village")
    for village in shared_villages():
        await budi.send(f"{village.name} {village.kecamatan_name}")
        buttons = [b["text"] for b in budi.last.buttons()]
        assert village_buttons(buttons, village.name) == [
            f"{village.name} (Kec. {village.kecamatan_name}), {village.district_name}"
        ]
        assert "▶" not in buttons
        await budi.press(buttons[0])
        assert budi.saw("You now follow " + village.name)
    assert await followed(sessions, budi.id) == {v.kode for v in shared_villages()}
    await budi.send("/village")
    await budi.send("ponagngan")
    assert budi.last.buttons()[0]["text"].startswith("Pongangan (Kec. Cibatu)")
    # A page button from a search that was closed says what to do.
    await budi.send("Sukamulya")
    await budi.send("/cancel")
    await budi.press("▶")
    assert budi.saw("That search is closed. Send /village")
    assert not emulator.refusals
