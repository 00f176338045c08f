"""Whole budget lines, read as villagers type and paste them: each part right, or left for the
bot to ask, never read as something else."""

from __future__ import annotations

from decimal import Decimal

import pytest
from aiogram.utils.i18n import I18n
from babel.numbers import format_decimal
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.budget_text import (
    MAX_LINE_CHARS,
    MAX_LINES,
    SOURCE_NAMES,
    LineReading,
    Part,
    Problem,
    Refusal,
    Skipped,
    Source,
    read_line,
    read_lines,
    source_of,
)
from bot.i18n import build_i18n, money
from bot.money import MAX_AMOUNT, PROPOSAL_CAP, line_total
from bot.proposals import SOURCES

LOCALES = ("id", "en")
S, D, N, OT = Source.SWADAYA, Source.APBD, Source.APBN, Source.OTHER


def parts(reading: LineReading) -> tuple[object, ...]:
    return (
        reading.item,
        reading.volume_milli,
        reading.unit,
        reading.unit_price,
        reading.source,
    )


# -- real lines ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The forms.
        ("Semen 50 sak @ 65.000 swadaya", ("Semen", 50_000, "sak", 65_000, S)),
        ("Upah tukang 10 HOK x Rp 120.000 APBD", ("Upah tukang", 10_000, "HOK", 120_000, D)),
        ("Pasir 3 m3 @ Rp 250.000 (APBN)", ("Pasir", 3_000, "m3", 250_000, N)),
        ("Besi 10mm 20 batang x 95rb swadaya", ("Besi 10mm", 20_000, "batang", 95_000, S)),
        ("Semen 50 sak", ("Semen", 50_000, "sak", None, None)),
        ("Paku 5 kg 25.000", ("Paku", 5_000, "kg", 25_000, None)),
        # A size or a spec is part of the name; only a known unit makes a quantity.
        ("Besi 10mm", ("Besi 10mm", None, None, None, None)),
        ("Pipa PVC 3 inch 10 batang @ 45.000", ("Pipa PVC 3 inch", 10_000, "batang", 45_000, None)),
        ("Semen 40 kg 50 sak Rp 65.000", ("Semen 40 kg", 50_000, "sak", 65_000, None)),
        ("Keramik 40 x 40 100 dus @ 55.000", ("Keramik 40 x 40", 100_000, "dus", 55_000, None)),
        ("Beton K-225 0.125 m3 @ 1.200.000", ("Beton K-225", 125, "m3", 1_200_000, None)),
        # Decimal quantities, in either notation where the shape decides.
        ("Beton 0.125 m3 @ 1.200.000 apbd", ("Beton", 125, "m3", 1_200_000, D)),
        ("Beton 0,125 m3 @ 1.200.000 apbd", ("Beton", 125, "m3", 1_200_000, D)),
        ("Cor 12,5 m2 x 85rb swadaya", ("Cor", 12_500, "m2", 85_000, S)),
        # Amounts as RAB tables print them.
        ("1. Semen 50 sak @ Rp. 65.000,- swadaya", ("Semen", 50_000, "sak", 65_000, S)),
        ("Semen 50 sak @ Rp 65.000,– Swadaya", ("Semen", 50_000, "sak", 65_000, S)),
        ("Semen 50 sak à Rp. 65.000,= APBD", ("Semen", 50_000, "sak", 65_000, D)),
        ("Semen 50 sak @Rp65.000,00 APBN", ("Semen", 50_000, "sak", 65_000, N)),
        ("Batu 2 truk @ 1 jt 250 rb apbd kab", ("Batu", 2_000, "truk", 1_250_000, D)),
        ("Gedung 1 unit @ 1,5 M apbn", ("Gedung", 1_000, "unit", 1_500_000_000, N)),
        ("Upah 10 OH x 2,5 juta swadaya", ("Upah", 10_000, "OH", 2_500_000, S)),
        (
            "Sewa molen 3 hari harga 250 ribu rupiah lainnya",
            ("Sewa molen", 3_000, "hari", 250_000, OT),
        ),
        # The quantity first, and other ways of naming the source.
        ("50 sak semen @ 65.000 swadaya", ("semen", 50_000, "sak", 65_000, S)),
        (
            "Tukang 10 orang hari x 120rb swadaya masyarakat",
            ("Tukang", 10_000, "orang hari", 120_000, S),
        ),
        ("Pipa 10 btg @ 50rb - dana swadaya", ("Pipa", 10_000, "btg", 50_000, S)),
        ("Pipa 10 btg @ 50rb, sumber dana: APBD", ("Pipa", 10_000, "btg", 50_000, D)),
        ("Pipa 10 btg @ 50rb [Self-help]", ("Pipa", 10_000, "btg", 50_000, S)),
        ("Semen 50 sak swadaya", ("Semen", 50_000, "sak", None, S)),
        ("Upah tukang swadaya", ("Upah tukang", None, None, None, S)),
        # "/sak" after the price, a total that checks out, a spreadsheet row.
        ("Semen 50 sak @ 65rb/sak swadaya", ("Semen", 50_000, "sak", 65_000, S)),
        ("Semen 50 sak Rp 65.000 per sak", ("Semen", 50_000, "sak", 65_000, None)),
        ("Semen 50 sak x 65.000 = 3.250.000 swadaya", ("Semen", 50_000, "sak", 65_000, S)),
        ("1\tSemen\t50\tsak\tRp 65.000\tRp 3.250.000", ("Semen", 50_000, "sak", 65_000, None)),
        ("Semen\t50\tsak\t65.000\t3.250.000\tAPBD", ("Semen", 50_000, "sak", 65_000, D)),
        # The written total settles the English "65,000" for an Indonesian reader.
        ("Semen 50 sak 65,000 3,250,000", ("Semen", 50_000, "sak", 65_000, None)),
        ("Semen 50 sak x 65,000 = Rp 3.250.000 swadaya", ("Semen", 50_000, "sak", 65_000, S)),
        # A number without a unit stays in the name rather than become a quantity.
        ("Semen 50 @ 65.000", ("Semen 50", None, None, 65_000, None)),
        ("Semen @ 65rb/sak", ("Semen", None, None, 65_000, None)),
    ],
)
def test_real_lines(text: str, expected: tuple[object, ...]) -> None:
    reading = read_line(text, "id")
    assert parts(reading) == expected
    assert reading.problems == ()


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("Semen 50 sak @ 65,000 swadaya", "en", ("Semen", 50_000, "sak", 65_000, S)),
        ("Cement 50 bags x Rp 65,000 self-help", "en", ("Cement", 50_000, "bags", 65_000, S)),
        ("Labour 10 days @ 120,000 district budget", "en", ("Labour", 10_000, "days", 120_000, D)),
        ("Sand 0.125 m3 @ 1,200,000 APBN", "en", ("Sand", 125, "m3", 1_200_000, N)),
        ("Sand 1.25 m3 @ 1.5 million other", "en", ("Sand", 1_250, "m3", 1_500_000, OT)),
        # "1.250 m3" is the locale's: 1250 for an Indonesian, 1.25 for an English reader.
        ("Pasir 1.250 m3 @ Rp 250.000", "id", ("Pasir", 1_250_000, "m3", 250_000, None)),
        ("Pasir 1.250 m3 @ Rp 250,000", "en", ("Pasir", 1_250, "m3", 250_000, None)),
    ],
)
def test_lines_in_the_persons_locale(text: str, locale: str, expected: tuple[object, ...]) -> None:
    reading = read_line(text, locale)
    assert parts(reading) == expected
    assert reading.problems == ()


