"""The proposal wizard as domain operations on the draft row.

The draft row is the conversation's real state: `Proposal.step` says which answer comes next.
Every operation reloads the row, checks the actor and the clock, writes, and returns the fresh
read model; handlers only render it. Nothing here knows about Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot import announcements, audit, budget_text, policy
from bot.budget_text import LineReading, Part, Problem, Reading, Source
from bot.errors import Invalid, Locked, NotAllowed, NotFound, Stale
from bot.money import (
    PROPOSAL_CAP,
    AmountError,
    exceeds_cap,
    parse_amount,
    parse_count,
    parse_quantity,
)
from storage import queries
from storage import roles as roles_store
from storage.models import Attachment, BudgetLine, District, Proposal
from storage.statuses import OPEN_DRAFT, ProposalStatus
from storage.views import LineView, PersonView, ProposalView, RoundView

ACTIVITIES = (
    "road",
    "drainage",
    "water",
    "sanitation",
    "housing",
    "bridge",
    "economic",
    "social",
    "other",
)
SOURCES = tuple(source.value for source in Source)
ATTACHMENT_MIMES = ("application/pdf", "image/jpeg", "image/png", "image/webp")
# Units people may type after a count, lower case: "120 KK", "120 households".
HOUSEHOLD_UNITS = frozenset(
    {"kk", "keluarga", "rumah tangga", "household", "households", "family", "families"}
)
POOR_UNITS = HOUSEHOLD_UNITS | frozenset(
    {
        "kk miskin",
        "keluarga miskin",
        "rumah tangga miskin",
        "rtm",
        "miskin",
        "poor",
        "poor household",
        "poor households",
        "poor family",
        "poor families",
    }
)


class Step(StrEnum):
    TITLE = "title"
    ACTIVITY = "activity"
    LOCATION = "location"
    GEO = "geo"
    PROBLEM = "problem"
    HOUSEHOLDS = "households"
    POOR = "poor"
    BUDGET = "budget"
    LINE_ITEM = "line_item"
    LINE_QTY = "line_qty"
    LINE_PRICE = "line_price"
    LINE_SOURCE = "line_source"
    ATTACHMENTS = "attachments"
    REVIEW = "review"


TEXT_STEPS = {
    Step.TITLE,
    Step.LOCATION,
    Step.PROBLEM,
    Step.HOUSEHOLDS,
    Step.POOR,
    Step.LINE_ITEM,
    Step.LINE_QTY,
    Step.LINE_PRICE,
}
LINE_STEPS = (Step.LINE_ITEM, Step.LINE_QTY, Step.LINE_PRICE, Step.LINE_SOURCE)

# Where an answer leads. Steps inside a group (location+geo, households+poor, a budget line)
# always lead on; the others go back to the review once the review has been reached.
_FORWARD: dict[Step, Step] = {
    Step.TITLE: Step.ACTIVITY,
    Step.ACTIVITY: Step.LOCATION,
    Step.LOCATION: Step.GEO,
    Step.GEO: Step.PROBLEM,
    Step.PROBLEM: Step.HOUSEHOLDS,
    Step.HOUSEHOLDS: Step.POOR,
    Step.POOR: Step.BUDGET,
    Step.BUDGET: Step.ATTACHMENTS,
    Step.LINE_ITEM: Step.LINE_QTY,
    Step.LINE_QTY: Step.LINE_PRICE,
    Step.LINE_PRICE: Step.LINE_SOURCE,
    Step.LINE_SOURCE: Step.BUDGET,
    Step.ATTACHMENTS: Step.REVIEW,
}
_IN_GROUP = {Step.LOCATION, Step.HOUSEHOLDS, *LINE_STEPS[:-1], Step.LINE_SOURCE}
_BACK: dict[Step, Step] = {
    Step.ACTIVITY: Step.TITLE,
    Step.LOCATION: Step.ACTIVITY,
    Step.GEO: Step.LOCATION,
    Step.PROBLEM: Step.GEO,
    Step.HOUSEHOLDS: Step.PROBLEM,
    Step.POOR: Step.HOUSEHOLDS,
    Step.BUDGET: Step.POOR,
    Step.LINE_ITEM: Step.BUDGET,
    Step.LINE_QTY: Step.LINE_ITEM,
    Step.LINE_PRICE: Step.LINE_QTY,
    Step.LINE_SOURCE: Step.LINE_PRICE,
    Step.ATTACHMENTS: Step.BUDGET,
    Step.REVIEW: Step.ATTACHMENTS,
}
# Review buttons open these steps.
EDITABLE = {
    "title": Step.TITLE,
    "activity": Step.ACTIVITY,
    "location": Step.LOCATION,
    "problem": Step.PROBLEM,
    "households": Step.HOUSEHOLDS,
    "budget": Step.BUDGET,
    "attachments": Step.ATTACHMENTS,
}
TEXT_LIMITS = {
    Step.TITLE: (3, policy.TITLE_MAX),
    Step.LOCATION: (2, policy.TITLE_MAX),
    Step.PROBLEM: (10, policy.TEXT_MAX),
    Step.LINE_ITEM: (2, policy.LINE_ITEM_MAX),
}


@dataclass(frozen=True)
class Draft:
    """A loaded proposal together with its round, as one value for the handlers."""

    row: Proposal
    round: RoundView


async def _round(session: AsyncSession, round_id: int) -> RoundView:
    round_ = await queries.round_by_id(session, round_id)
    if round_ is None:
        raise NotFound()
    return round_


async def load_view(session: AsyncSession, person: PersonView, proposal_id: int) -> ProposalView:
    row = await session.get(Proposal, proposal_id)
    if row is None:
        raise NotFound()
    view = await queries.proposal_view(session, row)
    policy.require_can_view(person, view)
    return view


async def _editable(
    session: AsyncSession, person: PersonView, proposal_id: int, now: datetime
) -> Draft:
    row = await session.get(Proposal, proposal_id)
    if row is None:
        raise NotFound()
    round_ = await _round(session, row.round_id)
    policy.require_can_edit(
        person, row.author_id, row.village_kode, row.status, round_, now, row.revision_deadline
    )
    return Draft(row, round_)


def _require_step(row: Proposal, *steps: Step) -> Step:
    step = Step(row.step)
    if step not in steps:
        raise Stale(step=step.value)
    return step


def _advance(row: Proposal, done: Step, now: datetime) -> None:
    nxt = _FORWARD[done]
    if row.return_to_review and done not in _IN_GROUP and nxt not in LINE_STEPS:
        # Editing from the review: after the field (or its group), go back to the review.
        nxt = Step.REVIEW
    _move(row, nxt, now)


def _move(row: Proposal, step: Step, now: datetime) -> None:
    row.step = step.value
    if step == Step.REVIEW:
        row.return_to_review = True
    row.updated_at = now


# Thirty /new made thirty drafts: a person keeps at most this many unsubmitted in one round.
MAX_OPEN_DRAFTS = 5


async def start_draft(
    session: AsyncSession, person: PersonView, round_id: int, now: datetime
) -> ProposalView:
    round_ = await _round(session, round_id)
    village = policy.require_can_start(person, round_, now)
    if await roles_store.open_drafts(session, person.id, round_id) >= MAX_OPEN_DRAFTS:
        raise Locked("too_many_drafts", max=MAX_OPEN_DRAFTS)
    row = Proposal(
        round_id=round_id,
        district_id=round_.district_id,
        village_kode=village,
        author_id=person.id,
        step=Step.TITLE.value,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        "proposal.draft",
        at=now,
        actor_id=person.id,
        subject=f"proposal:{row.id}",
        round=round_id,
        village=village,
    )
    return await queries.proposal_view(session, row)


async def startable_rounds(
    session: AsyncSession, person: PersonView, now: datetime
) -> list[RoundView]:
    """Open rounds in which this person sits on a PAKEM."""
    rounds = []
    for grant in person.grants:
        if grant.round_id is None or person.pakem_of(grant.round_id) is None:
            continue
        round_ = await queries.round_by_id(session, grant.round_id)
        if round_ and round_.submission_open(now) and round_ not in rounds:
            rounds.append(round_)
    return rounds


async def current_line(session: AsyncSession, row: Proposal) -> BudgetLine:
    line = await session.get(BudgetLine, row.editing_line_id) if row.editing_line_id else None
    if line is None or line.proposal_id != row.id:
        raise Stale(step=row.step)
    return line


def _check_text(step: Step, text: str) -> str:
    text = (text or "").strip()
    low, high = TEXT_LIMITS[step]
    if len(text) > high:
        raise Invalid("too_long", max=high, length=len(text))
    if len(text) < low:
        raise Invalid("too_short", min=low)
    return text


def _amount_error(exc: AmountError, prefix: str = "amount") -> Invalid:
    """The parser's refusal as a domain error; an ambiguous text keeps both of its readings."""
    if exc.readings:
        return Invalid(f"{prefix}_{exc.reason}", readings=exc.readings)
    return Invalid(f"{prefix}_{exc.reason}")


