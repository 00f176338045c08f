"""POKJA announcements: a draft row written step by step, then queued for every recipient.

The draft is the state (like a proposal): what the author typed survives restarts, and an old
button is judged against the draft's step today.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, is_dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, policy
from bot.errors import Code, Invalid, NotAllowed, NotFound, Stale
from storage import delivery, queries
from storage.delivery import ReminderReceipt
from storage.models import Broadcast
from storage.statuses import AnnouncementStep, BroadcastKind, BroadcastStatus
from storage.views import (
    AttachmentView,
    BroadcastView,
    DeliveryCounts,
    LineView,
    PersonView,
    ProposalView,
    Role,
    RoundView,
    Scope,
    VillageCounts,
)


class Template(StrEnum):
    """What an event tells; its params are a contract between the code that queues it and its
    renderer in `handlers.outbound.EVENTS`, which has one for every member. The values are
    stored with each queued row, so a value is never renamed."""

    ROUND_OPENED = "round_opened"  # to the district's followers
    CALENDAR_CHANGED = "calendar_changed"  # a date of the round moved
    SUBMITTED = "proposal_submitted"  # a proposal (re)submitted, to the rest of its committee
    DECISION = "decision"  # the POKJA's review decision, to the committee
    CANDIDATES = "candidates"  # the candidate winners, opening the clarification window
    WINNERS = "winners"  # the final winners
    OBJECTION_TO_COMMITTEE = "objection_to_committee"
    OBJECTION_TO_POKJA = "objection_to_pokja"
    OBJECTION_REPLIED = "objection_replied"  # the committee's reply, to the POKJA
    OBJECTION_ANSWERED = "objection_answered"  # the POKJA's answer, to the objector
    OBJECTION_OUTCOME = "objection_outcome"  # the POKJA's answer, to the committee
    ROLE_REVOKED = "role_revoked"  # to the person who lost the role
    DELIVERY_REPORT = "delivery_report"  # an announcement's figures, to its author


BODY_MAX = 3500
CAPTION_MAX = 900  # Telegram allows 1,024; the translated header takes the rest
MAX_CODES = 100


@dataclass(frozen=True)
class Preview:
    broadcast: BroadcastView
    recipients: int


def pokja_districts(person: PersonView) -> list[int]:
    return sorted({g.district_id for g in person.grants if g.role in (Role.POKJA, Role.ADMIN)})


async def _draft(session: AsyncSession, person: PersonView, broadcast_id: int) -> Broadcast:
    row = await delivery.broadcast_row(session, broadcast_id)
    if row is None or row.kind != BroadcastKind.ANNOUNCEMENT:
        raise NotFound(Code.ANNOUNCEMENT)
    if row.author_id != person.id:
        raise NotAllowed(Code.NOT_YOURS)
    policy.require_pokja(person, row.district_id)
    if row.status != BroadcastStatus.DRAFT:
        raise Stale(Code.ANNOUNCEMENT_SENT)
    return row


async def _view(session: AsyncSession, row: Broadcast) -> BroadcastView:
    await session.flush()
    assert row.id is not None
    view = await delivery.broadcast_view(session, row.id)
    assert view is not None
    return view


async def start(
    session: AsyncSession, person: PersonView, district_id: int | None, now: datetime
) -> BroadcastView:
    """Resume the author's draft, or begin one in their (only, or chosen) district."""
    policy.require_pokja_somewhere(person)
    existing = await delivery.draft_of(session, person.id)
    if existing is not None and district_id in (None, existing.district_id):
        return await _view(session, existing)
    districts = pokja_districts(person)
    if district_id is None:
        if len(districts) != 1:
            raise Invalid(Code.CHOOSE_DISTRICT)
        district_id = districts[0]
    policy.require_pokja(person, district_id)
    if existing is not None:
        existing.status = BroadcastStatus.CANCELLED
    row = Broadcast(
        district_id=district_id,
        kind=BroadcastKind.ANNOUNCEMENT,
        author_id=person.id,
        created_at=now,
    )
    session.add(row)
    return await _view(session, row)


async def current(session: AsyncSession, person: PersonView) -> BroadcastView | None:
    row = await delivery.draft_of(session, person.id)
    return await _view(session, row) if row else None


