"""Rupiah amounts as Indonesians type them, and numbers such as volumes and household counts.

Money is always an `int` of whole Rupiah. Parsing goes through `Decimal`, never `float`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MAX_AMOUNT = 10**13
PROPOSAL_CAP = 10 * 10**9

# Multiplier words, matched case-insensitively except the bare "M" (see _multiplier).
_WORDS: dict[str, int] = {
    "rb": 10**3,
    "ribu": 10**3,
    "rebu": 10**3,
    "k": 10**3,
    "thousand": 10**3,
    "jt": 10**6,
    "juta": 10**6,
    "million": 10**6,
    "mio": 10**6,
    "milyar": 10**9,
    "miliar": 10**9,
    "mlyr": 10**9,
    "billion": 10**9,
    "bn": 10**9,
    "triliun": 10**12,
    "trillion": 10**12,
}

_AMOUNT_RE = re.compile(
    r"""^\s*
    (?:rp\.?|idr)?\s*            # currency, optional
    (?P<num>[0-9][0-9.,\s]*?)    # the number with its separators
    \s*(?P<word>[a-z]+)?\.?      # multiplier word, optional
    \s*(?:,-|\.-|-)?\s*$         # the "Rp 5.000,-" ending
    """,
    re.IGNORECASE | re.VERBOSE,
)


class AmountError(ValueError):
    """Why an amount was refused; `reason` is one of the codes handlers translate."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Parts:
    whole: str
    fraction: str


def _split_number(num: str, has_multiplier: bool) -> _Parts:
    """Decide which separator is the decimal mark.

    Indonesian writing uses "." for thousands and "," for decimals; English the reverse. A lone
    separator followed by exactly three digits is a thousands mark unless a multiplier word
    follows a comma ("1,500 juta" stays ambiguous and is refused).
    """
    num = re.sub(r"\s+", "", num)
    if not num or not num[0].isdigit() or not num[-1].isdigit():
        raise AmountError("format")
    dots, commas = num.count("."), num.count(",")
    if dots and commas:
        decimal_mark = "," if num.rfind(",") > num.rfind(".") else "."
        group_mark = "." if decimal_mark == "," else ","
        if num.count(decimal_mark) != 1:
            raise AmountError("format")
        whole, fraction = num.split(decimal_mark)
        return _Parts(_ungroup(whole, group_mark), fraction)
    if not dots and not commas:
        return _Parts(num, "")
    mark = "." if dots else ","
    pieces = num.split(mark)
    if len(pieces) > 2:
        return _Parts(_ungroup(num, mark), "")
    whole, tail = pieces
    if len(tail) == 3:
        if mark == "." and not has_multiplier:
            return _Parts(_ungroup(num, mark), "")
        if mark == "." and has_multiplier:
            # "1.500 juta" reads as 1500 juta: Indonesian grouping.
            return _Parts(_ungroup(num, mark), "")
        raise AmountError("ambiguous")
    return _Parts(whole, tail)


def _ungroup(text: str, mark: str) -> str:
    groups = text.split(mark)
    if not (1 <= len(groups[0]) <= 3) or any(len(g) != 3 for g in groups[1:]):
        raise AmountError("format")
    return "".join(groups)


def _multiplier(word: str | None) -> int:
    if word is None:
        return 1
    if word == "M":
        return 10**9
    if word == "m":
        raise AmountError("ambiguous")
    try:
        return _WORDS[word.lower()]
    except KeyError:
        raise AmountError("format") from None


def parse_amount(text: str) -> int:
    """Parse a Rupiah amount into whole Rupiah.

    Raises AmountError with reason format, ambiguous, fraction, zero, negative or too_large.
    """
    if text is None:
        raise AmountError("format")
    text = text.strip().replace("\u00a0", " ")
    if text.startswith("-") or text.lower().startswith(("rp-", "rp -", "rp. -")):
        raise AmountError("negative")
    match = _AMOUNT_RE.match(text)
    if not match:
        raise AmountError("format")
    word = match.group("word")
    multiplier = _multiplier(word)
    parts = _split_number(match.group("num"), has_multiplier=word is not None)
    try:
        value = Decimal(f"{parts.whole}.{parts.fraction or '0'}") * multiplier
    except InvalidOperation:
        raise AmountError("format") from None
    if value != value.to_integral_value():
        raise AmountError("fraction")
    amount = int(value)
    if amount <= 0:
        raise AmountError("zero")
    if amount > MAX_AMOUNT:
        raise AmountError("too_large")
    return amount


_NUMBER_RE = re.compile(r"^\s*(?P<num>[0-9][0-9.,]*)\s*(?P<unit>\S.*)?$")


def parse_quantity(text: str) -> tuple[int, str | None]:
    """Parse "150", "12,5 m2" or "1.200 sak" into (thousandths, unit).

    Volumes may be fractional (12,5 m3), so they are kept in thousandths as an integer.
    """
    match = _NUMBER_RE.match(text or "")
    if not match:
        raise AmountError("format")
    num = match.group("num")
    unit = (match.group("unit") or "").strip() or None
    if "," in num and "." in num:
        parts = _split_number(num, has_multiplier=False)
    elif "," in num:
        whole, _, frac = num.partition(",")
        if "," in frac:
            raise AmountError("format")
        parts = _Parts(whole, frac)
    elif num.count(".") == 1 and len(num.split(".")[1]) != 3:
        whole, frac = num.split(".")
        parts = _Parts(whole, frac)
    else:
        parts = _Parts(_ungroup(num, ".") if "." in num else num, "")
    try:
        value = Decimal(f"{parts.whole}.{parts.fraction or '0'}")
    except InvalidOperation:
        raise AmountError("format") from None
    milli = value * 1000
    if milli != milli.to_integral_value():
        raise AmountError("fraction")
    if milli <= 0:
        raise AmountError("zero")
    if milli > 10**12:
        raise AmountError("too_large")
    return int(milli), unit


def parse_count(text: str) -> int:
    """A whole count such as households: "120" or "1.200"."""
    milli, unit = parse_quantity(text)
    if unit is not None or milli % 1000:
        raise AmountError("format")
    return milli // 1000


def line_total(volume_milli: int, unit_price: int) -> int:
    """Volume times price in whole Rupiah, half a Rupiah rounded up."""
    exact = Decimal(volume_milli) * Decimal(unit_price) / 1000
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