async def answer_text(
    session: AsyncSession,
    person: PersonView,
    proposal_id: int,
    text: str,
    now: datetime,
    locale: str | None = None,
) -> ProposalView:
    """Take the text answer for whatever step the draft is at.

    Numbers are read in `locale`, the language the person reads the bot in (their own by
    default), so "Rp 35,000" means 35 thousand to whoever is shown "Rp 35,000".
    """
    locale = locale or person.locale
    draft = await _editable(session, person, proposal_id, now)
    row = draft.row
    step = _require_step(row, *TEXT_STEPS)
    if step == Step.TITLE:
        row.title = _check_text(step, text)
    elif step == Step.LOCATION:
        row.location_name = _check_text(step, text)
    elif step == Step.PROBLEM:
        row.problem = _check_text(step, text)
    elif step == Step.HOUSEHOLDS:
        row.households = _count(text, 1, HOUSEHOLD_UNITS, locale)
        if row.poor_households is not None and row.poor_households > row.households:
            row.poor_households = None
    elif step == Step.POOR:
        poor = _count(text, 0, POOR_UNITS, locale)
        if row.households is not None and poor > row.households:
            raise Invalid("poor_exceeds", households=row.households)
        row.poor_households = poor
    else:
        line = await current_line(session, row)
        if step == Step.LINE_ITEM:
            line.item = _check_text(step, text)
        elif step == Step.LINE_QTY:
            try:
                milli, unit = parse_quantity(text, locale)
            except AmountError as exc:
                raise _amount_error(exc, "qty") from None
            if unit is None:
                raise Invalid("unit_missing")
            if len(unit) > policy.UNIT_MAX:
                raise Invalid("unit_too_long", max=policy.UNIT_MAX)
            if line.unit_price is not None and exceeds_cap(milli, line.unit_price):
                raise Invalid("line_too_large", cap=PROPOSAL_CAP)
            line.volume_milli, line.unit = milli, unit
        elif step == Step.LINE_PRICE:
            try:
                price = parse_amount(text, locale)
            except AmountError as exc:
                raise _amount_error(exc) from None
            if line.volume_milli is not None and exceeds_cap(line.volume_milli, price):
                raise Invalid("line_too_large", cap=PROPOSAL_CAP)
            line.unit_price = price
        return await _line_answered(session, row, line, step, now)
    _advance(row, step, now)
    await session.flush()
    return await queries.proposal_view(session, row)