async def set_body(
    session: AsyncSession,
    person: PersonView,
    broadcast_id: int,
    text: str | None,
    media_kind: str | None = None,
    media_file_id: str | None = None,
) -> BroadcastView:
    row = await _draft(session, person, broadcast_id)
    if row.step != AnnouncementStep.BODY:
        raise Stale(Code.STEP)
    text = (text or "").strip()
    if not text and media_kind is None:
        raise Invalid(Code.ANNOUNCEMENT_EMPTY)
    limit = CAPTION_MAX if media_kind else BODY_MAX
    if len(text) > limit:
        raise Invalid(Code.ANNOUNCEMENT_TOO_LONG, limit=limit, length=len(text))
    row.body = text or None
    row.media_kind = media_kind
    row.media_file_id = media_file_id
    row.step = AnnouncementStep.REVIEW if row.audience != "{}" else AnnouncementStep.AUDIENCE
    return await _view(session, row)


async def edit_body(session: AsyncSession, person: PersonView, broadcast_id: int) -> BroadcastView:
    row = await _draft(session, person, broadcast_id)
    row.step = AnnouncementStep.BODY
    return await _view(session, row)


async def choose_scope(
    session: AsyncSession, person: PersonView, broadcast_id: int, scope: Scope
) -> BroadcastView:
    """District and role audiences are complete at once; places are picked one by one next."""
    row = await _draft(session, person, broadcast_id)
    if row.step not in (AnnouncementStep.AUDIENCE, AnnouncementStep.REVIEW):
        raise Stale(Code.STEP)
    previous = json.loads(row.audience or "{}")
    codes = previous.get("codes", []) if previous.get("scope") == scope.value else []
    row.audience = json.dumps({"scope": scope.value, "codes": codes})
    row.step = (
        AnnouncementStep.PICK
        if scope in (Scope.KECAMATAN, Scope.VILLAGES)
        else AnnouncementStep.REVIEW
    )
    return await _view(session, row)


async def edit_audience(
    session: AsyncSession, person: PersonView, broadcast_id: int
) -> BroadcastView:
    row = await _draft(session, person, broadcast_id)
    if row.body is None and row.media_kind is None:
        raise Stale(Code.STEP)
    row.step = AnnouncementStep.AUDIENCE
    return await _view(session, row)


def place_levels(scope: Scope) -> tuple[str, ...]:
    """The region levels a place picked for this audience must have."""
    if scope == Scope.KECAMATAN:
        return ("kecamatan",)
    if scope == Scope.VILLAGES:
        return queries.VILLAGE_LEVELS
    return ()


async def toggle_place(
    session: AsyncSession, person: PersonView, broadcast_id: int, kode: str
) -> BroadcastView:
    row = await _draft(session, person, broadcast_id)
    audience: dict[str, Any] = json.loads(row.audience or "{}")
    scope = audience.get("scope")
    if row.step != AnnouncementStep.PICK or scope not in (
        Scope.KECAMATAN.value,
        Scope.VILLAGES.value,
    ):
        raise Stale(Code.STEP)
    region = await delivery.place_in_district(
        session, kode, row.district_id, place_levels(Scope(scope))
    )
    if region is None:
        raise NotFound(Code.VILLAGE)
    codes: list[str] = list(audience.get("codes", []))
    if kode in codes:
        codes.remove(kode)
    elif len(codes) >= MAX_CODES:
        raise Invalid(Code.TOO_MANY_PLACES, limit=MAX_CODES)
    else:
        codes.append(kode)
    row.audience = json.dumps({"scope": scope, "codes": sorted(codes)})
    return await _view(session, row)


async def finish_picking(
    session: AsyncSession, person: PersonView, broadcast_id: int
) -> BroadcastView:
    row = await _draft(session, person, broadcast_id)
    if row.step != AnnouncementStep.PICK:
        raise Stale(Code.STEP)
    if not json.loads(row.audience or "{}").get("codes"):
        raise Invalid(Code.NO_PLACES)
    row.step = AnnouncementStep.REVIEW
    return await _view(session, row)


async def preview(session: AsyncSession, person: PersonView, broadcast_id: int) -> Preview:
    row = await _draft(session, person, broadcast_id)
    view = await _view(session, row)
    if view.scope is None:
        raise Stale(Code.STEP)
    count = await delivery.count_audience(session, view.district_id, view.scope, view.codes)
    return Preview(view, count)


