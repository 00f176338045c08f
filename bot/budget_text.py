"""Budget lines typed whole, as villagers write RAB lines: "Semen 50 sak @ 65.000 swadaya".

A message may hold one line or several pasted together, one per text line. Each is read into
what it says (item, quantity with its unit, unit price in whole Rupiah, source of funds) and
what it does not; the bot then asks only for the rest. Reading never guesses:
- a number is a quantity only with a unit the bot knows, so "Besi 10mm" stays the item's name;
- a price is an amount after a marker ("@", "x", "Rp", "harga"), or in money's shape ("25.000",
  "95rb") right after a quantity; it is read by `parse_amount`, and what that refuses is
  refused here too, with its reason, never read some other way;
- a total written on the line ("= 3.250.000", or an RAB table's last column) is checked
  against quantity × price, and may settle which of two readings of the price was meant;
- the source is one of the programme's, typed in any case and common spellings; any other
  word there is shown back and asked for.
Nothing here touches the database or Telegram.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.money import (
    AMOUNT_IN_TEXT,
    PROPOSAL_CAP,
    AmountError,
    exceeds_cap,
    line_total,
    parse_amount,
    parse_quantity,
)

MAX_LINES = 30  # lines read from one message; a whole RAB is sent in parts
MAX_LINE_CHARS = 200  # longer is no budget line; bounds the time spent on one


class Source(StrEnum):
    """Who funds a budget line: the programme's three sources and the rest."""

    SWADAYA = "swadaya"
    APBD = "apbd"
    APBN = "apbn"
    OTHER = "other"


class Part(StrEnum):
    """The parts of a budget line, in the order the bot asks for them."""

    ITEM = "item"
    QTY = "qty"
    PRICE = "price"
    SOURCE = "source"


class Skipped(StrEnum):
    """Why a pasted text line was not taken as a budget line."""

    TOTAL = "total"  # "Jumlah Rp 5.000.000": the bot adds the lines up itself
    HEADING = "heading"  # "A. Pekerjaan persiapan", pasted among lines: a name and nothing else
    NOTHING = "nothing"  # no item, quantity, price or source in it: "Rp", "..."


class Refusal(StrEnum):
    """Why a whole message was not read."""

    EMPTY = "empty"
    TOO_MANY = "too_many"


# How people name each source, lower case; spaces and hyphens are interchangeable.
SOURCE_NAMES: dict[Source, tuple[str, ...]] = {
    Source.SWADAYA: (
        "swadaya",
        "swadaya masyarakat",
        "swadaya warga",
        "swadaja",
        "swadya",
        "suwadaya",
        "self-help",
        "selfhelp",
        "gotong royong",
    ),
    Source.APBD: (
        "apbd",
        "apbd kabupaten",
        "apbd kab",
        "apbd kab.",
        "apbd kota",
        "apbd ii",
        "a.p.b.d",
        "district budget",
        "anggaran kabupaten",
    ),
    Source.APBN: ("apbn", "a.p.b.n", "national budget", "anggaran nasional"),
    Source.OTHER: (
        "lainnya",
        "lain-lain",
        "lain2",
        "sumber lain",
        "dana lain",
        "other",
        "others",
        "other source",
    ),
}

# Units of RAB quantities, lower case. Not "mm", "cm" or "inch": those size the item.
UNITS: tuple[str, ...] = (
    # weight and volume
    "sak", "zak", "kg", "kilo", "kilogram", "gram", "gr", "ton", "tonne", "tons",
    "m3", "m³", "kubik", "meter kubik", "liter", "litre", "ltr", "lt", "galon", "drum",
    # length and area
    "m", "m1", "m'", "meter", "metre", "mtr", "meters", "metres", "m2", "m²", "meter persegi",
    "ha", "are", "bidang", "petak",
    # pieces
    "buah", "bh", "biji", "bj", "batang", "btg", "lembar", "lbr", "lonjor", "ljr", "unit",
    "units", "set", "sets", "paket", "pkt", "ls", "lumpsum", "lump sum", "titik", "ttk",
    "roll", "rol", "rolls", "gulung", "glg", "dus", "box", "kotak", "karung", "krg", "pasang",
    "psg", "kaleng", "klg", "pail", "tabung", "pohon", "bibit", "ekor", "pcs", "pc", "ikat",
    "keping", "kpg", "lusin", "rim", "pak", "bungkus", "bks", "botol", "btl",
    "bag", "bags", "piece", "pieces", "sheet", "sheets", "package", "packages", "lot", "lots",
    # transport
    "truk", "truck", "trucks", "rit", "colt", "trip", "trips",
    # labour and time
    "hok", "oh", "orang hari", "hari orang", "hari", "hr", "jam", "minggu", "bulan", "bln",
    "orang", "org", "day", "days", "man-day", "man-days", "person-day", "person-days", "hour",
    "hours", "week", "weeks", "month", "months",
)  # fmt: skip

