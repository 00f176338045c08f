"""POKJA review (PAKET step 7): the queue, the feasibility checklist, field verification,
decisions and the proposal's timeline.

Every function takes the acting person and checks the district at the time of the action, so a
forged button for another district's proposal is refused here, not in the handler. Refusals are
written to the audit log (`access.denied`) before they are raised.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import announcements, audit, policy
from bot.announcements import Template
from bot.errors import Code, DomainError, Invalid, Locked, NotAllowed, NotFound, Stale
from storage import queries
from storage import review as store
from storage import roles as roles_store
from storage.models import ChecklistMark, Evidence, Person, Proposal, Verification
from storage.review import ObjectionStatus, QueueItem
from storage.statuses import PAST_DRAFT
from storage.views import PersonView, ProposalView, RoundView

log = logging.getLogger(__name__)

DEFAULT_CHECKLIST = (
    "in_round",
    "poor",
    "ceiling",
    "swadaya",
    "documents",
    "technical",
    "maintenance",
)
MARKS = ("yes", "no", "na")
NOTE_MAX = 1000
REASON_MIN = 10
REASON_MAX = 2000
VERIFICATION_NOTES_MAX = 3000
MAX_VERIFICATION_FILES = 10
PAGE_SIZE = 8
REVISION_DAYS = (3, 7, 14)
DENIED_PER_HOUR = 10
DENIED_WINDOW = timedelta(hours=1)
QUEUE_STATUSES = (
    policy.SUBMITTED,
    policy.REVISION,
    policy.CANDIDATE,
    policy.REJECTED,
    policy.WINNER,
)


async def deny(
    session: AsyncSession,
    person: PersonView,
    exc: DomainError,
    action: str,
    subject: str,
    now: datetime,
) -> DomainError:
    """Log a refused attempt; the caller raises what this returns.

    A flood of forged presses must not fill the log: at most DENIED_PER_HOUR rows per person
    in any hour. The first refusal is always written; the last one written says that later
    ones in that hour are only counted in the application log."""
    logged = await roles_store.audit_count_since(
        session, "access.denied", person.id, now - DENIED_WINDOW
    )
    if logged >= DENIED_PER_HOUR:
        log.info("access.denied not logged (bound reached): person %s %s", person.id, action)
        return exc
    detail: dict[str, Any] = {"attempted": action, "reason": exc.code.value}
    if logged + 1 == DENIED_PER_HOUR:
        detail["bound_reached"] = True
    audit.record(session, "access.denied", at=now, actor_id=person.id, subject=subject, **detail)
    return exc


async def guard_pokja(
    session: AsyncSession,
    person: PersonView,
    district_id: int,
    action: str,
    subject: str,
    now: datetime,
    *,
    admin: bool = False,
) -> bool:
    """True, or NotAllowed after the attempt is logged (handlers stop on either answer)."""
    try:
        if admin:
            policy.require_admin(person, district_id)
        else:
            policy.require_pokja(person, district_id)
    except NotAllowed as exc:
        raise await deny(session, person, exc, action, subject, now) from None
    return True


async def guard_desk(session: AsyncSession, person: PersonView, action: str, now: datetime) -> bool:
    """Opening a POKJA tool at all; each action then checks the district it touches."""
    try:
        policy.require_pokja_somewhere(person)
    except NotAllowed as exc:
        raise await deny(session, person, exc, action, "", now) from None
    return True


def staff_districts(person: PersonView) -> list[int]:
    return sorted({g.district_id for g in person.grants if g.role in ("pokja", "admin")})


@dataclass(frozen=True)
class Loaded:
    row: Proposal
    view: ProposalView


async def load(
    session: AsyncSession, person: PersonView, proposal_id: int, action: str, now: datetime
) -> Loaded:
    """A proposal the person may review; drafts are the committee's own until submitted."""
    row = await session.get(Proposal, proposal_id)
    if row is None or row.status not in PAST_DRAFT:
        raise NotFound()
    round_ = await queries.round_by_id(session, row.round_id)
    assert round_ is not None
    await guard_pokja(session, person, round_.district_id, action, f"proposal:{proposal_id}", now)
    return Loaded(row, await queries.proposal_view(session, row))


