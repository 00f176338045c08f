"""Deadline reminders, derived from the database at every tick.

The scheduler is only a clock: each tick recomputes what is due from the rounds' deadlines, so
a changed deadline, a restart or a second instance needs no bookkeeping of scheduled jobs. A
(reminder, person) mark with a unique key is what makes each reminder go out once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.errors import Code, Invalid
from storage import delivery, queries
from storage.models import Broadcast
from storage.statuses import AnnouncementStep, BroadcastKind, BroadcastStatus
from storage.views import PersonView, RoundView

DEFAULT_OFFSETS = "7d,3d,1d,3h"
# A revision runs for days, not weeks: the day before and the last hours.
REVISION_OFFSETS = "1d,3h"
_OFFSET_RE = re.compile(r"^(\d{1,6})([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_offsets(text: str) -> list[timedelta]:
    """ "7d,3d,1d,3h" -> lead times, longest first. Invalid on anything else."""
    offsets: set[timedelta] = set()
    for token in text.replace(" ", "").lower().split(","):
        match = _OFFSET_RE.match(token)
        if not match:
            raise Invalid(Code.REMINDER_OFFSETS, value=text)
        offset = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        if not timedelta(minutes=1) <= offset <= timedelta(days=60):
            raise Invalid(Code.REMINDER_OFFSETS, value=text)
        offsets.add(offset)
    if not offsets:
        raise Invalid(Code.REMINDER_OFFSETS, value=text)
    return sorted(offsets, reverse=True)


def parse_quiet_hours(text: str) -> tuple[time, time]:
    """ "21-06" or "21:00-06:00" -> (start, end) in the district's zone."""
    try:
        start, end = (part.strip() for part in text.split("-"))
        parsed = tuple(
            time(int(p.split(":")[0]), int(p.split(":")[1]) if ":" in p else 0)
            for p in (start, end)
        )
    except (ValueError, IndexError):
        raise Invalid(Code.QUIET_HOURS, value=text) from None
    return parsed[0], parsed[1]


