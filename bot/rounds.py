"""Rounds: opening them, their calendar and feasibility checklist."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import announcements, audit
from bot.announcements import Template
from bot.errors import Code, Invalid, Locked, NotFound
from bot.money import PROPOSAL_CAP
from bot.reminders import parse_offsets
from storage import delivery, queries
from storage.models import ProposalCounter, Round, RoundVillage
from storage.views import DistrictView, PersonView, RoundView


async def open_round(
    session: AsyncSession,
    district: DistrictView,
    name: str,
    submission_deadline: datetime,
    now: datetime,
    *,
    ceiling: int | None = None,
    villages: list[str] | None = None,
    reminder_offsets: str | None = None,
    actor_id: int | None = None,
    actor_label: str = "",
) -> RoundView:
    name = name.strip()
    if not name or len(name) > 120:
        raise Invalid(Code.ROUND_NAME)
    if submission_deadline.tzinfo is None:
        raise Invalid(Code.NAIVE_DEADLINE)
    if submission_deadline <= now:
        raise Invalid(Code.DEADLINE_PAST)
    if ceiling is not None and not (0 < ceiling <= PROPOSAL_CAP):
        raise Invalid(Code.CEILING_RANGE)
    if reminder_offsets is not None:
        reminder_offsets = ",".join(
            f"{int(o.total_seconds() // 60)}m" for o in parse_offsets(reminder_offsets)
        )
    known = await queries.villages_of(session, district.id)
    if not known:
        raise Invalid(Code.NO_VILLAGES)
    if villages:
        unknown = sorted(set(villages) - set(known))
        if unknown:
            raise Invalid(Code.UNKNOWN_VILLAGES, kode=", ".join(unknown))
        chosen = sorted(set(villages))
    else:
        chosen = known
    year = submission_deadline.astimezone(ZoneInfo(district.timezone)).year
    row = Round(
        district_id=district.id,
        name=name,
        year=year,
        submission_deadline=submission_deadline,
        ceiling=ceiling,
        reminder_offsets=reminder_offsets,
        opened_at=now,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    for kode in chosen:
        session.add(RoundVillage(round_id=row.id, village_kode=kode))
    if await session.get(ProposalCounter, (district.id, year)) is None:
        session.add(ProposalCounter(district_id=district.id, year=year, last=0))
    audit.record(
        session,
        "round.open",
        at=now,
        actor_id=actor_id,
        actor_label=actor_label,
        subject=f"round:{row.id}",
        name=name,
        deadline=submission_deadline.isoformat(),
        ceiling=ceiling,
        villages=len(chosen),
    )
    await session.flush()
    # Residents hear it through the same outbox as any announcement, each in their language.
    await announcements.queue_event(
        session,
        district.id,
        Template.ROUND_OPENED,
        {"round": name, "deadline": submission_deadline.isoformat()},
        now,
    )
    return await queries.round_view(session, row)


# -- the calendar ------------------------------------------------------------------------------

# In calendar order; each date must come after the one before it (when both are set).
CALENDAR = (
    "submission_deadline",
    "review_start",
    "review_end",
    "clarify_start",
    "clarify_end",
    "final_at",
)
# Who hears that a date moved: the committees, the POKJA, or everyone following the district.
AFFECTS = {
    "submission_deadline": "committees",
    "review_start": "committees",
    "review_end": "committees",
    "clarify_start": "district",
    "clarify_end": "district",
    "final_at": "district",
}
ENDS = {"submission_deadline", "review_end", "clarify_end"}


def check_order(dates: dict[str, datetime | None]) -> None:
    previous: tuple[str, datetime] | None = None
    for name in CALENDAR:
        moment = dates.get(name)
        if moment is None:
            continue
        if previous is not None and moment <= previous[1]:
            raise Invalid(Code.CALENDAR_ORDER, field=name, before=previous[0], when=previous[1])
        previous = (name, moment)


async def set_date(
    session: AsyncSession,
    person: PersonView,
    round_id: int,
    name: str,
    moment: datetime,
    now: datetime,
) -> RoundView:
    """Move one date of the calendar, tell the people it affects; reminders follow by
    themselves because their keys include the deadline."""
    from bot.review import guard_pokja

    row = await session.get(Round, round_id)
    if row is None:
        raise NotFound()
    await guard_pokja(session, person, row.district_id, "round.calendar", f"round:{round_id}", now)
    if name not in CALENDAR:
        raise Invalid(Code.OPTION)
    if moment.tzinfo is None:
        raise Invalid(Code.NAIVE_DEADLINE)
    old = getattr(row, name)
    if moment <= now and moment != old:
        raise Invalid(Code.DATE_PAST)
    if name == "clarify_start" and row.candidates_published_at is not None:
        raise Locked(Code.CANDIDATES_PUBLISHED, when=row.candidates_published_at)
    dates = {field: getattr(row, field) for field in CALENDAR}
    dates[name] = moment
    check_order(dates)
    setattr(row, name, moment)
    audit.record(
        session,
        "round.calendar",
        at=now,
        actor_id=person.id,
        subject=f"round:{round_id}",
        field=name,
        old=old.isoformat() if old else None,
        new=moment.isoformat(),
    )
    await session.flush()
    params = {"round": row.name, "field": name, "old": old, "new": moment}
    if AFFECTS[name] == "district":
        await announcements.queue_event(
            session, row.district_id, Template.CALENDAR_CHANGED, params, now
        )
    else:
        await _tell_committees(session, row, params, now)
    return await queries.round_view(session, row)


async def _tell_committees(
    session: AsyncSession, row: Round, params: dict[str, Any], now: datetime
) -> None:
    from storage import review as store

    people = {
        p.id: (p.id or 0, p.telegram_id, village)
        for p, village in await store.round_pakem(session, row.id or 0)
    }
    for p in await store.district_staff(session, row.district_id):
        people.setdefault(p.id, (p.id or 0, p.telegram_id, None))
    await announcements.notify(
        session, row.district_id, Template.CALENDAR_CHANGED, params, list(people.values()), now
    )


async def set_checklist(
    session: AsyncSession, person: PersonView, round_id: int, items: list[str], now: datetime
) -> RoundView:
    from bot.review import guard_pokja

    row = await session.get(Round, round_id)
    if row is None:
        raise NotFound()
    await guard_pokja(session, person, row.district_id, "round.checklist", f"round:{round_id}", now)
    cleaned = [i.strip()[:80] for i in items if i.strip()]
    if not cleaned:
        raise Invalid(Code.CHECKLIST_EMPTY)
    if len(cleaned) > 15:
        raise Invalid(Code.CHECKLIST_LONG, max=15)
    row.checklist = json.dumps(cleaned, ensure_ascii=False)
    audit.record(
        session,
        "round.checklist",
        at=now,
        actor_id=person.id,
        subject=f"round:{round_id}",
        items=cleaned,
    )
    await session.flush()
    return await queries.round_view(session, row)


async def set_swadaya_min(
    session: AsyncSession, person: PersonView, round_id: int, percent: int, now: datetime
) -> RoundView:
    from bot.review import guard_pokja

    row = await session.get(Round, round_id)
    if row is None:
        raise NotFound()
    await guard_pokja(session, person, row.district_id, "round.swadaya", f"round:{round_id}", now)
    if not 0 <= percent <= 100:
        raise Invalid(Code.PERCENT_RANGE)
    old, row.swadaya_min_pct = row.swadaya_min_pct, percent
    audit.record(
        session,
        "round.swadaya",
        at=now,
        actor_id=person.id,
        subject=f"round:{round_id}",
        old=old,
        new=percent,
    )
    await session.flush()
    return await queries.round_view(session, row)


@dataclass(frozen=True)
class VillageStatus:
    kode: str
    name: str
    members: int
    drafts: int
    submitted: int
    reminders_read: int


async def village_status(
    session: AsyncSession, person: PersonView, round_id: int, now: datetime
) -> list[VillageStatus]:
    """Per village: committee size, drafts, proposals past draft, members who read a reminder."""
    from bot.review import guard_pokja
    from storage import review as store

    round_ = await queries.round_by_id(session, round_id)
    if round_ is None:
        raise NotFound()
    await guard_pokja(
        session, person, round_.district_id, "round.villages", f"round:{round_id}", now
    )
    members: dict[str, int] = {}
    for _, village in await store.round_pakem(session, round_id):
        members[village] = members.get(village, 0) + 1
    drafts, submitted = await store.proposal_counts(session, round_id)
    read: dict[str, int] = {}
    for receipt in await delivery.reminder_receipts(session, round_.district_id):
        if receipt.acked_at is not None and receipt.village_kode:
            read[receipt.village_kode] = read.get(receipt.village_kode, 0) + 1
    names = await store.village_names(
        session, sorted(await queries.round_villages(session, round_id))
    )
    return [
        VillageStatus(
            kode,
            name,
            members.get(kode, 0),
            drafts.get(kode, 0),
            submitted.get(kode, 0),
            read.get(kode, 0),
        )
        for kode, name in names
    ]


def parse_date(text: str, zone: str, *, end_of_day: bool) -> datetime:
    """ "31-12-2026", "31/12/2026 17:00", "2026-12-31" in the district's zone. A bare day means
    its last minute for deadlines and its first for openings."""
    import re
    from datetime import time
    from zoneinfo import ZoneInfo

    cleaned = " ".join((text or "").replace("/", "-").replace(".", "-").split())
    match = re.fullmatch(r"(\d{1,4})-(\d{1,2})-(\d{1,4})(?:\s+(\d{1,2})[:\-](\d{2}))?", cleaned)
    if not match:
        raise Invalid(Code.DATE_FORMAT)
    a, month, c, hour, minute = match.groups()
    year, day = (int(a), int(c)) if len(a) == 4 else (int(c), int(a))
    try:
        if hour is not None:
            moment = datetime(year, int(month), day, int(hour), int(minute))
        else:
            moment = datetime.combine(
                datetime(year, int(month), day).date(), time(23, 59) if end_of_day else time(0, 0)
            )
    except ValueError:
        raise Invalid(Code.DATE_FORMAT) from None
    if not 2000 <= year <= 2100:
        raise Invalid(Code.DATE_FORMAT)
    return moment.replace(tzinfo=ZoneInfo(zone))


async def open_round_by(
    session: AsyncSession,
    person: PersonView,
    district_id: int,
    name: str,
    submission_deadline: datetime,
    now: datetime,
) -> RoundView:
    """Opening a round from the bot: the CLI's rules, with the POKJA's authority checked."""
    from bot.review import guard_pokja

    await guard_pokja(session, person, district_id, "round.open", f"district:{district_id}", now)
    district = await queries.district_by_id(session, district_id)
    if district is None:
        raise NotFound()
    return await open_round(session, district, name, submission_deadline, now, actor_id=person.id)


async def round_by_id(session: AsyncSession, round_id: int) -> RoundView | None:
    """The round with its calendar in its district's zone; None when there is no such round."""
    return await queries.round_by_id(session, round_id)