def _count(text: str, minimum: int, units: frozenset[str], locale: str) -> int:
    stripped = (text or "").strip()
    if stripped.isdigit():
        value = int(stripped)
    else:
        try:
            value = parse_count(stripped, units, locale)
        except AmountError:
            raise Invalid("count_format") from None
    if value < minimum or value > policy.MAX_HOUSEHOLDS:
        raise Invalid("count_range", max=policy.MAX_HOUSEHOLDS)
    return value


async def choose(
    session: AsyncSession,
    person: PersonView,
    proposal_id: int,
    step: Step,
    option: str,
    now: datetime,
) -> ProposalView:
    """A button answer: the activity type or a budget line's funding source."""
    draft = await _editable(session, person, proposal_id, now)
    row = draft.row
    _require_step(row, step)
    if step == Step.ACTIVITY:
        if option not in ACTIVITIES:
            raise Invalid("option")
        row.activity = option
    elif step == Step.LINE_SOURCE:
        if option not in SOURCES:
            raise Invalid("option")
        line = await current_line(session, row)
        line.source = option
        return await _line_answered(session, row, line, step, now)
    else:
        raise Stale(step=row.step)
    _advance(row, step, now)
    await session.flush()
    return await queries.proposal_view(session, row)


async def set_geo(
    session: AsyncSession,
    person: PersonView,
    proposal_id: int,
    latitude: float,
    longitude: float,
    now: datetime,
) -> ProposalView:
    draft = await _editable(session, person, proposal_id, now)
    row = draft.row
    _require_step(row, Step.GEO, Step.LOCATION)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise Invalid("geo_range")
    row.latitude, row.longitude = latitude, longitude
    if Step(row.step) == Step.LOCATION and row.location_name is None:
        # A shared location before the place name: keep it and still ask for the name.
        row.updated_at = now
    else:
        _advance(row, Step.GEO, now)
    await session.flush()
    return await queries.proposal_view(session, row)


