"""Everything a person reads about proposals: prompts, summaries, errors. Translated, escaped."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from babel.numbers import format_decimal

from bot import i18n as fmt
from bot.errors import Code, DomainError
from bot.policy import MAX_ATTACHMENTS, TEXT_MAX, TITLE_MAX, missing_fields, over_ceiling
from bot.proposals import Step
from bot.text import q
from handlers.announce_text import ANNOUNCEMENT_TEXTS
from handlers.formats import (
    ErrorText,
    activity_label,
    locale,
    money,
    proposal_status,
    says,
    source_label,
    when,
)
from handlers.review_text import REVIEW_TEXTS
from handlers.roles_text import ROLE_TEXTS
from storage.statuses import OPEN_DRAFT, PAST_DRAFT, ProposalStatus
from storage.views import LineView, ProposalView, RoundView


def amount_examples() -> dict[str, str]:
    """Ways to write an amount, in the reader's own number format ("65.000" or "65,000")."""
    loc = locale()
    return {
        "plain": fmt.number(65_000, loc),
        "rupiah": money(1_500_000),
        "millions": _("{n} million").format(n=format_decimal(Decimal("1.5"), locale=loc)),
        "thousands": _("{n} thousand").format(n=750),
        "billions": _("{n} billion").format(n=2),
    }


def quantity_examples() -> dict[str, str]:
    """Quantities with units, the fractional one in the reader's number format."""
    return {
        "bags": "50 sak",
        "volume": f"{fmt.quantity(12_500, locale())} m3",
        "days": "30 HOK",
    }


def ambiguous_amount(readings: tuple[Decimal, ...]) -> str:
    """Which reading to retype: the thousands one, in plain digits that cannot be misread."""
    whole = [r for r in readings if r == r.to_integral_value() and r > 0]
    if not whole:
        return _("I cannot tell which amount you mean.")
    amount = int(max(whole))
    return _(
        "I cannot tell which amount you mean. If you mean {amount}, type <i>{digits}</i>."
    ).format(amount=money(amount), digits=amount)


def status_label(view: ProposalView, now: datetime) -> str:
    if view.status == ProposalStatus.REVISION and view.revision_deadline is not None:
        return _("revision requested, editable until {when}").format(
            when=when(view.revision_deadline, view.round.timezone)
        )
    if view.status == ProposalStatus.DISCARDED:
        return _("discarded draft")
    if view.status in PAST_DRAFT:
        return proposal_status(view.status)
    if not view.round.submission_open(now):
        return _("draft, locked after the deadline")
    return _("draft")


def field_label(name: str) -> str:
    labels = {
        "title": _("Title"),
        "activity": _("Activity type"),
        "location": _("Location"),
        "problem": _("Problem"),
        "households": _("Beneficiaries"),
        "poor_households": _("Poor households"),
        "budget": _("Budget"),
        "attachments": _("Attachments"),
    }
    return labels.get(name, name)


STEP_NUMBER = {
    Step.TITLE: 1,
    Step.ACTIVITY: 2,
    Step.LOCATION: 3,
    Step.GEO: 3,
    Step.PROBLEM: 4,
    Step.HOUSEHOLDS: 5,
    Step.POOR: 5,
    Step.BUDGET: 6,
    Step.LINE_ITEM: 6,
    Step.LINE_QTY: 6,
    Step.LINE_PRICE: 6,
    Step.LINE_SOURCE: 6,
    Step.ATTACHMENTS: 7,
    Step.REVIEW: 8,
}


def step_header(step: Step) -> str:
    return _("Step {n} of {total}").format(n=STEP_NUMBER[step], total=8)


def line_text(index: int, line: LineView) -> str:
    qty = fmt.quantity(line.volume_milli, locale()) if line.volume_milli is not None else "?"
    price = money(line.unit_price) if line.unit_price is not None else "?"
    text = _("{n}. {item}: {qty} {unit} × {price} = <b>{total}</b> from {source}").format(
        n=index,
        item=q(line.item or "?"),
        qty=qty,
        unit=q(line.unit or ""),
        price=price,
        total=money(line.total),
        source=source_label(line.source),
    )
    if not line.complete:
        text += " " + _("(unfinished)")
    return text