async def confirm(
    session: AsyncSession,
    person: PersonView,
    broadcast_id: int,
    now: datetime,
    progress: tuple[int, int] | None = None,
) -> BroadcastView:
    """Queue every recipient in this transaction; the sender delivers after the commit.

    A second tap on "send" finds the row no longer a draft (Stale), so nothing is queued twice.
    """
    row = await delivery.broadcast_row(session, broadcast_id, lock=True)
    if row is None or row.kind != BroadcastKind.ANNOUNCEMENT:
        raise NotFound(Code.ANNOUNCEMENT)
    row = await _draft(session, person, broadcast_id)
    if row.step != AnnouncementStep.REVIEW:
        raise Stale(Code.STEP)
    audience = json.loads(row.audience or "{}")
    scope = Scope(audience["scope"])
    codes: Sequence[str] = audience.get("codes", [])
    assert row.id is not None
    row.status = BroadcastStatus.QUEUED
    row.step = AnnouncementStep.QUEUED
    row.queued_at = now
    if progress is not None:
        row.progress_chat_id, row.progress_message_id = progress
    await session.flush()
    row.total = await delivery.queue_audience(session, row.id, row.district_id, scope, codes, now)
    if row.total == 0:
        row.status = BroadcastStatus.DONE
        row.finished_at = now
    audit.record(
        session,
        "announcement.queue",
        at=now,
        actor_id=person.id,
        subject=f"broadcast:{row.id}",
        scope=scope.value,
        codes=list(codes),
        recipients=row.total,
    )
    return await _view(session, row)


async def cancel(session: AsyncSession, person: PersonView, broadcast_id: int) -> None:
    row = await _draft(session, person, broadcast_id)
    row.status = BroadcastStatus.CANCELLED


async def history(session: AsyncSession, person: PersonView) -> list[BroadcastView]:
    """POKJA see their districts' announcements; anyone else what reached them."""
    districts = pokja_districts(person)
    if districts:
        return await delivery.recent_broadcasts(session, districts)
    return await delivery.received_broadcasts(session, person.id)


async def delivery_counts(session: AsyncSession, broadcast_id: int) -> DeliveryCounts:
    """How many copies of the announcement are queued, sent, failed: its progress and history."""
    return await delivery.delivery_counts(session, broadcast_id)


async def reminder_receipts(session: AsyncSession, district_id: int) -> list[ReminderReceipt]:
    """Each committee member's latest reminder in the district: delivered, acknowledged."""
    return await delivery.reminder_receipts(session, district_id)