_FLAGS = re.IGNORECASE | re.VERBOSE


def _alternation(phrases: list[str] | tuple[str, ...]) -> str:
    """Longest first, so "swadaya masyarakat" wins over "swadaya"; a space or hyphen inside
    matches either."""
    ordered = sorted(phrases, key=len, reverse=True)
    return "|".join(re.sub(r"\\[ -]|\\ ", r"[\\s-]+", re.escape(p)) for p in ordered)


_NUM = r"[0-9](?:[0-9.,]*[0-9])?"
# One or two words after a number ("sak", "m3", "orang hari"); `_unit` says if they are a unit.
# Matched as words and looked up, since a regex alternation of every unit is slow to search.
_WORD = r"[^\W\d_][\w'²³]*\.?"
_UNIT = rf"{_WORD}(?:[\s-]+{_WORD})?"
_SOURCE = _alternation([name for names in SOURCE_NAMES.values() for name in names])
_SOURCE_KEYS = {
    re.sub(r"[\s-]+", " ", name): source for source, names in SOURCE_NAMES.items() for name in names
}
# Before a price: "@", a standalone "x" or "*", "×", "à", "harga"; "Rp" needs none.
_MARKER = r"@|×|à|(?<!\S)[x*](?=\s|[0-9]|rp)|(?<![a-z])(?:harga|hrg)(?![a-z])\.?:?"
_PRICE_RE = re.compile(
    rf"(?:(?P<marker>{_MARKER})\s*)?(?<![0-9.,])(?P<amount>{AMOUNT_IN_TEXT})", _FLAGS
)
# What may follow the price: "/sak" or "per sak", a total, then the source.
_PER_RE = re.compile(rf"^\s*(?:/|per\s)\s*(?P<per>{_WORD})", _FLAGS)
_AFTER_RE = re.compile(
    rf"""^(?:\s*(?P<total_mark>=|jumlah|jml|total)?\s*:?\s*(?P<total>{AMOUNT_IN_TEXT}))?
    (?P<tail>.*)$""",
    _FLAGS | re.DOTALL,
)
_QTY_AT_END = re.compile(
    rf"(?:^|(?<=[\s,;:(]))(?P<num>{_NUM})\s*(?P<unit>{_UNIT})[\s,;:)]*$", _FLAGS
)
_QTY_AT_START = re.compile(rf"^(?P<num>{_NUM})\s*(?P<unit>{_WORD}(?:\s+{_WORD})?)", _FLAGS)
# Words before a source: "sumber dana: APBD", "dana swadaya", "from APBN".
_SOURCE_LEAD = r"(?:sumber\s+dana|sumber|dana|dari|from|funded\s+by|oleh)\s*:?\s*"
_SOURCE_AT_END = re.compile(
    rf"(?:^|[\s,;:/()\[\]\-–—]+)(?:{_SOURCE_LEAD})?(?P<source>{_SOURCE})[\s)\].]*$", _FLAGS
)
_CURRENCY = re.compile(r"(?:rp|idr)(?![a-z])", re.I)
# Marks that can only stand before a price, whatever follows them.
_PRICE_MARK_RE = re.compile(r"@|(?<![a-z])(?:harga|hrg|rp|idr)(?![a-z])\.?:?", re.I)
_TAIL_PREFIX = re.compile(rf"^{_SOURCE_LEAD}", re.I)
_TOTAL_ROW = re.compile(r"^(?:sub\s*total|grand\s*total|total|jumlah|jml)\b(?!\s+station)", re.I)
_BULLET = re.compile(r"^(?:[-•*▪·]+\s+|[0-9]{1,3}[.)]\s+|[a-z][.)]\s+(?=\S))", re.I)
_SEPARATORS = " \t,;:|/=@-–—"