# -- what is refused, and why ----------------------------------------------------------------


def only_problem(reading: LineReading) -> Problem:
    assert len(reading.problems) == 1, reading.problems
    return reading.problems[0]


SEMEN = ("Semen", 50_000, None)


@pytest.mark.parametrize(
    ("text", "part", "code", "kept"),
    [
        # Not an amount after "@": refused as a price, never read into the name.
        ("Semen 50 sak @ sejuta swadaya", Part.PRICE, "amount_format", ("Semen", 50_000, S)),
        ("Semen 50 sak Rp seratus ribu", Part.PRICE, "amount_format", SEMEN),
        ("Semen 50 sak @ 1.2.3 apbd", Part.PRICE, "amount_format", ("Semen", 50_000, D)),
        ("Semen 50 sak @ 2m swadaya", Part.PRICE, "amount_ambiguous", ("Semen", 50_000, S)),
        ("Semen 50 sak @ 0 swadaya", Part.PRICE, "amount_zero", ("Semen", 50_000, S)),
        ("Semen 50 sak @ 1,25 swadaya", Part.PRICE, "amount_fraction", ("Semen", 50_000, S)),
        # Over the programme's cap for one line.
        ("Gedung 20 unit @ 1 M apbn", Part.PRICE, "line_too_large", ("Gedung", 20_000, N)),
        # The price is per another unit than the quantity's.
        ("Semen 50 sak @ 1.300/kg", Part.PRICE, "per_unit", SEMEN),
        # The written total does not match.
        ("Semen 50 sak x 65.000 = 3.000.000", Part.PRICE, "total_mismatch", SEMEN),
        # A source the bot does not have: shown back, asked with the buttons.
        ("Semen 50 sak @ 65.000 APBDes", Part.SOURCE, "source_unknown", SEMEN),
        ("Semen 50 sak @ 65.000 APBD Provinsi", Part.SOURCE, "source_unknown", SEMEN),
        ("Semen 50 sak @ 65.000 dana desa", Part.SOURCE, "source_unknown", SEMEN),
        # A quantity that is no number.
        ("Semen 1.2.3 sak @ 65.000", Part.QTY, "qty_format", ("Semen", None, None)),
    ],
)
def test_refused_parts(text: str, part: Part, code: str, kept: tuple[object, ...]) -> None:
    reading = read_line(text, "id")
    problem = only_problem(reading)
    assert (problem.part, problem.code) == (part, code)
    assert part in reading.missing
    assert (reading.item, reading.volume_milli, reading.source) == kept