def budget_block(view: ProposalView) -> list[str]:
    """Lines, the running total and its split by source, and the ceiling warning."""
    blocks = []
    if not view.lines:
        blocks.append(_("No budget lines yet."))
    for index, line in enumerate(view.lines, start=1):
        blocks.append(line_text(index, line))
    total = [_("<b>Total: {total}</b>").format(total=money(view.total))]
    for source, amount in view.totals_by_source().items():
        total.append(
            _("· {source}: {amount}").format(source=source_label(source), amount=money(amount))
        )
    blocks.append("\n".join(total))
    limit = over_ceiling(view)
    if limit is not None:
        blocks.append(
            _(
                "⚠️ The total is over the limit of {limit}. "
                "It cannot be submitted until lines are reduced or removed."
            ).format(limit=money(limit))
        )
    return blocks


def submitted_line(view: ProposalView) -> str:
    """The first submission, and beside it the latest resubmission after a revision."""
    zone = view.round.timezone
    assert view.submitted_at is not None
    if view.resubmitted_at is None:
        return _("Submitted: {when}").format(when=when(view.submitted_at, zone))
    return _("Submitted: {when} · resubmitted: {again}").format(
        when=when(view.submitted_at, zone), again=when(view.resubmitted_at, zone)
    )


def summary_blocks(view: ProposalView, now: datetime) -> list[str]:
    """The whole proposal as HTML blocks, each small enough to stand alone in a message."""
    zone = view.round.timezone
    header = [
        "<b>{}</b>".format(q(view.title or _("(no title yet)"))),
        _("Number: {number}").format(number=view.number) if view.number else None,
        _("Status: {status}").format(status=status_label(view, now)),
        _("Round: {round}").format(round=q(view.round.name)),
        _("Village: {village}, Kec. {kecamatan}").format(
            village=q(view.village_name), kecamatan=q(view.kecamatan_name)
        ),
        submitted_line(view)
        if view.submitted_at
        else _("Submission deadline: {when}").format(
            when=when(view.round.submission_deadline, zone)
        ),
    ]
    blocks = ["\n".join(line for line in header if line)]
    if view.status == ProposalStatus.REVISION and view.revision_note:
        blocks.append(_("<b>Changes the POKJA asked for:</b>") + "\n" + q(view.revision_note))
    location = q(view.location_name or "—")
    if view.latitude is not None and view.longitude is not None:
        location += f" ({view.latitude:.5f}, {view.longitude:.5f})"
    blocks.append(
        "\n".join(
            [
                _("<b>Activity type:</b> {value}").format(value=activity_label(view.activity)),
                _("<b>Location:</b> {value}").format(value=location),
                _("<b>Beneficiaries:</b> {households} households, {poor} of them poor").format(
                    households=fmt.number(view.households, locale())
                    if view.households is not None
                    else "—",
                    poor=fmt.number(view.poor_households, locale())
                    if view.poor_households is not None
                    else "—",
                ),
            ]
        )
    )
    blocks.append(_("<b>Problem it solves:</b>") + "\n" + q(view.problem or "—"))
    blocks.append(_("<b>Budget</b>"))
    blocks.extend(budget_block(view))
    photos = sum(1 for a in view.attachments if a.kind == "photo")
    documents = len(view.attachments) - photos
    blocks.append(
        _("<b>Attachments:</b> photos {photos}, documents {documents}").format(
            photos=photos, documents=documents
        )
    )
    missing = missing_fields(view)
    if missing and view.status in OPEN_DRAFT:
        blocks.append(
            _("Still missing: {fields}").format(fields=", ".join(field_label(m) for m in missing))
        )
    return blocks


# -- what changed at the review -----------------------------------------------------------------

CHANGE_SHOWN = 160  # characters of a long value shown in a change, old and new