async def _event_row(
    session: AsyncSession,
    district_id: int,
    template: Template,
    params: dict[str, Any],
    audience: dict[str, Any],
    now: datetime,
    kind: BroadcastKind = BroadcastKind.EVENT,
) -> Broadcast:
    row = Broadcast(
        district_id=district_id,
        kind=kind,
        status=BroadcastStatus.QUEUED,
        step=AnnouncementStep.QUEUED,
        template=template.value,
        params=json.dumps(params, ensure_ascii=False, default=str),
        audience=json.dumps(audience),
        created_at=now,
        queued_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def queue_event(
    session: AsyncSession,
    district_id: int,
    template: Template,
    params: dict[str, Any],
    now: datetime,
    *,
    scope: Scope = Scope.DISTRICT,
    codes: Sequence[str] = (),
) -> int:
    """A domain event told to an audience, rendered later in each recipient's language."""
    row = await _event_row(
        session, district_id, template, params, {"scope": scope.value, "codes": list(codes)}, now
    )
    assert row.id is not None
    row.total = await delivery.queue_audience(session, row.id, district_id, scope, codes, now)
    if row.total == 0:
        row.status = BroadcastStatus.DONE
        row.finished_at = now
    return row.id


async def notify(
    session: AsyncSession,
    district_id: int,
    template: Template,
    params: dict[str, Any],
    recipients: Sequence[tuple[int, int, str | None]],
    now: datetime,
) -> int:
    """A domain event told to named people (person_id, chat_id, village) through the outbox.

    Unlike announcements, these are about the person's own work and ignore /berhenti.
    """
    if not recipients:
        return 0
    row = await _event_row(session, district_id, template, params, {"scope": "people"}, now)
    assert row.id is not None
    row.total = await delivery.queue_people(
        session, row.id, [(pid, chat, village, None) for pid, chat, village in recipients], now
    )
    return row.total


async def extend_event(
    session: AsyncSession, broadcast_id: int, district_id: int, scope: Scope, now: datetime
) -> int:
    """Add a further audience to a queued event; people already in it are not queued twice."""
    row = await session.get(Broadcast, broadcast_id)
    assert row is not None
    row.total = await delivery.queue_audience(session, broadcast_id, district_id, scope, (), now)
    if row.total and row.status == BroadcastStatus.DONE:
        row.status, row.finished_at = BroadcastStatus.QUEUED, None
    return row.total


async def finish(session: AsyncSession, broadcast: BroadcastView, now: datetime) -> bool:
    """Close a broadcast whose every row is settled, once (false when another sender did).

    The author of an announcement is then sent its delivery report through the outbox: a
    message to one person, with the same guarantees as any other (retried after a fault,
    sent once), rendered when it is sent in the author's language.
    """
    if not await delivery.finish_broadcast(session, broadcast.id, now):
        return False
    if broadcast.kind != BroadcastKind.ANNOUNCEMENT or broadcast.author_id is None:
        return True
    author = await queries.person_view_by_id(session, broadcast.author_id)
    if author is None:
        return True
    counts = await delivery.delivery_counts(session, broadcast.id)
    villages = await delivery.counts_by_village(session, broadcast.id)
    row = await _event_row(
        session,
        broadcast.district_id,
        Template.DELIVERY_REPORT,
        report_params(broadcast.id, counts, villages),
        {"scope": "people"},
        now,
        kind=BroadcastKind.REPORT,
    )
    assert row.id is not None
    row.total = await delivery.queue_people(
        session, row.id, [(author.id, author.telegram_id, None, None)], now
    )
    return True


def report_params(
    announcement_id: int, counts: DeliveryCounts, villages: Sequence[VillageCounts]
) -> dict[str, Any]:
    """The final figures, kept with the report so that it can be rendered (and re-sent)
    later without counting again."""
    return {
        "announcement": announcement_id,
        "counts": asdict(counts),
        "villages": [
            {"kode": v.kode, "name": v.name, "counts": asdict(v.counts)} for v in villages
        ],
    }


def report_figures(
    params: dict[str, Any],
) -> tuple[int, DeliveryCounts, list[VillageCounts]]:
    """The figures `report_params` kept: (announcement id, counts, counts per village)."""
    villages = [
        VillageCounts(v.get("kode"), v.get("name"), DeliveryCounts(**v["counts"]))
        for v in params.get("villages", [])
    ]
    return int(params["announcement"]), DeliveryCounts(**params["counts"]), villages


# -- submission confirmations ------------------------------------------------------------------


async def notify_submission(
    session: AsyncSession,
    view: ProposalView,
    submitter: PersonView,
    committee: Sequence[tuple[int, int]],
    now: datetime,
) -> int:
    """Queue the whole summary for every other committee member (person_id, chat_id), in the
    submission's own transaction: a crash after the commit loses none of them.

    The proposal is kept as it was submitted, so a copy sent late (after a fault, a restart or
    a POKJA decision in between) still shows what the committee submitted.
    """
    others = [(pid, chat, view.village_kode) for pid, chat in committee if pid != submitter.id]
    params = submission_params(view, submitter.full_name)
    return await notify(session, view.round.district_id, Template.SUBMITTED, params, others, now)


def submission_params(view: ProposalView, submitter: str) -> dict[str, Any]:
    """What a confirmation is rendered from: the proposal's id and the proposal as submitted."""
    return {"proposal": view.id, "submitter": submitter, "view": _plain(asdict(view))}


def submitted_view(params: dict[str, Any]) -> ProposalView:
    """The proposal that `notify_submission` kept."""
    view = _revive(ProposalView, params["view"])
    assert isinstance(view, ProposalView)
    return view


def _plain(value: Any) -> Any:
    """JSON-ready, with times as ISO strings that keep their offset."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


_NESTED = {"RoundView": RoundView, "LineView": LineView, "AttachmentView": AttachmentView}


def _revive(cls: type, data: dict[str, Any]) -> object:
    """A read model back from `_plain`, guided by its field types (views are plain values)."""
    hints = typing.get_type_hints(cls, localns=_NESTED)
    values = {}
    for f in fields(cls):
        if f.name in data:
            values[f.name] = _value(hints[f.name], data[f.name])
    return cls(**values)


def _value(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _value(inner[0], value) if len(inner) == 1 else value
    if origin is not None and isinstance(value, list):
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        return tuple(_value(args[0], v) for v in value) if args else tuple(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if isinstance(hint, type) and is_dataclass(hint):
        return _revive(hint, value)
    return value