def test_an_ambiguous_price_keeps_both_readings() -> None:
    reading = read_line("Semen 50 sak @ 65,000 swadaya", "id")
    problem = only_problem(reading)
    assert problem.code == "amount_ambiguous" and problem.shown == "65,000"
    assert problem.params["readings"] == (Decimal("65"), Decimal("65000"))
    assert reading.unit_price is None and reading.missing == (Part.PRICE,)


def test_a_total_settles_only_a_locale_free_quantity() -> None:
    # "1.250 kg" is itself the locale's; 1250 kg x 65 and 1.25 kg x 65,000 both make 81,250.
    reading = read_line("Semen 1.250 kg 65,000 81,250", "id")
    assert only_problem(reading).code == "amount_ambiguous"
    assert reading.unit_price is None


def test_a_total_that_fits_no_reading_keeps_the_ambiguity() -> None:
    reading = read_line("Semen 50 sak x 65,000 = 3,000,000", "id")
    assert only_problem(reading).code == "amount_ambiguous"


@pytest.mark.parametrize("text", ["Jumlah Rp 5.000.000", "TOTAL: 5.000.000", "Sub total 2.500.000"])
def test_a_total_row_is_not_a_line(text: str) -> None:
    assert read_line(text, "id").skipped == Skipped.TOTAL


def test_a_line_with_a_total_station_is_a_line() -> None:
    reading = read_line("Total station 2 hari @ 500.000", "id")
    assert parts(reading) == ("Total station", 2_000, "hari", 500_000, None)


@pytest.mark.parametrize("text", ["Rp", "...", "@", "-"])
def test_nothing_to_take(text: str) -> None:
    assert read_line(text, "id").skipped == Skipped.NOTHING


# -- several lines ---------------------------------------------------------------------------