def review_facts(view: ProposalView) -> dict[str, str]:
    """Each part of the summary as plain text, keyed by part, to tell what an edit changed.

    Kept between updates (in the conversation's data), so plain strings only.
    """
    loc = locale()
    location = view.location_name or "—"
    if view.latitude is not None and view.longitude is not None:
        location += f" ({view.latitude:.5f}, {view.longitude:.5f})"
    photos = sum(1 for a in view.attachments if a.kind == "photo")
    facts = {
        "title": view.title or "—",
        "activity": activity_label(view.activity),
        "location": location,
        "problem": view.problem or "—",
        "households": _("{households} households, {poor} of them poor").format(
            households=fmt.number(view.households, loc) if view.households is not None else "—",
            poor=fmt.number(view.poor_households, loc) if view.poor_households is not None else "—",
        ),
    }
    for line in view.lines:
        # By id, not position: removing one line must not read as every later line changed.
        facts[f"line:{line.id}"] = "{item}: {qty} {unit} × {price} = {total} ({source})".format(
            item=line.item or "?",
            qty=fmt.quantity(line.volume_milli, loc) if line.volume_milli is not None else "?",
            unit=line.unit or "",
            price=money(line.unit_price) if line.unit_price is not None else "?",
            total=money(line.total),
            source=source_label(line.source),
        )
    facts["total"] = money(view.total)
    facts["attachments"] = _("photos {photos}, documents {documents}").format(
        photos=photos, documents=len(view.attachments) - photos
    )
    return facts


def _fact_label(key: str) -> str:
    if key.startswith("line:"):
        return _("Budget line")
    if key == "total":
        return _("Total")
    return field_label(key)


def _shown(value: str | None) -> str:
    if value is None:
        return "—"
    cut = value if len(value) <= CHANGE_SHOWN else value[: CHANGE_SHOWN - 1] + "…"
    return q(cut)


