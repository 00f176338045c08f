"""Budget lines typed whole at the budget step, over the emulator: read at once, echoed line by
line, and only what is missing asked for, in Indonesian and in English."""

from __future__ import annotations

import pytest

from storage.models import BudgetLine, Proposal
from tests.test_proposal_scenarios import LABELS, fill_until_budget, join, rows, setup_round

WORDS = {
    "id": {
        "read": "Yang saya baca dari pesan Anda",
        "item_q": "Apa nama barang",
        "qty_q": "Berapa banyak",
        "price_q": "Berapa harga satuannya",
        "source_q": "Siapa yang mendanai",
        "needed": "Masih diperlukan: Harga satuan, Sumber dana.",
        "line1": "Baris 1: Semen",
        "budget": "Tambah baris, perbaiki atau hapus baris",
        "hint": "Anda juga bisa mengetik satu baris utuh",
        "apbn": "APBN (anggaran nasional)",
        "not_understood": "Saya tidak mengerti jumlah itu.",
        "attachments": "Kirim foto lokasi",
    },
    "en": {
        "read": "Read from your message",
        "item_q": "What is the item",
        "qty_q": "How much, and in which unit",
        "price_q": "What is the price per unit",
        "source_q": "Who funds this line",
        "needed": "Still needed: Unit price, Source of funds.",
        "line1": "Line 1: Semen",
        "budget": "Add a line, correct or remove one",
        "hint": "You can also type a whole line",
        "apbn": "National budget (APBN)",
        "not_understood": "I did not understand that amount.",
        "attachments": "Send photos of the site",
    },
}
# The same amounts as each reader writes them.
NUMBERS = {
    "id": {"65000": "65.000", "95000": "95.000", "120000": "120.000", "250000": "250.000"},
    "en": {"65000": "65,000", "95000": "95,000", "120000": "120,000", "250000": "250,000"},
}


def money(lang: str, value: str) -> str:
    return "Rp " + NUMBERS[lang].get(value, value)


async def at_budget(lang, bot, person, sessions, clock):
    district, _ = await setup_round(sessions, clock)
    await bot()
    siti = person("Siti", lang)
    await join(siti, sessions, district, clock)
    await fill_until_budget(siti, lang)
    return siti


def values(line: BudgetLine) -> tuple[object, ...]:
    return (line.item, line.volume_milli, line.unit, line.unit_price, line.source, line.complete)


@pytest.mark.parametrize("lang", ["id", "en"])
async def test_one_whole_line_is_taken_at_once(lang, bot, person, sessions, clock, emulator):
    siti = await at_budget(lang, bot, person, sessions, clock)
    W, n = WORDS[lang], NUMBERS[lang]
    # The budget step says that a whole line may be typed, with an example in her notation.
    assert siti.saw(W["hint"]) and siti.saw(f"Semen 50 sak @ {n['65000']} swadaya")
    await siti.send(f"Semen 50 sak @ {n['65000']} swadaya")
    assert siti.saw(W["read"])
    assert siti.saw("✅ 1. Semen: 50 sak × " + money(lang, "65000"))
    # Nothing is asked: she is back at the budget, with the line and its total.
    assert not any(siti.saw(W[q]) for q in ("item_q", "qty_q", "price_q", "source_q"))
    assert siti.saw(W["budget"]) and siti.saw("3.250.000" if lang == "id" else "3,250,000")
    [line] = await rows(sessions, BudgetLine)
    assert values(line) == ("Semen", 50_000, "sak", 65_000, "swadaya", True)
    await siti.press(LABELS[lang]["done"])
    assert siti.saw(W["attachments"])
    assert not emulator.refusals


@pytest.mark.parametrize("lang", ["id", "en"])
async def test_only_the_missing_price_and_source_are_asked(
    lang, bot, person, sessions, clock, emulator
):
    siti = await at_budget(lang, bot, person, sessions, clock)
    W = WORDS[lang]
    await siti.send("Semen 50 sak")
    assert siti.saw("📝 1. Semen: 50 sak × ?")
    assert siti.saw(W["needed"])
    # The price is asked next, for this line; neither the item nor the quantity.
    assert siti.saw(W["line1"]) and siti.saw(W["price_q"])
    assert not siti.saw(W["item_q"]) and not siti.saw(W["qty_q"])
    [line] = await rows(sessions, BudgetLine)
    assert values(line) == ("Semen", 50_000, "sak", None, None, False)
    await siti.send(NUMBERS[lang]["65000"])
    assert siti.saw(W["source_q"])
    await siti.press(LABELS[lang]["apbd"])
    assert siti.saw(W["budget"])
    [line] = await rows(sessions, BudgetLine)
    assert values(line) == ("Semen", 50_000, "sak", 65_000, "apbd", True)
    assert not emulator.refusals


