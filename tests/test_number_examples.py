"""Every number the bot shows as an example is read back, in the reader's own locale, as meant."""

from __future__ import annotations

from decimal import Decimal

import pytest
from aiogram.utils.i18n import I18n

from bot.errors import Invalid
from bot.i18n import build_i18n
from bot.money import AmountError, parse_amount, parse_quantity
from handlers import render

LOCALES = ("id", "en")


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return build_i18n("id")


@pytest.mark.parametrize("locale", LOCALES)
def test_amount_examples_read_back_in_their_locale(i18n: I18n, locale: str) -> None:
    with i18n.context(), i18n.use_locale(locale):
        examples = render.amount_examples()
    assert {name: parse_amount(text, locale) for name, text in examples.items()} == {
        "plain": 65_000,
        "rupiah": 1_500_000,
        "millions": 1_500_000,
        "thousands": 750_000,
        "billions": 2 * 10**9,
    }


@pytest.mark.parametrize("locale", LOCALES)
def test_quantity_examples_read_back_in_their_locale(i18n: I18n, locale: str) -> None:
    with i18n.context(), i18n.use_locale(locale):
        examples = render.quantity_examples()
    assert parse_quantity(examples["volume"], locale) == (12_500, "m3")
    assert parse_quantity(examples["bags"], locale) == (50_000, "sak")


@pytest.mark.parametrize(
    ("text", "reader", "digits"),
    [
        ("Rp 35,000", "id", "35000"),
        ("Rp 35.000", "en", "35000"),
        ("1,500 juta", "id", "1500000000"),
    ],
)
def test_an_ambiguous_amount_says_what_to_type(
    i18n: I18n, text: str, reader: str, digits: str
) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text, reader)
    error = Invalid(f"amount_{caught.value.reason}", readings=caught.value.readings)
    with i18n.context(), i18n.use_locale(reader):
        message = render.error_text(error)
    assert f"<i>{digits}</i>" in message
    assert parse_amount(digits, reader) == int(Decimal(digits))