@dataclass(frozen=True)
class Quiet:
    start: time
    end: time
    zone: ZoneInfo

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_end(self, moment: datetime) -> datetime:
        """The first moment at or after `moment` outside quiet hours."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(self.zone)
        end = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        if end <= local:
            end += timedelta(days=1)
        return end

    def next_morning(self, moment: datetime) -> datetime:
        """The end of the quiet hours that close the local day of `moment`."""
        local = moment.astimezone(self.zone)
        end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.zone)
        if self.start > self.end and local.time() < self.end:
            end -= timedelta(days=1)
        return end


@dataclass(frozen=True)
class Due:
    """The reminder of one deadline that is due now: the shortest lead time already reached."""

    key: str
    round: RoundView
    kind: str
    deadline: datetime
    offset: timedelta
    number: str | None = None


def due_reminder(
    round_: RoundView,
    kind: str,
    deadline: datetime,
    offsets: list[timedelta],
    now: datetime,
    number: str | None = None,
) -> Due | None:
    """Missed reminders are not sent one by one: only the latest one reached counts, and none
    once the deadline is past."""
    if deadline <= now:
        return None
    reached = [o for o in offsets if deadline - o <= now]
    if not reached:
        return None
    offset = min(reached)
    stamp = deadline.strftime("%Y%m%d%H%M")
    key = f"r{round_.id}:{kind}:{stamp}:{int(offset.total_seconds() // 60)}m"
    return Due(key, round_, kind, deadline, offset, number)


@dataclass(frozen=True)
class Recipient:
    person_id: int
    chat_id: int
    village_kode: str
    village_name: str


async def tick(
    session: AsyncSession,
    now: datetime,
    *,
    default_offsets: str = DEFAULT_OFFSETS,
    quiet_hours: str = "21-06",
) -> int:
    """Queue every reminder due now; returns the number of messages queued."""
    queued = 0
    start, end = parse_quiet_hours(quiet_hours)
    for district in await queries.districts(session):
        quiet = Quiet(start, end, ZoneInfo(district.timezone))
        day = now.astimezone(quiet.zone).date().isoformat()
        items: dict[int, list[tuple[Due, Recipient, int]]] = defaultdict(list)
        chats: dict[int, Recipient] = {}
        for due, recipients in await _due(session, district.id, now, default_offsets):
            if quiet.contains(now) and due.deadline > quiet.next_end(now):
                continue  # waits for the morning; the deadline is still ahead then
            done = await delivery.marked(session, [due.key])
            for recipient, drafts in recipients:
                if (due.key, recipient.person_id) in done:
                    continue
                items[recipient.person_id].append((due, recipient, drafts))
                chats[recipient.person_id] = recipient
        if not items:
            continue
        already = await delivery.reminded_on(session, list(items), day)
        morning = quiet.next_morning(now)
        for person_id in list(items):
            if person_id in already:
                # One message a day: what can wait for tomorrow morning waits.
                urgent = [i for i in items[person_id] if i[0].deadline <= morning]
                if urgent:
                    items[person_id] = urgent
                else:
                    del items[person_id]
        if not items:
            continue
        won = await delivery.insert_marks(
            session, [(i[0].key, p) for p, lst in items.items() for i in lst], day, now
        )
        bundles = {p: [i for i in lst if (i[0].key, p) in won] for p, lst in items.items()}
        bundles = {p: lst for p, lst in bundles.items() if lst}
        if not bundles:
            continue
        row = Broadcast(
            district_id=district.id,
            kind=BroadcastKind.REMINDER,
            status=BroadcastStatus.QUEUED,
            step=AnnouncementStep.QUEUED,
            created_at=now,
            queued_at=now,
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        row.total = await delivery.queue_people(
            session,
            row.id,
            [
                (
                    p,
                    chats[p].chat_id,
                    chats[p].village_kode,
                    {"items": [_item(*i, now) for i in lst]},
                )
                for p, lst in sorted(bundles.items())
            ],
            now,
        )
        await delivery.attach_marks(session, won, row.id)
        queued += row.total
    return queued


async def _due(
    session: AsyncSession, district_id: int, now: datetime, default_offsets: str
) -> list[tuple[Due, list[tuple[Recipient, int]]]]:
    """Every deadline with a reminder due now: rounds' submission deadlines for committees that
    have not submitted, and revision deadlines for the committee of each revised proposal."""
    found: list[tuple[Due, list[tuple[Recipient, int]]]] = []
    for round_ in await queries.open_rounds(session, district_id, now):
        offsets = parse_offsets(round_.reminder_offsets or default_offsets)
        due = due_reminder(round_, "submission", round_.submission_deadline, offsets, now)
        if due is not None:
            found.append((due, await _committees_to_remind(session, round_)))
    revision_offsets = parse_offsets(REVISION_OFFSETS)
    for proposal in await delivery.revisions_open(session, district_id, now):
        round_ = await queries.round_by_id(session, proposal.round_id)
        assert round_ is not None and proposal.revision_deadline is not None
        due = due_reminder(
            round_,
            f"rev{proposal.id}",
            proposal.revision_deadline,
            revision_offsets,
            now,
            proposal.number,
        )
        if due is None:
            continue
        name, _ = await queries.region_names(session, proposal.village_kode)
        members = await queries.pakem_members(session, round_.id, proposal.village_kode)
        found.append(
            (
                due,
                [
                    (Recipient(m.id or 0, m.telegram_id, proposal.village_kode, name), 0)
                    for m in members
                ],
            )
        )
    return found


def _item(due: Due, recipient: Recipient, drafts: int, now: datetime) -> dict[str, object]:
    return {
        "round": due.round.name,
        "kind": "revision" if due.kind.startswith("rev") else due.kind,
        "number": due.number,
        "deadline": due.deadline.isoformat(),
        "timezone": due.round.timezone,
        "village": recipient.village_name,
        "drafts": drafts,
        "left_minutes": int((due.deadline - now).total_seconds() // 60),
    }


async def _committees_to_remind(
    session: AsyncSession, round_: RoundView
) -> list[tuple[Recipient, int]]:
    """PAKEM members of villages that have not submitted, or still hold unsubmitted drafts."""
    rows = await delivery.committee_progress(session, round_.id)
    return [
        (Recipient(r.person_id, r.chat_id, r.village_kode, r.village_name), r.drafts)
        for r in rows
        if r.submitted == 0 or r.drafts > 0
    ]


async def acknowledge(
    session: AsyncSession, person: PersonView, outbox_id: int, now: datetime
) -> bool | None:
    """ "Read" under a reminder. None when the reminder was not sent to this person."""
    result = await delivery.acknowledge(session, outbox_id, person.id, now)
    if result:
        audit.record(
            session, "reminder.ack", at=now, actor_id=person.id, subject=f"outbox:{outbox_id}"
        )
    return result


def item_payload(payload: dict[str, object] | None) -> list[dict[str, object]]:
    if not payload:
        return []
    items = payload.get("items")
    return list(items) if isinstance(items, list) else []


__all__ = [
    "DEFAULT_OFFSETS",
    "Due",
    "Quiet",
    "acknowledge",
    "due_reminder",
    "item_payload",
    "parse_offsets",
    "parse_quiet_hours",
    "tick",
]
