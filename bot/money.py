"""Rupiah amounts as Indonesians type them, and numbers such as volumes and household counts.

Money is always an `int` of whole Rupiah. Parsing goes through `Decimal`, never `float`.
"""

from __future__ import annotations

import re
from decimal import Decimal

from storage.amounts import line_total  # one rule: storage totals proposals with it too

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

# "Rp 5.000,-", "Rp 5.000,–", "Rp 50.000,=", "Rp 5.000.-": no cents, as RAB tables print it.
_ENDING = r"[,.]\s*[-\u2013\u2014=]{1,2}|[-\u2013\u2014]{1,2}"

_AMOUNT_RE = re.compile(
    rf"""^\s*
    (?:rp\.?|idr)?\s*                 # currency, optional
    (?P<body>[0-9].*?)                # the number(s) with their words
    (?:\s*(?:rupiah|rp\.?|idr))?       # "250 ribu rupiah"
    \s*(?P<ending>{_ENDING})?         # the "Rp 5.000,-" ending
    \s*$
    """,
    re.IGNORECASE | re.VERBOSE,
)
# One number with an optional word: "1.500.000", "1,5 juta", "65rb".
_SINGLE_RE = re.compile(r"(?P<num>[0-9][0-9.,\s]*?)\s*(?P<word>[a-z]+)?\.?", re.IGNORECASE)
# Several whole numbers, each with its word: "1 jt 250 rb", "1 juta 250 ribu", "2 M 500 jt".
_PART_RE = re.compile(r"\s*(?P<num>[0-9]+)\s*(?P<word>[a-z]+)\.?", re.IGNORECASE)
_COMPOUND_RE = re.compile(rf"(?:{_PART_RE.pattern}){{2,}}\s*", re.IGNORECASE)

_WORD_ALTS = "|".join(sorted(map(re.escape, _WORDS), key=len, reverse=True))
_WORD_IN_TEXT = rf"(?:(?:{_WORD_ALTS})|(?-i:M))(?![a-z])\.?"
# An amount inside a longer text such as a budget line, for `parse_amount` to read: currency,
# one number, its words, "rupiah", the ending. No lowercase "m" (meters, in a budget line), no
# spaces inside the number, so "50 sak" or "3 m3" never look like money.
AMOUNT_IN_TEXT = rf"""(?:(?:rp|idr)\.?\s*)?
    [0-9](?:[0-9.,]*[0-9])?
    (?:\s*{_WORD_IN_TEXT}(?:\s*[0-9]+\s*{_WORD_IN_TEXT})*)?
    (?:\s*rupiah(?![a-z]))?
    (?:\s*(?:{_ENDING}))?
    (?![a-z0-9])"""