async def skip(
    session: AsyncSession, person: PersonView, proposal_id: int, now: datetime
) -> ProposalView:
    """/skip: allowed on optional steps, and on a line field that already has a value."""
    draft = await _editable(session, person, proposal_id, now)
    row = draft.row
    step = Step(row.step)
    if step == Step.GEO:
        _advance(row, step, now)
    elif step == Step.ATTACHMENTS:
        _advance(row, step, now)
    elif step in LINE_STEPS:
        line = await current_line(session, row)
        value = {
            Step.LINE_ITEM: line.item,
            Step.LINE_QTY: line.volume_milli,
            Step.LINE_PRICE: line.unit_price,
            Step.LINE_SOURCE: line.source,
        }[step]
        if value is None:
            raise Invalid("not_optional")
        return await _line_answered(session, row, line, step, now)
    else:
        raise Invalid("not_optional")
    await session.flush()
    return await queries.proposal_view(session, row)


async def back(
    session: AsyncSession, person: PersonView, proposal_id: int, now: datetime
) -> ProposalView | None:
    """/back; None when the draft is already at its first step."""
    draft = await _editable(session, person, proposal_id, now)
    row = draft.row
    step = Step(row.step)
    target = _BACK.get(step)
    if target is None:
        return None
    if step == Step.LINE_ITEM and row.editing_line_id:
        line = await session.get(BudgetLine, row.editing_line_id)
        if line is not None and not line.complete and line.item is None:
            await session.delete(line)
        row.editing_line_id = None
    _move(row, target, now)
    await session.flush()
    return await queries.proposal_view(session, row)


async def goto(
    session: AsyncSession, person: PersonView, proposal_id: int, field: str, now: datetime
) -> ProposalView:
    """Open one field from the review summary."""
    draft = await _editable(session, person, proposal_id, now)
    row = draft.row
    _require_step(row, Step.REVIEW)
    if field not in EDITABLE:
        raise Invalid("option")
    _move(row, EDITABLE[field], now)
    await session.flush()
    return await queries.proposal_view(session, row)


async def current_step(
    session: AsyncSession, person: PersonView, proposal_id: int, now: datetime
) -> Step:
    """The step an editable draft is at; cheap, and it warms the session for the next call."""
    draft = await _editable(session, person, proposal_id, now)
    return Step(draft.row.step)


async def resume(
    session: AsyncSession, person: PersonView, proposal_id: int, now: datetime
) -> ProposalView:
    """Reopen a draft where it was left; raises Locked once it can no longer change."""
    draft = await _editable(session, person, proposal_id, now)
    return await queries.proposal_view(session, draft.row)


# -- budget ------------------------------------------------------------------------------------


async def budget_add(
    session: AsyncSession, person: PersonView, proposal_id: int, now: datetime
) -> ProposalView:
    draft = await _editable(session, person, proposal_id, now)
    row = draft.row
    _require_step(row, Step.BUDGET)
    lines = await queries.proposal_lines(session, row.id or 0)
    pending = next((line for line in lines if not line.complete), None)
    if pending is None:
        pending = BudgetLine(
            proposal_id=row.id or 0, position=max((line.position for line in lines), default=0) + 1
        )
        session.add(pending)
        await session.flush()
    row.editing_line_id = pending.id
    _move(row, next(iter(_missing_steps(pending)), Step.LINE_SOURCE), now)
    await session.flush()
    return await queries.proposal_view(session, row)