# -- the queue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    village: str | None = None
    status: str | None = None
    activity: str | None = None


@dataclass(frozen=True)
class QueuePage:
    round: RoundView
    filter: QueueFilter
    items: list[QueueItem]
    total: int
    page: int
    pages: int
    villages: list[tuple[str, str]]


async def review_rounds(
    session: AsyncSession, person: PersonView, now: datetime, action: str = "review.queue"
) -> list[RoundView]:
    """Rounds of the districts this person works for, newest first."""
    await guard_desk(session, person, action, now)
    rounds: list[RoundView] = []
    for district_id in staff_districts(person):
        rounds.extend(await queries.rounds_of(session, district_id))
    return sorted(rounds, key=lambda r: r.submission_deadline, reverse=True)


async def queue(
    session: AsyncSession,
    person: PersonView,
    round_id: int,
    flt: QueueFilter,
    page: int,
    now: datetime,
) -> QueuePage:
    round_ = await queries.round_by_id(session, round_id)
    if round_ is None:
        raise NotFound()
    await guard_pokja(session, person, round_.district_id, "review.queue", f"round:{round_id}", now)
    if flt.status and flt.status not in QUEUE_STATUSES:
        flt = QueueFilter(flt.village, None, flt.activity)
    items, total = await store.review_queue(
        session,
        round_id,
        village=flt.village,
        status=flt.status,
        activity=flt.activity,
        offset=max(page, 0) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    pages = max(1, -(-total // PAGE_SIZE))
    return QueuePage(
        round_,
        flt,
        items,
        total,
        min(max(page, 0), pages - 1),
        pages,
        await store.villages_with_proposals(session, round_id),
    )


# -- one proposal ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckItem:
    code: str
    value: str | None
    note: str | None
    hint: tuple[int, ...] | None


@dataclass(frozen=True)
class VerificationView:
    id: int
    verifier: str
    visited_at: datetime
    notes: str | None
    latitude: float | None
    longitude: float | None
    files: list[Evidence]


@dataclass(frozen=True)
class ObjectionLine:
    id: int
    number: str
    category: str
    status: str
    outcome: str | None
    replied: bool


@dataclass(frozen=True)
class Dossier:
    """Everything a reviewer needs in one place."""

    proposal: ProposalView
    checklist: list[CheckItem]
    verifications: list[VerificationView]
    objections: list[ObjectionLine]

    @property
    def score(self) -> tuple[int, int]:
        return checklist_score(self.checklist)

    @property
    def open_objections(self) -> list[str]:
        return [o.number for o in self.objections if o.status == ObjectionStatus.FILED]


def checklist_items(round_: RoundView) -> tuple[str, ...]:
    return round_.checklist or DEFAULT_CHECKLIST


def checklist_score(items: list[CheckItem]) -> tuple[int, int]:
    """(yes, applicable): n/a items count neither way."""
    marked = [i for i in items if i.value in ("yes", "no")]
    return sum(1 for i in marked if i.value == "yes"), len(marked)


def hints(view: ProposalView) -> dict[str, tuple[int, ...]]:
    """Facts the bot can check itself, shown next to the items a reviewer marks: for the
    ceiling (1 when over), the self-help share and minimum, the attachments, the poor
    households of all households."""
    facts: dict[str, tuple[int, ...]] = {
        "ceiling": (1 if policy.over_ceiling(view) else 0,),
        "swadaya": (swadaya_share(view), view.round.swadaya_min_pct),
        "documents": (len(view.attachments),),
    }
    if view.households:
        facts["poor"] = (view.poor_households or 0, view.households)
    return facts


def swadaya_share(view: ProposalView) -> int:
    total = view.total
    return (view.totals_by_source().get("swadaya", 0) * 100 // total) if total else 0


async def dossier(
    session: AsyncSession, person: PersonView, proposal_id: int, now: datetime
) -> Dossier:
    loaded = await load(session, person, proposal_id, "review.open", now)
    return await assemble(session, loaded.view)


async def assemble(session: AsyncSession, view: ProposalView) -> Dossier:
    marks = await store.checklist_marks(session, view.id)
    facts = hints(view)
    items = [
        CheckItem(
            code,
            marks[code].value if code in marks else None,
            marks[code].note if code in marks else None,
            facts.get(code),
        )
        for code in checklist_items(view.round)
    ]
    visits = await store.verifications(session, view.id)
    names = await store.person_names(session, [v.verifier_id for v in visits])
    verifications = [
        VerificationView(
            v.id or 0,
            names.get(v.verifier_id, "?"),
            v.visited_at,
            v.notes,
            v.latitude,
            v.longitude,
            await store.evidence(session, "verification", v.id or 0),
        )
        for v in visits
    ]
    objections = [
        ObjectionLine(
            o.id or 0,
            o.number or "",
            o.category or "other",
            o.status,
            o.outcome,
            o.reply_at is not None,
        )
        for o in await store.objections_of_proposal(session, view.id)
    ]
    return Dossier(view, items, verifications, objections)


async def mark(
    session: AsyncSession,
    person: PersonView,
    proposal_id: int,
    item: str,
    value: str,
    note: str | None,
    now: datetime,
) -> Dossier:
    loaded = await load(session, person, proposal_id, "review.checklist", now)
    if item not in checklist_items(loaded.view.round):
        raise Invalid(Code.OPTION)
    if value not in MARKS:
        raise Invalid(Code.OPTION)
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise Invalid(Code.TOO_LONG, max=NOTE_MAX, length=len(note))
    existing = await session.get(ChecklistMark, (proposal_id, item))
    if existing is None:
        session.add(
            ChecklistMark(
                proposal_id=proposal_id, item=item, value=value, note=note, by_id=person.id, at=now
            )
        )
    else:
        existing.value, existing.note, existing.by_id, existing.at = value, note, person.id, now
    audit.record(
        session,
        "review.checklist",
        at=now,
        actor_id=person.id,
        subject=f"proposal:{proposal_id}",
        item=item,
        value=value,
        note=note,
    )
    await session.flush()
    return await assemble(session, loaded.view)


# -- field verification ------------------------------------------------------------------------


async def start_verification(
    session: AsyncSession, person: PersonView, proposal_id: int, now: datetime
) -> Verification:
    """One open visit record per verifier: starting again resumes it (or moves it here)."""
    loaded = await load(session, person, proposal_id, "review.verify", now)
    row = await store.draft_verification(session, person.id)
    if row is None:
        row = Verification(
            proposal_id=loaded.view.id, verifier_id=person.id, visited_at=now, created_at=now
        )
        session.add(row)
    elif row.proposal_id != proposal_id and not row.notes:
        row.proposal_id = proposal_id
    await session.flush()
    return row


async def _own_draft(
    session: AsyncSession, person: PersonView, verification_id: int, now: datetime
) -> Verification:
    row = await session.get(Verification, verification_id)
    if row is None or row.status != "draft":
        raise NotFound(Code.VERIFICATION)
    if row.verifier_id != person.id:
        raise NotAllowed(Code.NOT_YOURS)
    await load(session, person, row.proposal_id, "review.verify", now)
    return row


async def verification_note(
    session: AsyncSession, person: PersonView, verification_id: int, text: str, now: datetime
) -> Verification:
    row = await _own_draft(session, person, verification_id, now)
    text = text.strip()
    notes = f"{row.notes}\n{text}" if row.notes else text
    if len(notes) > VERIFICATION_NOTES_MAX:
        raise Invalid(Code.TOO_LONG, max=VERIFICATION_NOTES_MAX, length=len(notes))
    row.notes = notes
    await session.flush()
    return row


async def verification_date(
    session: AsyncSession, person: PersonView, verification_id: int, day: datetime, now: datetime
) -> Verification:
    row = await _own_draft(session, person, verification_id, now)
    if day > now + timedelta(days=1):
        raise Invalid(Code.VISIT_IN_FUTURE)
    row.visited_at = day
    await session.flush()
    return row


async def verification_location(
    session: AsyncSession,
    person: PersonView,
    verification_id: int,
    latitude: float,
    longitude: float,
    now: datetime,
) -> Verification:
    row = await _own_draft(session, person, verification_id, now)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise Invalid(Code.GEO_RANGE)
    row.latitude, row.longitude = latitude, longitude
    await session.flush()
    return row


async def verification_file(
    session: AsyncSession,
    person: PersonView,
    verification_id: int,
    kind: str,
    file_id: str,
    file_unique_id: str,
    now: datetime,
    file_name: str | None = None,
) -> int:
    row = await _own_draft(session, person, verification_id, now)
    count = await store.count_evidence(session, "verification", row.id or 0)
    if count >= MAX_VERIFICATION_FILES:
        raise Invalid(Code.ATTACHMENTS_FULL, max=MAX_VERIFICATION_FILES)
    await store.add_evidence(
        session, "verification", row.id or 0, kind, file_id, file_unique_id, file_name, now
    )
    return count + 1


async def save_verification(
    session: AsyncSession, person: PersonView, verification_id: int, now: datetime
) -> Verification:
    row = await _own_draft(session, person, verification_id, now)
    files = await store.count_evidence(session, "verification", row.id or 0)
    if not row.notes and not files and row.latitude is None:
        raise Invalid(Code.VERIFICATION_EMPTY)
    row.status = "saved"
    audit.record(
        session,
        "review.verification",
        at=now,
        actor_id=person.id,
        subject=f"proposal:{row.proposal_id}",
        verification=row.id,
        visited_at=row.visited_at.isoformat(),
        files=files,
        location=row.latitude is not None,
    )
    await session.flush()
    return row


async def discard_verification(
    session: AsyncSession, person: PersonView, verification_id: int, now: datetime
) -> None:
    row = await _own_draft(session, person, verification_id, now)
    row.status = "discarded"


# -- decisions ---------------------------------------------------------------------------------


def check_reason(text: str) -> str:
    text = (text or "").strip()
    if len(text) < REASON_MIN:
        raise Invalid(Code.REASON_SHORT, min=REASON_MIN)
    if len(text) > REASON_MAX:
        raise Invalid(Code.TOO_LONG, max=REASON_MAX, length=len(text))
    return text


async def _stale(session: AsyncSession, proposal_id: int) -> Stale:
    """Explain who changed the proposal since the decider's view was drawn."""
    entry = await store.last_decision(session, f"proposal:{proposal_id}")
    row = await session.get(Proposal, proposal_id)
    if row is not None:
        await session.refresh(row)
    names = await store.person_names(session, [entry.actor_id] if entry and entry.actor_id else [])
    return Stale(
        Code.DECIDED_MEANWHILE,
        by=names.get(entry.actor_id or 0, "?") if entry else "?",
        at=entry.at if entry else None,
        status=row.status if row else "?",
    )


async def decidable(
    session: AsyncSession,
    person: PersonView,
    proposal_id: int,
    decision: str,
    expected_version: int,
    now: datetime,
) -> Loaded:
    """Is this decision, pressed on the view of `expected_version`, still possible? Asked when
    the button is pressed, so nobody types a reason for nothing, and again at commit, where
    another member may have decided in between."""
    loaded = await load(session, person, proposal_id, f"review.{decision}", now)
    row = loaded.row
    if decision not in policy.DECISIONS:
        raise Invalid(Code.OPTION)
    if row.version != expected_version:
        raise await _stale(session, proposal_id)
    try:
        policy.require_decision(row.status, decision, loaded.view.round, now)
    except Locked as exc:
        if exc.code == Code.DECIDED:  # the view was current, yet the proposal left review
            raise await _stale(session, proposal_id) from None
        raise
    return loaded


@dataclass(frozen=True)
class Decided:
    proposal: ProposalView
    decision: str
    reason: str
    notified: int


async def decide(
    session: AsyncSession,
    person: PersonView,
    proposal_id: int,
    decision: str,
    reason: str,
    expected_version: int,
    now: datetime,
    *,
    revision_days: int | None = None,
) -> Decided:
    """Request revision, reject, or shortlist, as of the version the decider looked at."""
    loaded = await decidable(session, person, proposal_id, decision, expected_version, now)
    row = loaded.row
    reason = check_reason(reason)
    values: dict[str, Any] = {"status": decision, "updated_at": now}
    deadline = None
    if decision == policy.REVISION:
        if revision_days not in REVISION_DAYS:
            raise Invalid(Code.OPTION)
        deadline = now + timedelta(days=revision_days or 7)
        values.update(revision_deadline=deadline, revision_note=reason, step="review")
    if not await store.decide(session, proposal_id, expected_version, values):
        raise await _stale(session, proposal_id)
    await session.refresh(row)
    audit.record(
        session,
        f"proposal.{decision}",
        at=now,
        actor_id=person.id,
        subject=f"proposal:{proposal_id}",
        reason=reason,
        version=row.version,
        revision_deadline=deadline.isoformat() if deadline else None,
    )
    fresh = await queries.proposal_view(session, row)
    notified = await notify_committee(
        session,
        fresh,
        Template.DECISION,
        {
            "decision": decision,
            "reason": reason,
            "number": fresh.number,
            "title": fresh.title,
            "proposal": fresh.id,
            "deadline": deadline.isoformat() if deadline else None,
        },
        now,
    )
    return Decided(fresh, decision, reason, notified)


async def notify_committee(
    session: AsyncSession,
    view: ProposalView,
    template: Template,
    params: dict[str, Any],
    now: datetime,
) -> int:
    """Tell the village's PAKEM through the outbox, each member in their own language."""
    members: list[Person] = await queries.pakem_members(session, view.round.id, view.village_kode)
    return await announcements.notify(
        session,
        view.round.district_id,
        template,
        params,
        [(m.id or 0, m.telegram_id, view.village_kode) for m in members],
        now,
    )


async def make_final(
    session: AsyncSession,
    person: PersonView,
    proposal_id: int,
    expected_version: int,
    now: datetime,
) -> ProposalView:
    loaded = await load(session, person, proposal_id, "review.final", now)
    row, view = loaded.row, loaded.view
    if row.version != expected_version:
        raise await _stale(session, proposal_id)
    open_ones = [
        o.number or ""
        for o in await store.objections_of_proposal(session, proposal_id)
        if o.status == ObjectionStatus.FILED
    ]
    policy.require_can_finalize(row.status, open_ones, view.round, now)
    if not await store.decide(
        session, proposal_id, expected_version, {"status": policy.WINNER, "updated_at": now}
    ):
        raise await _stale(session, proposal_id)
    await session.refresh(row)
    audit.record(
        session,
        "proposal.winner",
        at=now,
        actor_id=person.id,
        subject=f"proposal:{proposal_id}",
        version=row.version,
    )
    return await queries.proposal_view(session, row)


# -- timeline ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


async def timeline(
    session: AsyncSession, person: PersonView, proposal_id: int, now: datetime
) -> tuple[ProposalView, list[Event]]:
    loaded = await load(session, person, proposal_id, "review.timeline", now)
    entries = await store.timeline(session, f"proposal:{proposal_id}")
    names = await store.person_names(session, [e.actor_id for e in entries if e.actor_id])
    events = [
        Event(e.at, names.get(e.actor_id or 0, e.actor_label or "—"), e.action, store.detail(e))
        for e in entries
        if e.action != "access.denied"
    ]
    return loaded.view, events
