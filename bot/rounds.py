"""Opening funding rounds."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import announcements, audit
from bot.errors import Invalid
from bot.money import PROPOSAL_CAP
from bot.reminders import parse_offsets
from storage import queries
from storage.models import ProposalCounter, Round, RoundVillage
from storage.views import DistrictView, RoundView


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
        raise Invalid("round_name")
    if submission_deadline.tzinfo is None:
        raise Invalid("naive_deadline")
    if submission_deadline <= now:
        raise Invalid("deadline_past")
    if ceiling is not None and not (0 < ceiling <= PROPOSAL_CAP):
        raise Invalid("ceiling_range")
    if reminder_offsets is not None:
        reminder_offsets = ",".join(
            f"{int(o.total_seconds() // 60)}m" for o in parse_offsets(reminder_offsets)
        )
    known = await queries.villages_of(session, district.id)
    if not known:
        raise Invalid("no_villages")
    if villages:
        unknown = sorted(set(villages) - set(known))
        if unknown:
            raise Invalid("unknown_villages", kode=", ".join(unknown))
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
        "round_opened",
        {"round": name, "deadline": submission_deadline.isoformat()},
        now,
    )
    return await queries.round_view(session, row)
