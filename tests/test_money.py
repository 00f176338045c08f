"""Amount parsing, property-tested: whatever way an amount is written, the same Rupiah come out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import money
from bot.money import (
    MAX_AMOUNT,
    AmountError,
    line_total,
    parse_amount,
    parse_count,
    parse_quantity,
)
from bot.proposals import HOUSEHOLD_UNITS, POOR_UNITS

amounts = st.integers(min_value=1, max_value=MAX_AMOUNT)


def dotted(n: int) -> str:
    return f"{n:,}".replace(",", ".")


@given(amounts)
def test_plain_digits(n: int) -> None:
    assert parse_amount(str(n)) == n


@given(amounts)
def test_indonesian_grouping_with_and_without_rp(n: int) -> None:
    assert parse_amount(dotted(n)) == n
    assert parse_amount(f"Rp {dotted(n)}") == n
    assert parse_amount(f"Rp{dotted(n)},00") == n
    assert parse_amount(f"Rp. {dotted(n)},-") == n


@given(amounts)
def test_what_the_bot_echoes_reads_back(n: int) -> None:
    assert parse_amount(money(n, "id")) == n
    assert parse_amount(format_decimal(n, locale="id")) == n


@given(st.integers(min_value=1_000_000, max_value=MAX_AMOUNT))
def test_english_grouping_with_several_groups(n: int) -> None:
    # A single ",ddd" group stays ambiguous (1,500: 1.5 or 1500?) and is refused on purpose.
    assert parse_amount(money(n, "en")) == n


@given(st.integers(min_value=1, max_value=999_999), st.sampled_from(["juta", "jt", " juta"]))
def test_juta_with_decimal_comma(hundredths: int, word: str) -> None:
    value = Decimal(hundredths) / 100
    text = format_decimal(value, format="#,##0.##", locale="id").replace(".", "")
    assert parse_amount(f"{text}{word}") == int(value * 1_000_000)


@given(st.integers(min_value=1, max_value=9_999), st.sampled_from(["ribu", "rb", " ribu"]))
def test_ribu(n: int, word: str) -> None:
    assert parse_amount(f"{n}{word}") == n * 1000


@given(
    st.integers(min_value=1, max_value=9_999),
    st.sampled_from([" M", "M", " milyar", " miliar", "milyar"]),
)
def test_milyar(n: int, word: str) -> None:
    assert parse_amount(f"{n}{word}") == n * 10**9


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1500000", 1_500_000),
        ("1.500.000", 1_500_000),
        ("Rp 1.500.000", 1_500_000),
        ("Rp1.500.000,00", 1_500_000),
        ("1,5 juta", 1_500_000),
        ("1,5jt", 1_500_000),
        ("750 ribu", 750_000),
        ("2 M", 2 * 10**9),
        ("2 milyar", 2 * 10**9),
        ("2 miliar", 2 * 10**9),
        ("1,500,000", 1_500_000),
        ("1.5 juta", 1_500_000),
        ("IDR 250.000", 250_000),
        (" 65rb ", 65_000),
    ],
)
def test_the_issue_examples(text: str, value: int) -> None:
    assert parse_amount(text) == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-5000", "negative"),
        ("0", "zero"),
        ("Rp 0", "zero"),
        ("1,500", "ambiguous"),
        ("2m", "ambiguous"),
        ("1,25", "fraction"),
        ("Rp 1.500,50", "fraction"),
        ("100000000000000", "too_large"),
        ("20000 milyar", "too_large"),
        ("sejuta", "format"),
        ("", "format"),
        ("1.50.000", "format"),
        ("12 apel", "format"),
        ("1..000", "format"),
    ],
)
def test_refusals(text: str, reason: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    assert caught.value.reason == reason


@given(st.text(max_size=30))
def test_never_crashes_on_any_text(text: str) -> None:
    try:
        value = parse_amount(text)
    except AmountError:
        return
    assert 0 < value <= MAX_AMOUNT


@pytest.mark.parametrize(
    ("text", "milli", "unit"),
    [
        ("50 sak", 50_000, "sak"),
        ("12,5 m3", 12_500, "m3"),
        ("1.200 batang", 1_200_000, "batang"),
        ("0,25 ha", 250, "ha"),
        ("30", 30_000, None),
    ],
)
def test_quantities(text: str, milli: int, unit: str | None) -> None:
    assert parse_quantity(text) == (milli, unit)


def test_line_total_rounds_half_up_in_whole_rupiah() -> None:
    assert line_total(12_500, 1_500_000) == 18_750_000
    assert line_total(1, 500) == 1  # 0.001 x 500 = 0.5 -> 1
    assert isinstance(line_total(333, 1000), int)


# -- the person's locale, and volumes as Excel RAB exports write them ------------------------

LOCALES = ("id", "en")
# Thousandths up to a milliard units: every volume a budget line can hold.
millis = st.integers(min_value=1, max_value=10**12)


def babel_quantity(milli: int, locale: str) -> str:
    return format_decimal(Decimal(milli) / 1000, locale=locale)


@pytest.mark.parametrize(
    ("text", "locale", "milli"),
    [
        # A whole part of 0 never opens a group of thousands: a decimal in every locale.
        ("0.125 m3", "id", 125),
        ("0.125 m3", "en", 125),
        ("0.750 m3", "id", 750),
        ("0,750 m3", "en", 750),
        ("0.5 m3", "id", 500),
        # Not three digits after the mark: a decimal.
        ("1.5 m3", "id", 1_500),
        ("12,5 m2", "id", 12_500),
        ("12,5 m2", "en", 12_500),
        ("1.25 m2", "id", 1_250),
        # A whole part too long to open a group: a decimal.
        ("1250.125 m2", "id", 1_250_125),
        # Both marks: the last one is the decimal mark.
        ("1.250,5 m2", "en", 1_250_500),
        ("1,250.5 m2", "id", 1_250_500),
        # Several marks of one kind: thousands.
        ("1.250.000 kg", "en", 1_250_000_000),
        ("1,250,000 kg", "id", 1_250_000_000),
        # One mark before three digits: the person's locale decides.
        ("1.250 m2", "id", 1_250_000),
        ("1.250 m2", "en", 1_250),
        ("2,000 kg", "id", 2_000),
        ("2,000 kg", "en", 2_000_000),
        ("1.200 batang", "id", 1_200_000),
    ],
)
def test_excel_rab_volumes(text: str, locale: str, milli: int) -> None:
    assert parse_quantity(text, locale)[0] == milli


@pytest.mark.parametrize("text", ["1.250 m2", "2,000 kg", "1.200 batang", "12,500 m3"])
def test_unknown_locale_refuses_what_only_a_locale_could_decide(text: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_quantity(text, None)
    assert caught.value.reason == "ambiguous"
    assert len(caught.value.readings) == 2


@pytest.mark.parametrize("text", ["0.125.000 m3", "1.2.3 m3", "1,,5 m3", "12. m3", "1.25,0.5 m3"])
def test_malformed_volumes_are_refused(text: str) -> None:
    with pytest.raises(AmountError):
        parse_quantity(text, "id")


@given(millis, st.sampled_from(LOCALES))
def test_quantity_round_trip_in_own_locale(milli: int, locale: str) -> None:
    assert parse_quantity(f"{babel_quantity(milli, locale)} m3", locale) == (milli, "m3")


@given(st.integers(min_value=1, max_value=999), st.sampled_from(LOCALES), st.sampled_from(LOCALES))
def test_volumes_below_one_read_right_in_any_locale(milli: int, written: str, reader: str) -> None:
    # "0.125 m3" from an English Excel export, read by an Indonesian member: 0.125, never 125.
    assert parse_quantity(babel_quantity(milli, written) + " m3", reader)[0] == milli


@given(millis, st.sampled_from(LOCALES))
def test_without_a_locale_a_quantity_is_right_or_refused(milli: int, written: str) -> None:
    try:
        value, _unit = parse_quantity(babel_quantity(milli, written) + " m3", None)
    except AmountError as exc:
        assert exc.reason == "ambiguous"
        return
    assert value == milli


@given(millis, st.sampled_from(LOCALES), st.sampled_from(LOCALES))
def test_quantity_never_off_by_a_thousand_unless_three_decimals(
    milli: int, written: str, reader: str
) -> None:
    # Only "d.ddd" with one mark depends on the locale; every other shape reads the same anywhere.
    text = babel_quantity(milli, written)
    try:
        value, _unit = parse_quantity(text, reader)
    except AmountError:
        return
    if value != milli:
        assert written != reader
        assert text.count(".") + text.count(",") == 1
        assert len(text.split(".")[-1].split(",")[-1]) == 3


@given(amounts, st.sampled_from(LOCALES))
def test_amount_round_trip_in_own_locale(n: int, locale: str) -> None:
    assert parse_amount(money(n, locale), locale) == n
    assert parse_amount(format_decimal(n, locale=locale), locale) == n


@given(amounts, st.sampled_from(LOCALES), st.sampled_from(LOCALES))
def test_amount_in_another_locale_is_right_or_refused(n: int, written: str, reader: str) -> None:
    # Rupiah have no decimals, so "35,000" read by an Indonesian is refused, never 35.
    try:
        value = parse_amount(money(n, written), reader)
    except AmountError as exc:
        assert exc.reason == "ambiguous"
        assert Decimal(n) in exc.readings
        return
    assert value == n


@pytest.mark.parametrize(
    ("text", "locale", "value"),
    [
        ("Rp 35,000", "en", 35_000),
        ("35,000", "en", 35_000),
        ("Rp 1,500,000", "en", 1_500_000),
        ("1.5 million", "en", 1_500_000),
        ("750 thousand", "en", 750_000),
        ("1,500 juta", "en", 1_500_000_000),
        ("Rp 35.000", "id", 35_000),
        ("1,5 juta", "id", 1_500_000),
    ],
)
def test_amounts_in_the_persons_locale(text: str, locale: str, value: int) -> None:
    assert parse_amount(text, locale) == value


@pytest.mark.parametrize(
    ("text", "locale"),
    [("Rp 35,000", "id"), ("1,500 juta", "id"), ("Rp 35.000", "en"), ("1.500 juta", "en")],
)
def test_amounts_in_the_other_convention_are_refused_with_the_reading(
    text: str, locale: str
) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text, locale)
    assert caught.value.reason == "ambiguous"
    assert any(r == r.to_integral_value() for r in caught.value.readings)


# -- counts with the unit that was asked for ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["120 KK", "120 kk", "120KK", "120 keluarga", "120 households", "120 Families", "120 kk."],
)
def test_households_with_their_unit(text: str) -> None:
    assert parse_count(text, HOUSEHOLD_UNITS) == 120


@pytest.mark.parametrize(
    "text", ["45 KK miskin", "45 kk", "45 poor households", "45 RTM", "45 keluarga  miskin"]
)
def test_poor_households_with_their_unit(text: str) -> None:
    assert parse_count(text, POOR_UNITS) == 45


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("120 m2", HOUSEHOLD_UNITS),
        ("120 sak", POOR_UNITS),
        ("120 KK miskin", HOUSEHOLD_UNITS),
        ("12,5 KK", HOUSEHOLD_UNITS),
        ("120 KK", frozenset()),
    ],
)
def test_counts_refuse_other_units_and_fractions(text: str, units: frozenset[str]) -> None:
    with pytest.raises(AmountError):
        parse_count(text, units)


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(LOCALES))
def test_count_round_trip_in_own_locale(n: int, locale: str) -> None:
    assert parse_count(format_decimal(n, locale=locale) + " KK", HOUSEHOLD_UNITS, locale) == n


# -- amounts as RAB tables print them ------------------------------------------------------------

# The endings after an Indonesian amount that say "no cents": comma and dash, en dash, em dash,
# equals sign, or the cents themselves.
ID_ENDINGS = (",-", ",–", ",—", ",=", ",00", ", -")
PREFIXES = ("", "Rp", "Rp ", "Rp. ", "Rp.", "IDR ")


@pytest.mark.parametrize(
    ("text", "locale", "value"),
    [
        ("Rp. 1.250.000,-", "id", 1_250_000),
        ("Rp 1.250.000,–", "id", 1_250_000),
        ("Rp 1.250.000,—", "id", 1_250_000),
        ("Rp. 50.000,=", "id", 50_000),
        ("Rp1.250.000,00", "id", 1_250_000),
        ("Rp. 50.000.-", "id", 50_000),
        ("250 ribu rupiah", "id", 250_000),
        ("65.000 rupiah", "id", 65_000),
        ("1 jt 250 rb", "id", 1_250_000),
        ("1jt250rb", "id", 1_250_000),
        ("1 juta 250 ribu", "id", 1_250_000),
        ("Rp 1 juta 250 ribu,-", "id", 1_250_000),
        ("2 M 500 jt", "id", 2_500_000_000),
        ("2,5 juta", "id", 2_500_000),
        ("Rp 1,5 M", "id", 1_500_000_000),
        ("Rp 1,5 M", "en", 1_500_000_000),
        ("1 million 250 thousand", "en", 1_250_000),
        # "101,000": the English thousands mark, where nothing else can be meant.
        ("101,000", "en", 101_000),
        ("Rp 101,000", "en", 101_000),
        ("101,000.00", "id", 101_000),
        ("Rp 101,000.-", "id", 101_000),
        ("Rp 1,250,000", "id", 1_250_000),
        # An Indonesian ending makes the dot a thousands mark for an English reader too.
        ("Rp 35.000,-", "en", 35_000),
        ("Rp 50.000,=", "en", 50_000),
    ],
)
def test_rab_table_amounts(text: str, locale: str, value: int) -> None:
    assert parse_amount(text, locale) == value


@pytest.mark.parametrize(
    ("text", "locale", "reason", "readings"),
    [
        # One comma before three digits: 101 Rupiah with three decimals, or 101 thousand. The
        # Indonesian reader is asked, with both readings, as for "Rp 35,000" before.
        ("101,000", "id", "ambiguous", (Decimal("101"), Decimal("101000"))),
        ("Rp 101,000", "id", "ambiguous", (Decimal("101"), Decimal("101000"))),
        ("101,000", None, "ambiguous", (Decimal("101"), Decimal("101000"))),
        # ",-" says the comma is the decimal mark, so it cannot settle a comma group.
        ("Rp 101,000,-", "id", "ambiguous", (Decimal("101"), Decimal("101000"))),
        ("Rp 1.250", "en", "ambiguous", (Decimal("1.25"), Decimal("1250"))),
        # "dua juta lima ratus": 2,500,000 in speech, 2,000,500 in digits.
        ("2 juta 500", "id", "format", ()),
        ("1 jt 1500 rb", "id", "format", ()),
        ("250 rb 1 jt", "id", "format", ()),
        ("1,5 jt 250 rb", "id", "format", ()),
        ("1 m 250 rb", "id", "ambiguous", ()),
        ("Rp 1,5.-", "id", "format", ()),
        ("Rp -5.000,-", "id", "negative", ()),
        ("–5.000", "id", "negative", ()),
        ("Rp 1.250.000,50", "id", "fraction", ()),
    ],
)
def test_rab_table_refusals(
    text: str, locale: str | None, reason: str, readings: tuple[Decimal, ...]
) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text, locale)
    assert caught.value.reason == reason
    assert caught.value.readings == readings


@given(amounts, st.sampled_from(PREFIXES), st.sampled_from(ID_ENDINGS), st.sampled_from(LOCALES))
def test_indonesian_endings_read_the_same_for_everyone(
    n: int, prefix: str, ending: str, locale: str
) -> None:
    assert parse_amount(f"{prefix}{dotted(n)}{ending}", locale) == n


@given(amounts, st.sampled_from(PREFIXES), st.sampled_from([".-", ".00", ". -", ".="]))
def test_english_endings_read_the_same_for_everyone(n: int, prefix: str, ending: str) -> None:
    for locale in LOCALES:
        assert parse_amount(f"{prefix}{n:,}{ending}", locale) == n


@given(
    st.integers(min_value=1, max_value=9_999),
    st.integers(min_value=1, max_value=999),
    st.sampled_from([("jt", "rb"), ("juta", "ribu"), ("M", "jt"), ("milyar", "juta")]),
    st.sampled_from(["", " "]),
    st.sampled_from(LOCALES),
)
def test_compound_amounts(high: int, low: int, words: tuple[str, str], gap: str, loc: str) -> None:
    big, small = (_multiplier_of(w) for w in words)
    text = f"{high}{gap}{words[0]} {low}{gap}{words[1]}"
    assert parse_amount(text, loc) == high * big + low * small


def _multiplier_of(word: str) -> int:
    return {"jt": 10**6, "juta": 10**6, "rb": 10**3, "ribu": 10**3, "M": 10**9, "milyar": 10**9}[
        word
    ]


@given(st.integers(min_value=1, max_value=999_999), st.sampled_from(["ribu", "rb", "juta"]))
def test_rupiah_after_the_word(n: int, word: str) -> None:
    assert parse_amount(f"{n} {word} rupiah") == n * _multiplier_of(word.replace("juta", "jt"))


@given(
    amounts,
    st.sampled_from(LOCALES),
    st.sampled_from(LOCALES),
    st.sampled_from(["", ",-", ".-", ",00", ".00", ",–", ",="]),
)
def test_any_ending_is_right_or_refused(n: int, written: str, reader: str, ending: str) -> None:
    # Whatever ending follows the amount as either locale prints it, never a wrong value.
    try:
        value = parse_amount(money(n, written) + ending, reader)
    except AmountError as exc:
        assert exc.reason in ("ambiguous", "format")
        return
    assert value == n
