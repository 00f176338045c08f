"""Amount parsing, property-tested: whatever way an amount is written, the same Rupiah come out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import money
from bot.money import MAX_AMOUNT, AmountError, line_total, parse_amount, parse_quantity

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