def _missing_steps(line: BudgetLine | LineView) -> list[Step]:
    """The steps that ask for the parts this line still lacks, in asking order."""
    values = (line.item, line.volume_milli, line.unit_price, line.source)
    return [step for step, value in zip(LINE_STEPS, values, strict=True) if value is None]


async def _line_answered(
    session: AsyncSession, row: Proposal, line: BudgetLine, step: Step, now: datetime
) -> ProposalView:
    """After one part of a line was answered (or kept with /skip), ask for what comes next.

    A finished line being corrected goes through every part in turn, each keepable with
    /skip. A line still being written asks only for the parts it lacks; once it has them all
    it is finished, and the next unfinished line after it (pasted in the same message) is
    opened, so several typed lines are completed one after the other.
    """
    finished = False
    if line.complete:
        if step == Step.LINE_SOURCE:
            row.editing_line_id = None
        _advance(row, step, now)
    elif missing := _missing_steps(line):
        _move(row, missing[0], now)
    else:
        line.complete, finished = True, True
        row.editing_line_id = None
        _advance(row, Step.LINE_SOURCE, now)
    await session.flush()
    view = await queries.proposal_view(session, row)
    # Looked for in the lines the view has read anyway: a finished line costs no query more.
    later = [other for other in view.lines if not other.complete and other.position > line.position]
    if not finished or not later:
        return view
    row.editing_line_id = later[0].id
    _move(row, next(iter(_missing_steps(later[0])), Step.LINE_SOURCE), now)
    await session.flush()
    return await queries.proposal_view(session, row)


@dataclass(frozen=True)
class TypedLines:
    """Budget lines typed at the budget step: what was read, and the line each became."""

    proposal: ProposalView
    reading: Reading
    lines: tuple[LineReading, ...]  # as read and checked, one per text line of the message
    line_ids: tuple[int | None, ...]  # the budget line made of each; None for a skipped one


async def budget_typed(
    session: AsyncSession,
    person: PersonView,
    proposal_id: int,
    text: str,
    now: datetime,
    locale: str | None = None,
) -> TypedLines:
    """Text typed at the budget step: each of its text lines starts a budget line.

    What a line says is kept at once, so nothing typed is lost; the first line that lacks a
    part is opened at the step that asks for it, and the others follow (`_line_answered`).
    """
    draft = await _editable(session, person, proposal_id, now)
    row = draft.row
    _require_step(row, Step.BUDGET)
    reading = budget_text.read_lines(text, locale or person.locale)
    lines = tuple(_checked_item(line) for line in reading.lines)
    existing = await queries.proposal_lines(session, row.id or 0)
    position = max((line.position for line in existing), default=0)
    made: list[BudgetLine | None] = []
    for line in lines:
        if line.skipped is not None:
            made.append(None)
            continue
        position += 1
        made.append(_budget_line(row, position, line))
        session.add(made[-1])
    await session.flush()
    first_open = next((m for m in made if m is not None and not m.complete), None)
    if first_open is not None:
        row.editing_line_id = first_open.id
        _move(row, _missing_steps(first_open)[0], now)
    else:
        row.updated_at = now
    await session.flush()
    return TypedLines(
        await queries.proposal_view(session, row),
        reading,
        lines,
        tuple(m.id if m is not None else None for m in made),
    )


def _checked_item(line: LineReading) -> LineReading:
    """The item's name under the same limits as when it is typed alone."""
    if line.item is None:
        return line
    try:
        _check_text(Step.LINE_ITEM, line.item)
    except Invalid as exc:
        return line.refuse(Problem(Part.ITEM, line.item, exc.code, exc.params))
    return line


def _budget_line(row: Proposal, position: int, line: LineReading) -> BudgetLine:
    return BudgetLine(
        proposal_id=row.id or 0,
        position=position,
        item=line.item,
        volume_milli=line.volume_milli,
        unit=line.unit,
        unit_price=line.unit_price,
        source=line.source.value if line.source else None,
        complete=not line.missing,
    )


