"""Several districts in one database: proposal prefixes and numbers.

The class of tests: prefixes chosen for many districts whose names look alike are all distinct
(the 11 "Aceh ..." kabupaten, Kabupaten and Kota of one name), a taken prefix is refused with a
free suggestion, and two districts that already share a prefix both number their proposals.
"""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Invalid
from bot.regions import (
    choose_prefix,
    default_prefix,
    free_prefix,
    import_regions,
    prefix_candidates,
)
from storage import queries
from storage.models import District, Proposal
from storage.views import Role
from tests.review_helpers import grant
from tests.seed import round_

ACEH = ["Aceh Barat", "Aceh Barat Daya", "Aceh Besar", "Aceh Jaya", "Aceh Selatan",
        "Aceh Singkil", "Aceh Tamiang", "Aceh Tengah", "Aceh Tenggara", "Aceh Timur",
        "Aceh Utara"]  # fmt: skip
TWINS = ["Bandung", "Madiun", "Solok", "Semarang", "Bogor", "Malang", "Kediri", "Blitar"]


def district_csv(kode: str, name: str, village: str = "Lerep") -> str:
    level = "kota" if name.startswith("Kota") else "kabupaten"
    village_level = "kelurahan" if level == "kota" else "desa"
    return (
        "kode,nama,tingkat\n"
        f"{kode},{name},{level}\n"
        f"{kode}.01,Kecamatan Satu,kecamatan\n"
        f"{kode}.01.2001,{village},{village_level}\n"
    )


async def import_all(
    sessions: async_sessionmaker[AsyncSession], names: list[str], now: datetime
) -> list[str]:
    for index, name in enumerate(names, start=1):
        async with sessions() as session, session.begin():
            await import_regions(
                session, district_csv(f"{11 + index // 100}.{index:02d}", name), now
            )
    async with sessions() as session:
        return [d.prefix for d in await queries.districts(session)]


# -- the choice of prefix ----------------------------------------------------------------------


def test_the_first_district_keeps_the_prefix_it_always_had() -> None:
    assert default_prefix("Kabupaten Kendal") == "KND"
    assert free_prefix("Kabupaten Kendal", []) == "KND"
    assert free_prefix("Kabupaten Aceh Barat", []) == "ACH"


def test_eleven_aceh_kabupaten_get_eleven_prefixes() -> None:
    taken: list[str] = []
    for name in ACEH:
        taken.append(free_prefix(f"Kabupaten {name}", taken))
    assert len(set(taken)) == 11
    assert all(p.startswith("A") and len(p) == 3 for p in taken)


@pytest.mark.parametrize("name", TWINS)
def test_kabupaten_and_kota_of_one_name_differ(name: str) -> None:
    first = free_prefix(f"Kabupaten {name}", [])
    second = free_prefix(f"Kota {name}", [first])
    assert first != second and len(second) == 3
    assert free_prefix(f"Kota {name}", []) == first  # alone, a kota gets the natural prefix


names = st.lists(
    st.text(alphabet=st.sampled_from("abcdeghijklmnoprstuwy "), min_size=1, max_size=14),
    min_size=1,
    max_size=40,
)


@given(names)
def test_any_number_of_districts_get_distinct_well_formed_prefixes(raw: list[str]) -> None:
    taken: list[str] = []
    for name in raw:
        prefix = choose_prefix(f"Kabupaten {name}", None, taken)
        assert prefix not in taken
        assert prefix.isalnum() and prefix.isupper() and 3 <= len(prefix) <= 8
        taken.append(prefix)


@given(st.text(min_size=0, max_size=20))
def test_the_candidates_never_run_out_or_repeat(name: str) -> None:
    first = list(itertools.islice(prefix_candidates(name), 200))
    assert len(first) == len(set(first)) == 200