@dataclass(frozen=True)
class Problem:
    """A part that was written but refused; `code` and `params` say why, as a domain error."""

    part: Part
    shown: str  # the part as typed, to show it back
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LineReading:
    """What one typed line says; a part is None when it was not written or was refused."""

    typed: str
    item: str | None = None
    volume_milli: int | None = None
    unit: str | None = None
    unit_price: int | None = None
    source: Source | None = None
    problems: tuple[Problem, ...] = ()
    skipped: Skipped | None = None

    @property
    def missing(self) -> tuple[Part, ...]:
        values = (self.item, self.volume_milli, self.unit_price, self.source)
        return tuple(part for part, value in zip(Part, values, strict=True) if value is None)

    def refuse(self, problem: Problem) -> LineReading:
        """The same line with one part dropped, and why."""
        dropped = {
            Part.ITEM: {"item": None},
            Part.QTY: {"volume_milli": None, "unit": None},
            Part.PRICE: {"unit_price": None},
            Part.SOURCE: {"source": None},
        }[problem.part]
        return replace(self, problems=(*self.problems, problem), **dropped)


@dataclass(frozen=True)
class Reading:
    """A whole message: its lines in order, or why none was read."""

    lines: tuple[LineReading, ...] = ()
    refusal: Refusal | None = None
    count: int = 0  # non-empty text lines in the message

    @property
    def taken(self) -> tuple[LineReading, ...]:
        return tuple(line for line in self.lines if line.skipped is None)


def read_lines(text: str, locale: str | None) -> Reading:
    """Every non-empty text line of a message as a budget line; too many lines are refused."""
    raw = [line for line in (text or "").splitlines() if line.strip()]
    if not raw:
        return Reading(refusal=Refusal.EMPTY)
    if len(raw) > MAX_LINES:
        return Reading(refusal=Refusal.TOO_MANY, count=len(raw))
    among = len(raw) > 1
    lines = tuple(read_line(line, locale, among_others=among) for line in raw)
    return Reading(lines=lines, count=len(raw))


def source_of(text: str) -> Source | None:
    """A source as people name it: "APBD", "Swadaya masyarakat", "(apbn)", "dana swadaya"."""
    said = text.strip(_SEPARATORS + "().[] ").lower()
    for key in (said, _TAIL_PREFIX.sub("", said)):
        source = _SOURCE_KEYS.get(re.sub(r"[\s-]+", " ", key).strip(" ."))
        if source is not None:
            return source
    return None


def read_line(typed: str, locale: str | None, *, among_others: bool = False) -> LineReading:
    """One budget line. `among_others`: pasted with more lines, where a line with only a name
    is a heading of the table ("A. Pekerjaan persiapan") rather than an item."""
    line = _clean(typed)
    if not line:
        return LineReading(typed=line, skipped=Skipped.HEADING)
    if len(line) > MAX_LINE_CHARS:
        # No budget line is this long: taken as the item's name, which refuses it as too long.
        return LineReading(typed=line, item=line)
    pieces = _cut(line)
    if _TOTAL_ROW.match(pieces.item) and pieces.qty is None:
        return LineReading(typed=line, skipped=Skipped.TOTAL)
    reading = _read(line, pieces, locale)
    if not reading.problems and len(reading.missing) == len(Part):
        return LineReading(typed=line, skipped=Skipped.NOTHING)
    if among_others and not reading.problems and reading.missing == tuple(Part)[1:]:
        return LineReading(typed=line, skipped=Skipped.HEADING)
    return reading


def _clean(typed: str) -> str:
    """Cells pasted from a spreadsheet become words; a row number or bullet goes."""
    cells = [cell.strip() for cell in typed.replace("\u00a0", " ").split("\t")]
    if len(cells) > 1 and re.fullmatch(r"[0-9]{1,3}\.?", cells[0]):
        cells = cells[1:]
    line = " ".join(" ".join(cell for cell in cells if cell).split())
    return _BULLET.sub("", line, count=1)