@pytest.mark.parametrize("lang", ["id", "en"])
async def test_three_lines_pasted_at_once(lang, bot, person, sessions, clock, emulator):
    siti = await at_budget(lang, bot, person, sessions, clock)
    W, n = WORDS[lang], NUMBERS[lang]
    await siti.send(
        f"Pasir 3 m3 @ Rp {n['250000']} (APBN)\n"
        f"Upah tukang 10 HOK x Rp {n['120000']} APBD\n"
        "Besi 10mm 20 batang x 95rb swadaya"
    )
    echo = siti.replies[0].text
    assert echo.count("✅") == 3
    assert "1. Pasir: 3 m3 × " + money(lang, "250000") in echo
    assert "2. Upah tukang: 10 HOK × " + money(lang, "120000") in echo
    assert "3. Besi 10mm: 20 batang × " + money(lang, "95000") in echo
    # 750,000 + 1,200,000 + 1,900,000, split by source.
    assert siti.saw("3.850.000" if lang == "id" else "3,850,000")
    assert siti.saw(W["budget"]) and not siti.saw(W["price_q"])
    lines = sorted(await rows(sessions, BudgetLine), key=lambda line: line.position)
    assert [values(line) for line in lines] == [
        ("Pasir", 3_000, "m3", 250_000, "apbn", True),
        ("Upah tukang", 10_000, "HOK", 120_000, "apbd", True),
        ("Besi 10mm", 20_000, "batang", 95_000, "swadaya", True),
    ]
    assert not emulator.refusals


@pytest.mark.parametrize("lang", ["id", "en"])
async def test_a_wrong_amount_is_refused_with_a_clear_message(
    lang, bot, person, sessions, clock, emulator
):
    siti = await at_budget(lang, bot, person, sessions, clock)
    W = WORDS[lang]
    await siti.send("Semen 50 sak @ sejuta swadaya")
    assert siti.saw(W["not_understood"])
    assert siti.saw("“sejuta”")
    assert siti.saw("1,5 juta" if lang == "id" else "1.5 million"), "the refusal shows what works"
    [line] = await rows(sessions, BudgetLine)
    assert values(line) == ("Semen", 50_000, "sak", None, "swadaya", False)
    # Only the price is asked; the source typed with the line is kept, not asked again.
    assert siti.saw(W["price_q"])
    await siti.send("65rb")
    assert not siti.saw(W["source_q"]) and siti.saw(W["budget"])
    [line] = await rows(sessions, BudgetLine)
    assert values(line) == ("Semen", 50_000, "sak", 65_000, "swadaya", True)
    # The other notation's "65.000" is refused with the reading to type, never read as 65.
    other = "Semen 10 sak @ 65,000 swadaya" if lang == "id" else "Semen 10 sak @ 65.000 swadaya"
    await siti.send(other)
    assert siti.saw(
        "Jika maksud Anda Rp 65.000, ketik 65000"
        if lang == "id"
        else "If you mean Rp 65,000, type 65000"
    )
    lines = sorted(await rows(sessions, BudgetLine), key=lambda line: line.position)
    assert values(lines[1]) == ("Semen", 10_000, "sak", None, "swadaya", False)
    assert not emulator.refusals


async def test_pasted_lines_are_asked_one_after_the_other_across_a_restart(
    bot, person, sessions, clock, emulator
):
    from tests.conftest import stop

    district, _ = await setup_round(sessions, clock)
    first = await bot()
    siti = person("Siti", "id")
    await join(siti, sessions, district, clock)
    await fill_until_budget(siti, "id")
    await siti.send(
        "Semen 50 sak @ 65.000\n"
        "Jumlah Rp 3.250.000\n"
        "Besi 10mm 20 batang swadaya\n"
        "Pasir 3 m3 @ 250rb APBD Provinsi"
    )
    assert siti.saw("➖ “Jumlah Rp 3.250.000”: tidak diambil")
    assert siti.saw("Sumber dana “APBD Provinsi”: Sumber dana ini tidak dikenal bot.")
    assert siti.saw("Baris 1: Semen") and siti.saw("Siapa yang mendanai")
    # Everything typed is in the draft at once; the bot going down loses nothing.
    lines = sorted(await rows(sessions, BudgetLine), key=lambda line: line.position)
    assert [values(line) for line in lines] == [
        ("Semen", 50_000, "sak", 65_000, None, False),
        ("Besi 10mm", 20_000, "batang", None, "swadaya", False),
        ("Pasir", 3_000, "m3", 250_000, None, False),
    ]
    await stop(first)
    await bot()
    await siti.press(LABELS["id"]["swadaya"])
    # The next unfinished line follows, at the part it lacks.
    assert siti.saw("Baris 2: Besi 10mm") and siti.saw("Berapa harga satuannya")
    await siti.send("95rb")
    assert siti.saw("Baris 3: Pasir") and siti.saw("Siapa yang mendanai")
    await siti.press(WORDS["id"]["apbn"])
    assert siti.saw(WORDS["id"]["budget"])
    lines = sorted(await rows(sessions, BudgetLine), key=lambda line: line.position)
    assert [values(line) for line in lines] == [
        ("Semen", 50_000, "sak", 65_000, "swadaya", True),
        ("Besi 10mm", 20_000, "batang", 95_000, "swadaya", True),
        ("Pasir", 3_000, "m3", 250_000, "apbn", True),
    ]
    [proposal] = await rows(sessions, Proposal)
    assert (proposal.step, proposal.editing_line_id) == ("budget", None)
    assert not emulator.refusals