def test_a_pasted_table() -> None:
    text = "\n".join(
        [
            "RAB Betonisasi Jalan RT 03",
            "A. Pekerjaan persiapan",
            "1. Semen 50 sak @ 65.000 swadaya",
            "",
            "2. Pasir 3 m3 @ Rp 250.000 (APBN)",
            "3) Upah tukang 10 HOK x Rp 120.000 APBD",
            "   Besi 10mm 20 batang",
            "Jumlah Rp 5.000.000",
            "Upah tukang swadaya",
        ]
    )
    reading = read_lines(text, "id")
    assert reading.refusal is None and reading.count == 8
    assert [line.skipped for line in reading.lines] == [
        Skipped.HEADING,
        Skipped.HEADING,
        None,
        None,
        None,
        None,
        Skipped.TOTAL,
        None,
    ]
    assert [parts(line) for line in reading.taken] == [
        ("Semen", 50_000, "sak", 65_000, S),
        ("Pasir", 3_000, "m3", 250_000, N),
        ("Upah tukang", 10_000, "HOK", 120_000, D),
        ("Besi 10mm", 20_000, "batang", None, None),
        ("Upah tukang", None, None, None, S),
    ]


def test_a_line_alone_is_never_a_heading() -> None:
    assert read_lines("Upah tukang", "id").taken[0].item == "Upah tukang"


def test_too_many_lines_are_refused_whole() -> None:
    reading = read_lines("\n".join(["Semen 1 sak @ 65.000"] * (MAX_LINES + 1)), "id")
    assert reading.refusal == Refusal.TOO_MANY and reading.lines == ()
    assert read_lines("   \n  ", "id").refusal == Refusal.EMPTY


# -- sources -----------------------------------------------------------------------------------


def test_the_sources_are_the_proposals() -> None:
    assert tuple(Source) == SOURCES


@pytest.mark.parametrize(
    ("text", "source"),
    [
        *((name, source) for source, names in SOURCE_NAMES.items() for name in names),
        ("SWADAYA", S),
        ("Swadaya Masyarakat", S),
        ("self help", S),
        ("(APBN)", N),
        ("[apbd]", D),
        ("Dana swadaya", S),
        ("sumber dana: APBN", N),
        ("dari APBD.", D),
        ("Lain-lain", OT),
        ("lain lain", OT),
    ],
)
def test_source_spellings(text: str, source: Source) -> None:
    assert source_of(text) == source


@pytest.mark.parametrize("text", ["APBDes", "dana desa", "APBD provinsi", "CSR", "", "swa"])
def test_other_words_are_no_source(text: str) -> None:
    assert source_of(text) is None


# -- properties ----------------------------------------------------------------------------------

ITEMS = (
    "Semen",
    "Semen Portland",
    "Besi 10mm",
    "Besi beton 12 mm",
    "Pipa PVC 3 inch",
    "Beton K-225",
    "Upah tukang",
    "Keramik 40x40",
    "Cat tembok",
    "Batu kali",
)
UNITS = ("sak", "m3", "HOK", "batang", "kg", "buah", "m2", "unit", "OH", "ls", "titik", "truk")
SPELLINGS = {
    S: ("swadaya", "Swadaya", "SWADAYA", "swadaya masyarakat", "(swadaya)", "dana swadaya"),
    D: ("APBD", "apbd", "(APBD)", "APBD Kabupaten", "sumber dana: APBD"),
    N: ("APBN", "apbn", "(APBN)", "dari APBN"),
    OT: ("lainnya", "lain-lain", "Other"),
}


@st.composite
def typed_lines(draw: st.DrawFn) -> tuple[str, str, tuple[object, ...]]:
    """A budget line as someone in `locale` types it, and what it says."""
    locale = draw(st.sampled_from(LOCALES))
    item = draw(st.sampled_from(ITEMS))
    unit = draw(st.sampled_from(UNITS))
    milli = draw(st.integers(min_value=1, max_value=10**6))
    price = draw(st.integers(min_value=1, max_value=10**8))
    assume(line_total(milli, price) <= PROPOSAL_CAP)
    source = draw(st.sampled_from(list(Source)))
    qty = format_decimal(Decimal(milli) / 1000, locale=locale) + draw(st.sampled_from(["", " "]))
    shapes = [money(price, locale), str(price), format_decimal(price, locale=locale)]
    if price % 1000 == 0:
        shapes.append(f"{price // 1000}rb")
    if locale == "id":
        shapes.append(f"Rp. {format_decimal(price, locale='id')},-")
    price_text = draw(st.sampled_from(shapes))
    marker = draw(st.sampled_from(["@ ", "@", "x ", "× ", "harga "]))
    spelled = draw(st.sampled_from(SPELLINGS[source]))
    if draw(st.booleans()):
        text = f"{item} {qty}{unit} {marker}{price_text} {spelled}"
    else:
        text = f"{qty}{unit} {item} {marker}{price_text} {spelled}"
    return text, locale, (item, milli, unit, price, source)