@dataclass(frozen=True)
class _Pieces:
    """A line cut into the text of its parts, before any number in it is read."""

    item: str
    qty: tuple[str, str] | None = None  # number and unit
    price: str | None = None
    per: str | None = None  # "/sak" after the price
    total: str | None = None
    source: str = ""


def _cut(line: str) -> _Pieces:
    """Find the price first; what follows it is the source, what precedes it the item and
    its quantity. Without a price, only a known source is taken from the end."""
    priced = _priced(line)
    if priced is None:
        found = _SOURCE_AT_END.search(line)
        before, source = (line[: found.start()], found.group(0)) if found else (line, "")
        pieces = _Pieces(item="", source=source.strip(_SEPARATORS + " "))
    else:
        before, pieces = priced
    qty = _qty_at_end(before)
    if qty is not None:
        before = before[: qty[0]]
    else:
        qty = _qty_at_start(before.strip())
        if qty is not None:
            before = before.strip()[qty[0] :]
    return replace(
        pieces, item=before.strip(_SEPARATORS + " "), qty=qty[1:] if qty is not None else None
    )


def _qty_at_end(text: str) -> tuple[int, str, str] | None:
    """A number and a known unit closing the text: where they start, the number, the unit."""
    found = _QTY_AT_END.search(text)
    if found is None or _unit_key(found.group("unit")) not in _UNIT_KEYS:
        return None
    return found.start(), found.group("num"), found.group("unit")


def _qty_at_start(text: str) -> tuple[int, str, str] | None:
    """A number and a known unit opening the text ("50 sak semen"): where the rest starts."""
    found = _QTY_AT_START.match(text)
    if found is None:
        return None
    words = found.group("unit").split()
    for count in (2, 1):
        unit = " ".join(words[:count])
        rest = text[found.start("unit") + len(unit) :] if len(words) >= count else ""
        if len(words) >= count and _unit_key(unit) in _UNIT_KEYS and rest[:1].isspace():
            return found.start("unit") + len(unit), found.group("num"), unit
    return None


def _priced(line: str) -> tuple[str, _Pieces] | None:
    """The first price on the line that is followed only by what may follow a price, and
    the text before it.

    A price is marked ("@ 65.000", "x Rp 120.000", "Rp 65.000") or, unmarked, money-shaped
    right after a quantity ("5 kg 25.000"). After it may come "/sak", a total, the source.
    """
    for match in _PRICE_RE.finditer(line):
        before, amount = line[: match.start()], match.group("amount")
        if not (match.group("marker") or _CURRENCY.match(amount)):
            after_qty = _qty_at_end(before) is not None
            if not (after_qty and _money_shaped(amount)):
                continue
        rest = line[match.end() :]
        per = _PER_RE.match(rest)
        if per is not None and _unit_key(per.group("per")) in _UNIT_KEYS:
            rest = rest[per.end() :]
        else:
            per = None
        after = _AFTER_RE.match(rest)
        assert after is not None  # its last group takes anything
        total = after.group("total")
        if total and not (
            after.group("total_mark") or _CURRENCY.match(total) or _money_shaped(total)
        ):
            continue
        tail = after.group("tail").strip(_SEPARATORS + " ")
        if tail[:1].isdigit():
            continue
        return before, _Pieces(
            item="",
            price=amount,
            per=per.group("per") if per else None,
            total=total,
            source=tail,
        )
    return _marked_nonsense(line)


def _marked_nonsense(line: str) -> tuple[str, _Pieces] | None:
    """After "@", "harga" or "Rp" stands a price, even one that is no amount ("@ sejuta"):
    it is refused as a price, rather than read into the item's name."""
    marks = list(_PRICE_MARK_RE.finditer(line))
    if not marks:
        return None
    marked = marks[-1]
    rest = line[marked.end() :]
    found = _SOURCE_AT_END.search(rest)
    price, source = (rest[: found.start()], found.group(0)) if found else (rest, "")
    price = price.strip(_SEPARATORS + " ")
    return line[: marked.start()], _Pieces(
        item="", price=price or None, source=source.strip(_SEPARATORS + " ")
    )


def _money_shaped(amount: str) -> bool:
    """Written as only money is: with a word ("95rb"), groups of thousands ("25.000"), a
    "Rp 5.000,-" ending, or four digits or more."""
    number = re.search(r"[0-9][0-9.,]*", amount)
    digits = number.group(0) if number else ""
    after = amount[number.end() :] if number else ""
    return (
        bool(after.strip())
        or bool(re.search(r"[.,][0-9]{3}(?![0-9])", digits))
        or len(re.sub(r"[.,]", "", digits)) >= 4
    )