async def _line_of(session: AsyncSession, row: Proposal, line_id: int) -> BudgetLine:
    """A line of this proposal; a forged id of another proposal's line is refused."""
    line = await session.get(BudgetLine, line_id)
    if line is None or line.proposal_id != row.id:
        raise NotAllowed("not_yours")
    return line


async def budget_edit(
    session: AsyncSession, person: PersonView, proposal_id: int, line_id: int, now: datetime
) -> ProposalView:
    draft = await _editable(session, person, proposal_id, now)
    row = draft.row
    _require_step(row, Step.BUDGET)
    line = await _line_of(session, row, line_id)
    row.editing_line_id = line.id
    _move(row, Step.LINE_ITEM, now)
    await session.flush()
    return await queries.proposal_view(session, row)


async def budget_remove(
    session: AsyncSession, person: PersonView, proposal_id: int, line_id: int, now: datetime
) -> ProposalView:
    draft = await _editable(session, person, proposal_id, now)
    row = draft.row
    _require_step(row, Step.BUDGET)
    line = await _line_of(session, row, line_id)
    await session.delete(line)
    row.updated_at = now
    await session.flush()
    return await queries.proposal_view(session, row)


async def budget_done(
    session: AsyncSession, person: PersonView, proposal_id: int, now: datetime
) -> ProposalView:
    draft = await _editable(session, person, proposal_id, now)
    row = draft.row
    _require_step(row, Step.BUDGET)
    lines = await queries.proposal_lines(session, row.id or 0)
    if not any(line.complete for line in lines):
        raise Invalid("budget_empty")
    _advance(row, Step.BUDGET, now)
    await session.flush()
    return await queries.proposal_view(session, row)


# -- attachments -------------------------------------------------------------------------------


async def add_attachment(
    session: AsyncSession,
    person: PersonView,
    proposal_id: int,
    kind: str,
    file_id: str,
    file_unique_id: str,
    now: datetime,
    *,
    file_name: str | None = None,
    mime_type: str | None = None,
) -> ProposalView:
    draft = await _editable(session, person, proposal_id, now)
    row = draft.row
    _require_step(row, Step.ATTACHMENTS)
    if kind == "document" and (mime_type or "") not in ATTACHMENT_MIMES:
        raise Invalid("attachment_type")
    if kind not in ("photo", "document"):
        raise Invalid("attachment_type")
    count = await queries.count_attachments(session, row.id or 0)
    if count >= policy.MAX_ATTACHMENTS:
        raise Invalid("attachments_full", max=policy.MAX_ATTACHMENTS)
    session.add(
        Attachment(
            proposal_id=row.id or 0,
            kind=kind,
            file_id=file_id,
            file_unique_id=file_unique_id,
            file_name=file_name,
            added_at=now,
        )
    )
    row.updated_at = now
    await session.flush()
    return await queries.proposal_view(session, row)


async def remove_attachments(
    session: AsyncSession, person: PersonView, proposal_id: int, now: datetime
) -> ProposalView:
    draft = await _editable(session, person, proposal_id, now)
    row = draft.row
    _require_step(row, Step.ATTACHMENTS)
    for attachment in await queries.proposal_attachments(session, row.id or 0):
        await session.delete(attachment)
    row.updated_at = now
    await session.flush()
    return await queries.proposal_view(session, row)


# -- submission --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    proposal: ProposalView
    notified: int  # the other committee members queued a confirmation (through the outbox)