def change_lines(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What an edit at the review changed, part by part: "Title: old → new"."""
    keys = list(after) + [k for k in before if k not in after]
    lines = [
        _("· <b>{field}:</b> {old} → {new}").format(
            field=_fact_label(key), old=_shown(before.get(key)), new=_shown(after.get(key))
        )
        for key in keys
        if before.get(key) != after.get(key)
    ]
    if not lines:
        return [_("Nothing in the proposal changed.")]
    return [_("<b>Changed:</b>"), *lines]


def prompt(view: ProposalView) -> str:
    """What to answer at the draft's current step."""
    step = Step(view.step)
    head = f"<i>{step_header(step)}</i>\n"
    editing = next((line for line in view.lines if line.id == view.editing_line_id), None)
    if step == Step.TITLE:
        body = _(
            "What is the title of the proposal? For example: <i>Concrete paving of the RT 03 "
            "path</i>. At most {max} characters."
        ).format(max=TITLE_MAX)
    elif step == Step.ACTIVITY:
        body = _("What type of activity is it? Choose one of the buttons.")
    elif step == Step.LOCATION:
        body = _("Where is it? Type the place name, for example <i>Dusun Krajan, RT 03/RW 01</i>.")
    elif step == Step.GEO:
        body = _(
            "You may also share the location from your phone: press the button below, or "
            "📎 → Location. Or /skip this step."
        )
    elif step == Step.PROBLEM:
        body = _(
            "What problem does it solve? Describe it in your own words, at most {max} characters."
        ).format(max=TEXT_MAX)
    elif step == Step.HOUSEHOLDS:
        body = _("How many households benefit? Type a number, for example <i>120</i>.")
    elif step == Step.POOR:
        body = _("Of these {n} households, how many are poor households? Type a number.").format(
            n=fmt.number(view.households or 0, locale())
        )
    elif step == Step.BUDGET:
        body = "\n\n".join(
            [
                _("<b>Budget</b>"),
                *budget_block(view),
                _("Add a line, correct or remove one, or press Done when the budget is complete."),
            ]
        )
    elif step == Step.LINE_ITEM:
        body = _("What is the item? For example <i>Cement 50 kg</i> or <i>Labour</i>.")
        if editing and editing.item:
            body += "\n" + _("Now: {value}. /skip keeps it.").format(value=q(editing.item))
    elif step == Step.LINE_QTY:
        body = _(
            "How much, and in which unit? For example <i>{bags}</i>, <i>{volume}</i>, "
            "<i>{days}</i>."
        ).format(**quantity_examples())
        if editing and editing.volume_milli is not None:
            body += "\n" + _("Now: {value}. /skip keeps it.").format(
                value=f"{fmt.quantity(editing.volume_milli, locale())} {q(editing.unit or '')}"
            )
    elif step == Step.LINE_PRICE:
        body = _(
            "What is the price per unit? For example <i>{plain}</i>, <i>{rupiah}</i> "
            "or <i>{millions}</i>."
        ).format(**amount_examples())
        if editing and editing.unit_price is not None:
            body += "\n" + _("Now: {value}. /skip keeps it.").format(
                value=money(editing.unit_price)
            )
    elif step == Step.LINE_SOURCE:
        body = ""
        if editing and editing.unit_price is not None and editing.volume_milli is not None:
            body = (
                _("Understood: {qty} {unit} × {price} = <b>{total}</b>.").format(
                    qty=fmt.quantity(editing.volume_milli, locale()),
                    unit=q(editing.unit or ""),
                    price=money(editing.unit_price),
                    total=money(editing.total),
                )
                + "\n\n"
            )
        body += _("Who funds this line? Choose a source.")
    elif step == Step.ATTACHMENTS:
        body = _(
            "Send photos of the site or documents (PDF), at most {max}. You have sent {n}. "
            "Press Done when finished, or /skip."
        ).format(max=MAX_ATTACHMENTS, n=len(view.attachments))
    else:
        body = _("Check the proposal above. Press a button to change a part, or submit it.")
    tail = "\n\n" + _("/back goes one step back, /cancel saves the draft and leaves.")
    return head + body + tail


# -- errors -------------------------------------------------------------------------------------

GENERIC = __("Something went wrong. Your input is saved; please try again, or /cancel.")


def _amount(lead: Callable[[Mapping[str, Any]], str]) -> ErrorText:
    """An amount refused for one reason, then every way of writing one that is understood."""
    return lambda p: (
        lead(p)
        + " "
        + _(
            "Write it like <i>{plain}</i>, <i>{rupiah}</i>, <i>{millions}</i>, "
            "<i>{thousands}</i> or <i>{billions}</i>."
        ).format(**amount_examples())
    )


def _quantity(_p: Mapping[str, Any]) -> str:
    return _(
        "Please type a quantity and a unit, for example <i>{bags}</i> or <i>{volume}</i>."
    ).format(**quantity_examples())


# Refusals of writing a proposal, and those every conversation shares.
PROPOSAL_TEXTS: dict[Code, ErrorText] = {
    Code.ERROR: says(GENERIC),
    Code.INVALID: says(GENERIC),
    Code.LOCKED: says(GENERIC),
    Code.TOO_LONG: says(
        __(
            "That is too long: {length} characters, at most {max} are allowed. "
            "Please shorten it and send it again."
        )
    ),
    Code.TOO_SHORT: says(__("That is too short. Please write at least {min} characters.")),
    Code.COUNT_FORMAT: says(__("Please type a whole number, for example <i>120</i>.")),
    Code.COUNT_RANGE: lambda p: _("Please type a number between 1 and {max}.").format(
        max=fmt.number(p["max"], locale())
    ),
    Code.POOR_EXCEEDS: lambda p: _(
        "The number of poor households cannot be more than all households ({n}). "
        "Please type a smaller number."
    ).format(n=fmt.number(p["households"], locale())),
    Code.AMOUNT_ZERO: _amount(says(__("The amount must be more than zero."))),
    Code.AMOUNT_NEGATIVE: _amount(says(__("The amount cannot be negative."))),
    Code.AMOUNT_TOO_LARGE: _amount(says(__("That amount is far too large."))),
    Code.AMOUNT_FRACTION: _amount(says(__("Rupiah amounts have no cents."))),
    Code.AMOUNT_AMBIGUOUS: _amount(lambda p: ambiguous_amount(tuple(p.get("readings", ())))),
    Code.AMOUNT_FORMAT: _amount(says(__("I did not understand that amount."))),
    Code.QTY_FORMAT: _quantity,
    Code.QTY_AMBIGUOUS: _quantity,
    Code.QTY_FRACTION: _quantity,
    Code.QTY_ZERO: _quantity,
    Code.QTY_NEGATIVE: _quantity,
    Code.QTY_TOO_LARGE: _quantity,
    Code.UNIT_MISSING: lambda p: _(
        "Please add the unit after the number, for example <i>{bags}</i> or <i>{volume}</i>."
    ).format(**quantity_examples()),
    Code.UNIT_TOO_LONG: says(__("The unit is too long: at most {max} characters.")),
    Code.LINE_TOO_LARGE: lambda p: _(
        "This line alone would be over {cap}. Please check the price."
    ).format(cap=money(p["cap"])),
    Code.BUDGET_EMPTY: says(__("Add at least one budget line before going on.")),
    Code.ATTACHMENT_TYPE: says(__("Only photos and PDF documents can be attached.")),
    Code.ATTACHMENTS_FULL: says(
        __("This proposal already has {max} attachments, the most allowed. Press Done to go on.")
    ),
    Code.GEO_RANGE: says(__("That location is not valid. Share it again or /skip.")),
    Code.NOT_OPTIONAL: says(
        __("This step cannot be skipped. Please answer it, or /cancel to leave.")
    ),
    Code.INCOMPLETE: lambda p: _(
        "The proposal is not complete yet. Still missing: {fields}."
    ).format(fields=", ".join(field_label(f) for f in p["fields"])),
    Code.OVER_CEILING: lambda p: _(
        "The total {total} is over the limit of {limit}. Correct the budget before submitting."
    ).format(total=money(p["total"]), limit=money(p["limit"])),
    Code.DEADLINE: lambda p: _(
        "The submission deadline has passed ({when}). This draft stays readable but "
        "can no longer be changed or submitted."
    ).format(when=when(p["deadline"], p.get("zone", "Asia/Jakarta"))),
    Code.SUBMITTED: says(__("This proposal has been submitted and can no longer be changed.")),
    Code.DISCARDED: says(
        __("This draft was discarded and can no longer be opened. /drafts lists your drafts.")
    ),
    Code.NOT_A_DRAFT: lambda p: _(
        "Only a draft that was never submitted can be discarded. Status of this proposal: {status}."
    ).format(status=proposal_status(str(p.get("status")))),
    Code.NOT_PAKEM: says(
        __(
            "Only members of a village partnership committee (PAKEM) can write proposals. "
            "Ask your POKJA for an invitation link."
        )
    ),
    Code.NOT_POKJA: says(__("Only POKJA members of this district can do that.")),
    Code.NOT_YOURS: says(__("You cannot do that with this proposal.")),
    Code.NOT_ALLOWED: says(__("You cannot do that with this proposal.")),
    Code.NOT_FOUND: says(__("That proposal no longer exists. See /drafts.")),
    Code.STALE: says(__("That button belongs to an earlier step. Here is where you are now:")),
    Code.OPTION: says(__("Please choose one of the buttons.")),
}

# Raised only by the operator's command line (`bot.cli` words them for the operator); in a chat
# they would be a fault of the bot, so the person reads the general apology.
OPERATOR_TEXTS: dict[Code, ErrorText] = {
    code: says(GENERIC)
    for code in (
        Code.NAIVE_DEADLINE,
        Code.ROUND_NAME,
        Code.CEILING_RANGE,
        Code.UNKNOWN_VILLAGES,
        Code.REMINDER_OFFSETS,
        Code.QUIET_HOURS,
        Code.UNKNOWN_ROUND,
        Code.VILLAGE_ONLY_FOR_PAKEM,
        Code.CSV_COLUMNS,
        Code.CSV_ROW,
        Code.CSV_ONE_DISTRICT,
        Code.CSV_OUTSIDE,
        Code.PREFIX_TAKEN,
        Code.PREFIX_FORMAT,
    )
}

# The one table the chat reads; each part is kept next to its conversation, and no code may be
# worded by two parts (tests/test_error_texts.py checks both, and that every code has a text).
TABLES: tuple[Mapping[Code, ErrorText], ...] = (
    PROPOSAL_TEXTS,
    REVIEW_TEXTS,
    ROLE_TEXTS,
    ANNOUNCEMENT_TEXTS,
    OPERATOR_TEXTS,
)
ERROR_TEXTS: dict[Code, ErrorText] = {
    code: text for table in TABLES for code, text in table.items()
}


def error_text(exc: DomainError) -> str:
    return ERROR_TEXTS.get(exc.code, says(GENERIC))(exc.params)


def round_line(round_: RoundView) -> str:
    return _("{name}: submissions until {when}").format(
        name=q(round_.name), when=when(round_.submission_deadline, round_.timezone)
    )