def _read(line: str, pieces: _Pieces, locale: str | None) -> LineReading:
    """Read the numbers of a cut line; each part read or refused on its own."""
    reading = LineReading(typed=line)
    if re.search(r"[^\W\d_]", pieces.item):
        reading = replace(reading, item=pieces.item)
    if pieces.qty is not None:
        reading = _read_qty(reading, pieces.qty, locale)
    if pieces.price is not None:
        reading = _read_price(reading, pieces, locale)
    if pieces.source:
        source = source_of(pieces.source)
        if source is None:
            reading = reading.refuse(Problem(Part.SOURCE, pieces.source, "source_unknown"))
        else:
            reading = replace(reading, source=source)
    return reading


def _read_qty(reading: LineReading, qty: tuple[str, str], locale: str | None) -> LineReading:
    number, unit = qty
    shown = f"{number} {unit}"
    try:
        milli, _unit = parse_quantity(number, locale)
    except AmountError as exc:
        return reading.refuse(Problem(Part.QTY, shown, f"qty_{exc.reason}"))
    return replace(reading, volume_milli=milli, unit=unit.rstrip("."))


def _read_price(reading: LineReading, pieces: _Pieces, locale: str | None) -> LineReading:
    """The price, checked against the line's own total, its "/unit" and the cap."""
    shown = pieces.price or ""
    total = _amount_or_none(pieces.total, locale)
    try:
        price = parse_amount(shown, locale)
    except AmountError as exc:
        price = _settled_by_total(exc, reading, pieces, total)
        if price is None:
            params = {"readings": exc.readings} if exc.readings else {}
            return reading.refuse(Problem(Part.PRICE, shown, f"amount_{exc.reason}", params))
    milli = reading.volume_milli
    if pieces.per and reading.unit and _unit_key(pieces.per) != _unit_key(reading.unit):
        params = {"per": pieces.per.rstrip("."), "unit": reading.unit}
        return reading.refuse(Problem(Part.PRICE, shown, "per_unit", params))
    if milli is not None and total is not None and line_total(milli, price) != total:
        params = {
            "qty": milli,
            "unit": reading.unit,
            "price": price,
            "computed": line_total(milli, price),
            "written": total,
        }
        return reading.refuse(Problem(Part.PRICE, shown, "total_mismatch", params))
    if milli is not None and exceeds_cap(milli, price):
        return reading.refuse(Problem(Part.PRICE, shown, "line_too_large", {"cap": PROPOSAL_CAP}))
    return replace(reading, unit_price=price)


def _amount_or_none(text: str | None, locale: str | None) -> int | None:
    """A total written on the line, when it reads plainly; it only checks, so an unreadable
    one is left aside rather than refused."""
    if not text:
        return None
    try:
        return parse_amount(text, locale)
    except AmountError:
        return None


def _settled_by_total(
    exc: AmountError, reading: LineReading, pieces: _Pieces, total: int | None
) -> int | None:
    """The one reading of an ambiguous price that makes the written total: "50 sak x 65,000 =
    3,250,000" can only be Rp 65.000. Only when the quantity reads the same in every locale,
    since "1.250 kg" would let a wrong quantity and a wrong price agree."""
    if exc.reason != "ambiguous" or total is None or reading.volume_milli is None:
        return None
    assert pieces.qty is not None
    try:
        parse_quantity(pieces.qty[0], None)
    except AmountError:
        return None
    fits = {
        int(r)
        for r in exc.readings
        if r == r.to_integral_value()
        and r > 0
        and line_total(reading.volume_milli, int(r)) == total
    }
    return fits.pop() if len(fits) == 1 else None


def _unit_key(unit: str) -> str:
    """A unit as compared: "M3", "m³" and "m3." are one; so are "man-day" and "man day"."""
    plain = unit.lower().rstrip(".").replace("³", "3").replace("²", "2").replace("-", " ")
    return " ".join(plain.split())


_UNIT_KEYS = frozenset(_unit_key(unit) for unit in UNITS)