class AmountError(ValueError):
    """Why an amount was refused; `reason` is one of the codes handlers translate.

    `readings` holds the values an ambiguous text could mean, so the reply can show both.
    """

    def __init__(self, reason: str, readings: tuple[Decimal, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.readings = readings


# (thousands mark, decimal mark) of each locale the bot speaks.
_MARKS: dict[str, tuple[str, str]] = {"id": (".", ","), "en": (",", ".")}


def marks_of(locale: str | None) -> tuple[str, str] | None:
    """The locale's (thousands, decimal) marks; None when the locale is unknown."""
    if not locale:
        return None
    return _MARKS.get(re.split(r"[-_]", locale)[0].lower())


def read_number(
    num: str, locale: str | None, *, three_decimals: bool, decimal_mark: str | None = None
) -> Decimal:
    """Read digits with "." and "," as the person meant them, or refuse.

    A wrong guess costs a factor of 1,000 (0.125 m3 read as 125 m3), so only certain rules
    decide, in this order:
    - both marks: the last one is the decimal mark ("1.500,50", "1,500.50");
    - one mark, and the text around the number shows the other one as its decimal mark
      (`decimal_mark`, from an ending such as "Rp 35.000,-"): thousands;
    - one mark several times: thousands ("1.500.000");
    - one mark once, not followed by exactly three digits, or after a whole part that cannot
      open a group of thousands ("0.125", "1234.567"): a decimal mark;
    - otherwise ("1.250") the person's locale: its thousands mark groups; its decimal mark is
      a decimal mark when three decimals are plausible (volumes, `three_decimals`), but not in
      Rupiah amounts, which have no decimals to speak of.
    Whatever is left is refused as "ambiguous", with both readings.
    """
    num = re.sub(r"\s+", "", num)
    if not re.fullmatch(r"[0-9][0-9.,]*[0-9]|[0-9]", num):
        raise AmountError("format")
    dots, commas = num.count("."), num.count(",")
    if not dots and not commas:
        return Decimal(num)
    if dots and commas:
        last = "," if num.rfind(",") > num.rfind(".") else "."
        group_mark = "." if last == "," else ","
        if num.count(last) != 1:
            raise AmountError("format")
        whole, fraction = num.split(last)
        return Decimal(f"{_ungroup(whole, group_mark)}.{fraction}")
    mark = "." if dots else ","
    if decimal_mark is not None and decimal_mark != mark:
        return Decimal(_ungroup(num, mark))
    pieces = num.split(mark)
    if len(pieces) > 2:
        return Decimal(_ungroup(num, mark))
    whole, tail = pieces
    as_decimal = Decimal(f"{whole}.{tail}")
    if len(tail) != 3 or not _opens_group(whole):
        return as_decimal
    as_thousands = Decimal(whole + tail)
    known = marks_of(locale)
    if known is not None:
        if mark == known[0]:
            return as_thousands
        if three_decimals:
            return as_decimal
    raise AmountError("ambiguous", readings=(as_decimal, as_thousands))


def _opens_group(whole: str) -> bool:
    """Whether digits can stand before a thousands mark: 1 to 3 digits, no leading zero."""
    return 1 <= len(whole) <= 3 and not whole.startswith("0")


def _ungroup(text: str, mark: str) -> str:
    groups = text.split(mark)
    if not _opens_group(groups[0]) or any(len(g) != 3 for g in groups[1:]):
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


def parse_amount(text: str, locale: str | None = "id") -> int:
    """Parse a Rupiah amount into whole Rupiah, reading "." and "," as `locale` writes them.

    Takes what RAB tables and people write: "Rp. 1.250.000,-", "Rp1.250.000,00", "2,5 juta",
    "Rp 1,5 M", "250 ribu rupiah", "1 jt 250 rb". Raises AmountError with reason format,
    ambiguous, fraction, zero, negative or too_large.
    """
    if text is None:
        raise AmountError("format")
    text = text.strip().replace("\u00a0", " ")
    if text.startswith(("-", "\u2013", "\u2212")) or re.match(r"(?:rp\.?|idr)\s*-", text, re.I):
        raise AmountError("negative")
    match = _AMOUNT_RE.match(text)
    if not match:
        raise AmountError("format")
    body, ending = match.group("body"), match.group("ending")
    single = _SINGLE_RE.fullmatch(body)
    if single is None:
        value = _compound(body)
    else:
        value = _single(single.group("num"), single.group("word"), ending, locale)
    if value != value.to_integral_value():
        raise AmountError("fraction")
    amount = int(value)
    if amount <= 0:
        raise AmountError("zero")
    if amount > MAX_AMOUNT:
        raise AmountError("too_large")
    return amount


def _single(num: str, word: str | None, ending: str | None, locale: str | None) -> Decimal:
    """One number and its word. A ",-" or ".-" ending after a bare number is its decimal mark:
    "Rp 35.000,-" is Indonesian and "Rp 35,000.-" English, whoever reads them."""
    multiplier = _multiplier(word)
    mark = ending.strip()[0] if ending and word is None and ending.strip()[0] in ",." else None
    try:
        value = read_number(num, locale, three_decimals=False, decimal_mark=mark)
    except AmountError as exc:
        raise AmountError(exc.reason, tuple(r * multiplier for r in exc.readings)) from None
    return value * multiplier


def _compound(body: str) -> Decimal:
    """Whole numbers with falling words ("1 jt 250 rb"), each part below the one before.

    "2 juta 500" (2,500,000 in speech, 2,000,500 in digits) has no word on its last part and is
    refused, as is "1 jt 1500 rb", where the parts overlap.
    """
    if not _COMPOUND_RE.fullmatch(body):
        raise AmountError("format")
    total, previous = Decimal(0), None
    for part in _PART_RE.finditer(body):
        multiplier = _multiplier(part.group("word"))
        value = int(part.group("num")) * multiplier
        if previous is not None and (multiplier >= previous or value >= previous):
            raise AmountError("format")
        total += value
        previous = multiplier
    return total


def exceeds_cap(volume_milli: int, unit_price: int) -> bool:
    """Whether one budget line alone costs more than the programme's cap on a proposal."""
    return line_total(volume_milli, unit_price) > PROPOSAL_CAP


_NUMBER_RE = re.compile(r"^\s*(?P<num>[0-9][0-9.,]*)\s*(?P<unit>\S.*)?$")


def parse_quantity(text: str, locale: str | None = "id") -> tuple[int, str | None]:
    """Parse "150", "12,5 m2", "0.125 m3" or "1.200 sak" into (thousandths, unit).

    Volumes may be fractional (12,5 m3), so they are kept in thousandths as an integer.
    """
    match = _NUMBER_RE.match(text or "")
    if not match:
        raise AmountError("format")
    unit = (match.group("unit") or "").strip() or None
    value = read_number(match.group("num"), locale, three_decimals=True)
    milli = value * 1000
    if milli != milli.to_integral_value():
        raise AmountError("fraction")
    if milli <= 0:
        raise AmountError("zero")
    if milli > 10**12:
        raise AmountError("too_large")
    return int(milli), unit


def parse_count(text: str, units: frozenset[str] = frozenset(), locale: str | None = "id") -> int:
    """A whole count such as households: "120", "1.200" or "120 KK" when "kk" is in `units`.

    The unit may be written in any case and spacing; a unit that was not asked for is refused,
    so "120 m2" at the households step is not taken for 120 households.
    """
    milli, unit = parse_quantity(text, locale)
    if unit is not None and _unit_key(unit) not in units:
        raise AmountError("format")
    if milli % 1000:
        raise AmountError("fraction")
    return milli // 1000


def _unit_key(unit: str) -> str:
    return " ".join(unit.lower().rstrip(".").split())