def test_a_taken_prefix_is_refused_with_a_free_suggestion() -> None:
    with pytest.raises(Invalid) as refused:
        choose_prefix("Kota Semarang", "smr", ["SMR", "SMN"])
    assert refused.value.code == "prefix_taken"
    assert refused.value.params["prefix"] == "SMR"
    assert refused.value.params["suggestion"] not in ("SMR", "SMN")
    assert choose_prefix("Kota Semarang", " kts ", ["SMR"]) == "KTS"
    for bad in ("S", "SMR-2", "SEMARANGKOTA", "ÄBC"):
        with pytest.raises(Invalid) as refused:
            choose_prefix("Kota Semarang", bad, [])
        assert refused.value.code == "prefix_format"


# -- the same through the import ---------------------------------------------------------------


async def test_importing_look_alike_districts_gives_each_its_own_prefix(sessions, clock):
    prefixes = await import_all(
        sessions, [f"Kabupaten {n}" for n in ACEH] + ["Kabupaten Bandung", "Kota Bandung"], clock()
    )
    assert len(prefixes) == len(set(prefixes)) == 13


async def test_reimport_keeps_the_prefix_and_a_taken_one_is_refused(sessions, clock):
    async with sessions() as session, session.begin():
        await import_regions(session, district_csv("33.22", "Kabupaten Semarang"), clock())
    async with sessions() as session, session.begin():
        with pytest.raises(Invalid) as refused:
            await import_regions(
                session, district_csv("33.74", "Kota Semarang"), clock(), prefix="SMR"
            )
    assert refused.value.code == "prefix_taken"
    async with sessions() as session, session.begin():
        again = await import_regions(
            session, district_csv("33.22", "Kabupaten Semarang"), clock(), prefix="SMR"
        )
        kota = await import_regions(session, district_csv("33.74", "Kota Semarang"), clock())
    assert (again.created, again.prefix) == (False, "SMR")
    assert kota.created and kota.prefix not in ("SMR", "")


# -- two districts that already share a prefix ---------------------------------------------------


async def submit(p, title: str) -> None:
    """The PAKEM wizard in Indonesian, up to the submission."""
    await p.press("📝 Usulan baru")
    await p.send(title)
    await p.press("Jalan dan gang")
    await p.send("Dusun Krajan, RT 03/RW 01")
    await p.send_location(-7.0412, 110.1267)
    await p.send("Jalan tanah becek saat hujan; anak sekolah dan lansia sulit lewat.")
    await p.send("120")
    await p.send("45")
    await p.press("➕ Tambah baris")
    await p.send("Semen 50 kg")
    await p.send("100 sak")
    await p.send("65.000")
    await p.press("Swadaya masyarakat")
    await p.press("✅ Selesai")
    await p.send_photo()
    await p.press("✅ Selesai")
    await p.press("📨 Kirim usulan")


async def test_two_districts_sharing_smr_both_submit_smr_2026_001(
    bot, person, sessions, clock, emulator
):
    """A database from before prefixes were checked: Kabupaten and Kota Semarang are both SMR."""
    async with sessions() as session, session.begin():
        await import_regions(session, district_csv("33.22", "Kabupaten Semarang", "Lerep"), clock())
        await import_regions(session, district_csv("33.74", "Kota Semarang", "Pongangan"), clock())
        await session.execute(update(District).values(prefix="SMR"))
    async with sessions() as session:
        kabupaten, kota = await queries.districts(session)
    for district in (kabupaten, kota):
        await round_(sessions, district, clock(), days=10)
    await bot()
    lerep, pongangan = person("Ani Lerep"), person("Budi Pongangan")
    await grant(lerep, sessions, kabupaten, Role.PAKEM, clock(), "33.22.01.2001")
    await grant(pongangan, sessions, kota, Role.PAKEM, clock(), "33.74.01.2001")
    await submit(lerep, "Betonisasi jalan Lerep")
    assert lerep.saw("SMR-2026-001")
    await submit(pongangan, "Betonisasi jalan Pongangan")
    assert pongangan.saw("SMR-2026-001") and not pongangan.saw("kesalahan")
    async with sessions() as session:
        rows = (await session.execute(select(Proposal).order_by(Proposal.district_id))).scalars()
        numbered = [(r.district_id, r.number, r.status) for r in rows]
    assert numbered == [
        (kabupaten.id, "SMR-2026-001", "submitted"),
        (kota.id, "SMR-2026-001", "submitted"),
    ]
    assert not emulator.refusals
