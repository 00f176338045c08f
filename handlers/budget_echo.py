"""What the bot says about budget lines typed whole: what it read, line by line, and what it
still needs. The texts of the budget step's typing live here, beside `bot.budget_text`."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot import i18n as fmt
from bot.budget_text import MAX_LINES, LineReading, Part, Problem, Refusal, Skipped
from bot.errors import Invalid
from bot.proposals import LINE_STEPS, Step, TypedLines
from bot.text import q
from handlers.render import error_text, line_text, locale, money, source_label
from storage.views import ProposalView

# Problems whose words the proposal's error texts already have.
_SHARED_ERRORS = ("amount_", "qty_", "line_too_large", "too_long", "too_short")


def line_example() -> str:
    """A whole budget line in the reader's own number format, as the hint shows it."""
    return f"Semen 50 sak @ {fmt.number(65_000, locale())} swadaya"


def typing_hint() -> str:
    """Under the budget step's buttons: a line can be typed whole instead."""
    return _(
        "You can also type a whole line, for example <i>{example}</i>. "
        "Several lines at once are fine, one per line."
    ).format(example=line_example())


def part_label(part: Part) -> str:
    return {
        Part.ITEM: _("Item"),
        Part.QTY: _("Quantity"),
        Part.PRICE: _("Unit price"),
        Part.SOURCE: _("Source of funds"),
    }[part]


def line_heading(view: ProposalView) -> str | None:
    """Which line the budget line's questions are about, once several may be waiting."""
    if Step(view.step) not in LINE_STEPS:
        return None
    for index, line in enumerate(view.lines, start=1):
        if line.id == view.editing_line_id:
            if line.item:
                return _("<b>Line {n}: {item}</b>").format(n=index, item=q(line.item))
            return _("<b>Line {n}</b>").format(n=index)
    return None


def echo_blocks(typed: TypedLines) -> list[str]:
    """What was read from the message, line by line, in the budget's own numbering."""
    reading = typed.reading
    if reading.refusal == Refusal.TOO_MANY:
        return [
            _(
                "That message has {n} lines; at most {max} are read at once. "
                "Please send them in parts."
            ).format(n=reading.count, max=MAX_LINES)
        ]
    numbers = {line.id: n for n, line in enumerate(typed.proposal.lines, start=1)}
    shown = {line.id: line for line in typed.proposal.lines}
    blocks = [_("Read from your message:")]
    for line, line_id in zip(typed.lines, typed.line_ids, strict=True):
        if line_id is None:
            blocks.append("➖ " + skipped_text(line))
        elif not line.missing:
            blocks.append("✅ " + line_text(numbers[line_id], shown[line_id]))
        else:
            blocks.append(unfinished_text(numbers[line_id], line))
    if not any(typed.line_ids):
        blocks.append(
            _(
                "No budget line was taken. Type one like <i>{example}</i>, or use the buttons."
            ).format(example=line_example())
        )
    return blocks


def skipped_text(line: LineReading) -> str:
    texts = {
        Skipped.TOTAL: _("“{text}”: not taken, the bot adds up the total itself."),
        Skipped.HEADING: _(
            "“{text}”: not taken as a line, it has only a name. Send it alone to start a line "
            "with it."
        ),
        Skipped.NOTHING: _("“{text}”: not understood as a budget line."),
    }
    assert line.skipped is not None
    return texts[line.skipped].format(text=q(line.typed))


def unfinished_text(n: int, line: LineReading) -> str:
    """A line that lacks parts: what it has, why a written part was refused, what is needed."""
    loc = locale()
    qty = (
        f"{fmt.quantity(line.volume_milli, loc)} {q(line.unit or '')}"
        if line.volume_milli is not None
        else "?"
    )
    head = "📝 " + _("{n}. {item}: {qty} × {price} from {source}").format(
        n=n,
        item=q(line.item or "?"),
        qty=qty,
        price=money(line.unit_price) if line.unit_price is not None else "?",
        source=source_label(line.source) if line.source else "?",
    )
    rows = [head, *("⚠️ " + problem_text(problem) for problem in line.problems)]
    rows.append(
        _("Still needed: {parts}.").format(parts=", ".join(part_label(p) for p in line.missing))
    )
    return "\n".join(rows)


def problem_text(problem: Problem) -> str:
    """Why a written part was not taken, with what to do instead."""
    p = dict(problem.params)
    if problem.code.startswith(_SHARED_ERRORS):
        why = error_text(Invalid(problem.code, **p))
    elif problem.code == "source_unknown":
        why = _("This is not a source of funds the bot knows. Choose one with the buttons.")
    elif problem.code == "per_unit":
        why = _(
            "The price is per {per}, but the quantity is in {unit}. Please type the price per "
            "{unit}."
        ).format(per=q(p["per"]), unit=q(p["unit"]))
    elif problem.code == "total_mismatch":
        why = _(
            "{qty} {unit} × {price} makes {computed}, not {written} as written. Please type the "
            "unit price again."
        ).format(
            qty=fmt.quantity(p["qty"], locale()),
            unit=q(p["unit"] or ""),
            price=money(p["price"]),
            computed=money(p["computed"]),
            written=money(p["written"]),
        )
    else:
        why = error_text(Invalid(problem.code, **p))
    return f"{part_label(problem.part)} “{q(problem.shown)}”: {why}"
