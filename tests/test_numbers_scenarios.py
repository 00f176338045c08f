"""Numbers as people type them, over the emulator: each in their own locale, volumes as Excel
RAB exports write them, and counts with the unit the question asked for."""

from __future__ import annotations

from storage.models import BudgetLine, Proposal
from tests.test_proposal_scenarios import LABELS, join, rows, setup_round


async def until_households(p, lang: str) -> None:
    await p.press(LABELS[lang]["new"])
    await p.send("Sumur bor RT 02")
    await p.press(LABELS[lang]["road"])
    await p.send("Dusun Krajan")
    await p.send("/skip")
    await p.send("Warga mengambil air dari sungai yang jauh dan keruh.")


async def test_english_member_types_english_numbers(bot, person, sessions, clock, emulator):
    district, _ = await setup_round(sessions, clock)
    await bot()
    john = person("John", "en")
    await join(john, sessions, district, clock)
    await until_households(john, "en")
    await john.send("1,200 households")
    await john.send("450 poor households")
    await john.press(LABELS["en"]["add"])
    await john.send("Pasir")
    # The prompts' examples are in his own notation.
    assert john.saw("12.5 m3") and not john.saw("12,5 m3")
    await john.send("0.125 m3")
    assert john.saw("65,000") and john.saw("Rp 1,500,000")
    assert john.saw("1.5 million") and not john.saw("65.000")
    # What the bot shows him reads back as it was shown.
    await john.send("Rp 35,000")
    assert john.saw("0.125 m3 × Rp 35,000 = Rp 4,375")
    await john.press(LABELS["en"]["swadaya"])
    [proposal] = await rows(sessions, Proposal)
    assert (proposal.households, proposal.poor_households) == (1200, 450)
    [line] = await rows(sessions, BudgetLine)
    assert (line.volume_milli, line.unit, line.unit_price) == (125, "m3", 35_000)
    assert not emulator.refusals


async def test_indonesian_member_and_excel_volumes(bot, person, sessions, clock, emulator):
    district, _ = await setup_round(sessions, clock)
    await bot()
    siti = person("Siti", "id")
    await join(siti, sessions, district, clock)
    await until_households(siti, "id")
    await siti.send("120 KK")
    assert not siti.saw("bilangan bulat")
    await siti.send("45 KK miskin")
    # Volumes pasted from an English Excel RAB: a leading 0 is always a decimal.
    await siti.press(LABELS["id"]["add"])
    await siti.send("Beton K-225")
    assert siti.saw("12,5 m3")
    await siti.send("0.750 m3")
    assert siti.saw("1,5 juta") and siti.saw("65.000")
    await siti.send("Rp 1.200.000")
    assert siti.saw("0,75 m3 × Rp 1.200.000 = Rp 900.000")
    await siti.press(LABELS["id"]["apbd"])
    # Her own notation, and the English one she cannot mean for Rupiah: refused with the reading.
    await siti.press(LABELS["id"]["add"])
    await siti.send("Semen")
    await siti.send("1.250 kg")
    await siti.send("Rp 35,000")
    assert siti.saw("Jika maksud Anda Rp 35.000, ketik 35000")
    lines = await rows(sessions, BudgetLine)
    assert [(b.volume_milli, b.unit_price) for b in lines if b.complete] == [(750, 1_200_000)]
    [pending] = [b for b in lines if not b.complete]
    assert (pending.volume_milli, pending.unit_price) == (1_250_000, None)
    [proposal] = await rows(sessions, Proposal)
    assert (proposal.households, proposal.poor_households) == (120, 45)
    assert not emulator.refusals


async def test_a_count_with_another_unit_is_refused(bot, person, sessions, clock, emulator):
    district, _ = await setup_round(sessions, clock)
    await bot()
    siti = person("Siti", "id")
    await join(siti, sessions, district, clock)
    await until_households(siti, "id")
    await siti.send("120 m2")
    await siti.send("12,5 KK")
    [proposal] = await rows(sessions, Proposal)
    assert proposal.households is None and proposal.step == "households"
    assert not emulator.refusals