async def submit(
    session: AsyncSession, person: PersonView, proposal_id: int, now: datetime
) -> Submitted:
    draft = await _editable(session, person, proposal_id, now)
    row = draft.row
    _require_step(row, Step.REVIEW)
    view = await queries.proposal_view(session, row)
    missing = policy.missing_fields(view)
    if missing:
        raise Invalid("incomplete", fields=missing)
    limit = policy.over_ceiling(view)
    if limit is not None:
        raise Invalid("over_ceiling", limit=limit, total=view.total)
    resubmitted = row.status == policy.REVISION
    if row.number is None:
        district = await session.get(District, draft.round.district_id)
        assert district is not None
        seq = await queries.next_proposal_number(session, district.id or 0, draft.round.year)
        row.number = f"{district.prefix}-{draft.round.year}-{seq:03d}"
    row.status = policy.SUBMITTED
    _stamp_submission(row, now)
    row.updated_at = now
    row.version += 1
    await session.flush()
    audit.record(
        session,
        "proposal.resubmit" if resubmitted else "proposal.submit",
        at=now,
        actor_id=person.id,
        subject=f"proposal:{row.id}",
        number=row.number,
        total=view.total,
    )
    fresh = await queries.proposal_view(session, row)
    committee = await queries.pakem_members(session, draft.round.id, row.village_kode)
    notified = await announcements.notify_submission(
        session, fresh, person, [(m.id or 0, m.telegram_id) for m in committee], now
    )
    return Submitted(fresh, notified)


def _stamp_submission(row: Proposal, now: datetime) -> None:
    """Keep the first submission time: it says whether the proposal came in before the deadline.

    A resubmission after a revision, often past that deadline, is recorded beside it.
    """
    if row.submitted_at is None:
        row.submitted_at = now
    else:
        row.resubmitted_at = now


async def my_proposals(session: AsyncSession, person: PersonView) -> list[ProposalView]:
    """Own drafts and submissions, plus those of the committees this person sits on."""
    pairs = [
        (g.round_id, g.village_kode)
        for g in person.grants
        if g.round_id is not None and g.village_kode is not None
    ]
    rows = {r.id: r for r in await queries.proposals_of_author(session, person.id)}
    for r in await queries.proposals_of_villages(session, pairs):  # type: ignore[arg-type]
        rows.setdefault(r.id, r)
    views = [await queries.proposal_view(session, r) for r in rows.values()]
    return sorted(views, key=lambda v: v.updated_at, reverse=True)


def is_locked(view: ProposalView, now: datetime) -> bool:
    if view.status == policy.REVISION:
        return view.revision_deadline is None or now >= view.revision_deadline
    return view.status not in OPEN_DRAFT or not view.round.submission_open(now)


# -- discarding --------------------------------------------------------------------------------


async def _discardable(session: AsyncSession, person: PersonView, proposal_id: int) -> Proposal:
    row = await session.get(Proposal, proposal_id)
    if row is None:
        raise NotFound()
    policy.require_can_discard(person, row.author_id, row.village_kode, row.status, row.round_id)
    return row


async def check_discard(
    session: AsyncSession, person: PersonView, proposal_id: int
) -> ProposalView:
    """Whether this person may discard this draft, asked before the confirmation is shown, so
    nobody confirms something that is then refused. Changes nothing."""
    row = await _discardable(session, person, proposal_id)
    return await queries.proposal_view(session, row)


def offers_discard(person: PersonView, view: ProposalView) -> bool:
    """Whether to show this person the discard button on this proposal."""
    try:
        policy.require_can_discard(
            person, view.author_id, view.village_kode, view.status, view.round.id
        )
    except (NotAllowed, Locked):
        return False
    return True


async def discard(
    session: AsyncSession, person: PersonView, proposal_id: int, now: datetime
) -> ProposalView:
    """Throw away an unsubmitted draft for good: it leaves every list and count, and no longer
    takes one of the person's places under MAX_OPEN_DRAFTS.

    The row stays (status DISCARDED) for the audit log. The status changes only if it is still a
    draft at the moment of writing, so a submit or a second discard that got there first wins.
    """
    row = await _discardable(session, person, proposal_id)
    if not await queries.discard_draft(session, proposal_id, now):
        # Submitted or discarded meanwhile: refused as it now stands.
        await session.refresh(row)
        policy.require_can_discard(
            person, row.author_id, row.village_kode, row.status, row.round_id
        )
        raise NotFound()
    await session.refresh(row)
    audit.record(
        session,
        "proposal.discard",
        at=now,
        actor_id=person.id,
        subject=f"proposal:{proposal_id}",
        round=row.round_id,
        village=row.village_kode,
        title=row.title,
    )
    return await queries.proposal_view(session, row)


__all__ = ["Locked", "ProposalStatus", "Step"]