@given(typed_lines())
def test_typed_lines_read_back_in_their_locale(case: tuple[str, str, tuple[object, ...]]) -> None:
    text, locale, expected = case
    reading = read_line(text, locale)
    assert parts(reading) == expected, text
    assert reading.problems == ()


@given(typed_lines())
def test_typed_lines_in_another_locale_are_right_or_asked(
    case: tuple[str, str, tuple[object, ...]],
) -> None:
    text, written, expected = case
    item, milli, unit, price, source = expected
    reader = "en" if written == "id" else "id"
    reading = read_line(text, reader)
    assert (reading.item, reading.unit, reading.source) == (item, unit, source), text
    # The price is the one meant, or refused as ambiguous with it among the readings.
    if reading.unit_price is None:
        problem = only_problem(reading)
        if problem.code == "line_too_large":
            # Over the cap only with a quantity read otherwise, by its locale (below).
            assert reading.volume_milli != milli
        else:
            assert problem.code == "amount_ambiguous"
            assert Decimal(price) in problem.params["readings"]
    else:
        assert reading.unit_price == price, text
    # Only a "d.ddd" quantity depends on the locale, as when typed alone.
    if reading.volume_milli not in (milli, None):
        qty = text.split(unit)[0].split()[-1] if text.startswith(item) else text.split(unit)[0]
        assert qty.count(".") + qty.count(",") == 1 and len(qty.strip().split(".")[-1]) >= 3


TOKENS = st.sampled_from(
    [
        "Semen",
        "10mm",
        "50",
        "0.125",
        "1.250",
        "1,5",
        "65.000",
        "65,000",
        "sak",
        "m3",
        "HOK",
        "@",
        "x",
        "Rp",
        "Rp.",
        "rb",
        "juta",
        "M",
        "m",
        ",-",
        "=",
        "/",
        "swadaya",
        "APBD",
        "(",
        ")",
        "jumlah",
        "\t",
        "-",
    ]
)


@given(st.lists(TOKENS, max_size=12), st.sampled_from(LOCALES))
def test_any_line_of_budget_words_reads_within_bounds(tokens: list[str], locale: str) -> None:
    reading = read_line(" ".join(tokens), locale)
    _within_bounds(reading)


@given(st.text(max_size=80), st.sampled_from(LOCALES))
def test_any_text_reads_within_bounds(text: str, locale: str) -> None:
    for reading in read_lines(text, locale).lines:
        _within_bounds(reading)


def _within_bounds(reading: LineReading) -> None:
    if reading.skipped is not None:
        assert parts(reading) == (None,) * 5
        return
    assert reading.item is None or reading.item.strip() == reading.item != ""
    if reading.volume_milli is not None:
        assert reading.volume_milli > 0 and reading.unit
    if reading.unit_price is not None:
        assert 0 < reading.unit_price <= MAX_AMOUNT
        if reading.volume_milli is not None:
            assert line_total(reading.volume_milli, reading.unit_price) <= PROPOSAL_CAP
    for problem in reading.problems:
        assert problem.part in reading.missing


# -- the hint's example ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return build_i18n("id")


@pytest.mark.parametrize("locale", LOCALES)
def test_the_hints_example_reads_back_whole(i18n: I18n, locale: str) -> None:
    from handlers.budget_echo import line_example

    with i18n.context(), i18n.use_locale(locale):
        example = line_example()
    assert parts(read_line(example, locale)) == ("Semen", 50_000, "sak", 65_000, S)


def test_a_very_long_line_is_only_a_name() -> None:
    # Longer than any budget line: not searched for parts, and refused later as too long.
    text = "Semen 50 sak @ 65.000 swadaya " + "x" * MAX_LINE_CHARS
    assert parts(read_line(text, "id")) == (text, None, None, None, None)
