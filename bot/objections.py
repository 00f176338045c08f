"""Residents' objections in the clarification window (PAKET steps 8 and 9).

The objection is its own draft row (`Objection.step`) until filed, so a restart or /cancel keeps
what the resident wrote. The objector's identity never leaves this module towards the committee:
`committee_view` has no field for it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot import announcements, audit, policy
from bot.announcements import Template
from bot.errors import Code, Invalid, Locked, NotAllowed, NotFound, Stale
from bot.review import check_reason, deny, guard_pokja, notify_committee
from storage import queries
from storage import review as store
from storage.models import Evidence, Objection, ObjectionCounter, Person, Proposal
from storage.review import ObjectionStatus
from storage.views import PersonView, ProposalView, RoundView

CATEGORIES = ("ineligible", "inflated", "untrue", "conflict", "other")
MAX_PER_WINDOW = 5
TEXT_MAX = 2000
TEXT_MIN = 10
MAX_EVIDENCE = 5
EVIDENCE_KINDS = ("photo", "document", "voice")
PSEUDONYM_KEY = "pseudonym_key"
PSEUDONYM_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
PSEUDONYM_LENGTH = 6
PSEUDONYM_ATTEMPTS = 50
OUTCOMES = (ObjectionStatus.UPHELD, ObjectionStatus.DISMISSED)


class Step(StrEnum):
    ROUND = "round"
    VILLAGE = "village"
    CANDIDATE = "candidate"
    CATEGORY = "category"
    TEXT = "text"
    EVIDENCE = "evidence"
    IDENTITY = "identity"
    CONFIRM = "confirm"


_BACK = {
    Step.VILLAGE: Step.ROUND,
    Step.CANDIDATE: Step.VILLAGE,
    Step.CATEGORY: Step.CANDIDATE,
    Step.TEXT: Step.CATEGORY,
    Step.EVIDENCE: Step.TEXT,
    Step.IDENTITY: Step.EVIDENCE,
    Step.CONFIRM: Step.IDENTITY,
}


@dataclass(frozen=True)
class Draft:
    id: int
    step: Step
    round: RoundView | None
    village_kode: str | None
    proposal: ProposalView | None
    category: str | None
    text: str | None
    evidence: int
    anonymous: bool | None


async def open_windows(session: AsyncSession, now: datetime) -> list[RoundView]:
    rounds: list[RoundView] = []
    for district in await queries.districts(session):
        for round_ in await queries.rounds_of(session, district.id):
            if policy.objections_open(round_, now):
                rounds.append(round_)
    return rounds


def _window_error(round_: RoundView, now: datetime) -> Locked | None:
    """Why this round takes no objection now, when the round itself tells it."""
    window = policy.clarification(round_, now)
    if window == policy.Window.CLOSED:
        return Locked(Code.WINDOW_CLOSED, closed_at=round_.clarify_end, zone=round_.timezone)
    if window == policy.Window.UNDATED:
        return Locked(Code.WINDOW_UNDATED, round=round_.name)
    return None


async def _closed_error(session: AsyncSession, now: datetime) -> Locked:
    """No round named: the latest window that closed, else none was ever held."""
    closed: list[RoundView] = []
    for district in await queries.districts(session):
        for round_ in await queries.rounds_of(session, district.id):
            if policy.clarification(round_, now) == policy.Window.CLOSED:
                closed.append(round_)
    if closed:
        latest = max(closed, key=lambda r: r.clarify_end or now)
        return Locked(Code.WINDOW_CLOSED, closed_at=latest.clarify_end, zone=latest.timezone)
    return Locked(Code.NO_WINDOW)


async def _view(session: AsyncSession, row: Objection) -> Draft:
    round_ = await queries.round_by_id(session, row.round_id) if row.round_id else None
    proposal = None
    if row.proposal_id:
        prow = await session.get(Proposal, row.proposal_id)
        proposal = await queries.proposal_view(session, prow) if prow else None
    count = await store.count_evidence(session, "objection", row.id or 0)
    return Draft(
        row.id or 0,
        Step(row.step),
        round_,
        row.village_kode,
        proposal,
        row.category,
        row.text,
        count,
        row.anonymous,
    )


async def _require_window(
    session: AsyncSession, round_: RoundView, person: PersonView, now: datetime
) -> None:
    if not policy.objections_open(round_, now):
        raise _window_error(round_, now) or await _closed_error(session, now)
    filed = await store.count_filed(session, round_.id, person.id)
    if filed >= MAX_PER_WINDOW:
        raise Locked(
            Code.OBJECTION_LIMIT, max=MAX_PER_WINDOW, until=round_.clarify_end, zone=round_.timezone
        )


async def _candidate(session: AsyncSession, proposal_id: int) -> Proposal:
    row = await session.get(Proposal, proposal_id)
    if row is None or row.status != policy.CANDIDATE:
        raise Invalid(Code.NOT_A_CANDIDATE)
    return row


async def start(
    session: AsyncSession,
    person: PersonView,
    now: datetime,
    *,
    proposal_id: int | None = None,
) -> Draft:
    """Begin (or resume) an objection; from an announcement button the candidate is known."""
    row = await store.objection_draft(session, person.id)
    if proposal_id is not None:
        candidate = await _candidate(session, proposal_id)
        round_ = await queries.round_by_id(session, candidate.round_id)
        assert round_ is not None
        await _require_window(session, round_, person, now)
        if row is None:
            row = Objection(
                round_id=round_.id,
                district_id=round_.district_id,
                person_id=person.id,
                created_at=now,
            )
            session.add(row)
        moved = row.proposal_id != candidate.id
        row.round_id, row.district_id = round_.id, round_.district_id
        row.proposal_id, row.village_kode = candidate.id, candidate.village_kode
        # Another candidate's button on a half-written draft: what was typed is kept, but the
        # category is asked again and the summary shows the new target before filing.
        if moved or Step(row.step) in (Step.ROUND, Step.VILLAGE, Step.CANDIDATE):
            row.step = Step.CATEGORY.value
        await session.flush()
        return await _view(session, row)
    if row is not None:
        round_ = await queries.round_by_id(session, row.round_id)
        if round_ is not None and policy.objections_open(round_, now):
            return await _view(session, row)
        row.status = ObjectionStatus.EXPIRED
    windows = await open_windows(session, now)
    if not windows:
        raise await _closed_error(session, now)
    for round_ in windows:
        if await store.count_filed(session, round_.id, person.id) < MAX_PER_WINDOW:
            break
    else:
        await _require_window(session, windows[0], person, now)
    row = Objection(
        round_id=windows[0].id,
        district_id=windows[0].district_id,
        person_id=person.id,
        created_at=now,
        step=(Step.ROUND if len(windows) > 1 else Step.VILLAGE).value,
    )
    session.add(row)
    await session.flush()
    return await _view(session, row)


async def _own(
    session: AsyncSession, person: PersonView, objection_id: int, now: datetime
) -> Objection:
    row = await session.get(Objection, objection_id)
    if row is None or row.status != ObjectionStatus.DRAFT:
        raise NotFound(Code.OBJECTION)
    if row.person_id != person.id:
        raise NotAllowed(Code.NOT_YOURS)
    round_ = await queries.round_by_id(session, row.round_id)
    assert round_ is not None
    await _require_window(session, round_, person, now)
    return row


def _at(row: Objection, *steps: Step) -> None:
    if Step(row.step) not in steps:
        raise Stale(step=row.step)


async def choose_round(
    session: AsyncSession, person: PersonView, objection_id: int, round_id: int, now: datetime
) -> Draft:
    row = await session.get(Objection, objection_id)
    if row is None or row.person_id != person.id or row.status != ObjectionStatus.DRAFT:
        raise NotFound(Code.OBJECTION)
    _at(row, Step.ROUND)
    round_ = await queries.round_by_id(session, round_id)
    if round_ is None:
        raise Invalid(Code.OPTION)
    await _require_window(session, round_, person, now)
    row.round_id, row.district_id = round_id, round_.district_id
    row.step = Step.VILLAGE.value
    await session.flush()
    return await _view(session, row)


async def villages(session: AsyncSession, draft: Draft) -> list[tuple[str, str]]:
    return await store.candidate_villages(session, draft.round.id) if draft.round else []


async def candidates(session: AsyncSession, draft: Draft) -> list[ProposalView]:
    if draft.round is None or draft.village_kode is None:
        return []
    rows = await store.round_proposals(session, draft.round.id, [policy.CANDIDATE])
    return [
        await queries.proposal_view(session, r)
        for r in rows
        if r.village_kode == draft.village_kode
    ]


async def choose_village(
    session: AsyncSession, person: PersonView, objection_id: int, kode: str, now: datetime
) -> Draft:
    row = await _own(session, person, objection_id, now)
    _at(row, Step.VILLAGE)
    if kode not in {k for k, _ in await store.candidate_villages(session, row.round_id)}:
        raise Invalid(Code.OPTION)
    row.village_kode, row.step = kode, Step.CANDIDATE.value
    await session.flush()
    return await _view(session, row)


async def choose_candidate(
    session: AsyncSession, person: PersonView, objection_id: int, proposal_id: int, now: datetime
) -> Draft:
    row = await _own(session, person, objection_id, now)
    _at(row, Step.CANDIDATE)
    candidate = await _candidate(session, proposal_id)
    if candidate.round_id != row.round_id:
        raise Invalid(Code.NOT_A_CANDIDATE)
    row.proposal_id, row.village_kode = candidate.id, candidate.village_kode
    row.step = Step.CATEGORY.value
    await session.flush()
    return await _view(session, row)


async def choose_category(
    session: AsyncSession, person: PersonView, objection_id: int, category: str, now: datetime
) -> Draft:
    row = await _own(session, person, objection_id, now)
    _at(row, Step.CATEGORY)
    if category not in CATEGORIES:
        raise Invalid(Code.OPTION)
    row.category = category
    row.step = (Step.CONFIRM if row.text and row.anonymous is not None else Step.TEXT).value
    await session.flush()
    return await _view(session, row)


async def set_text(
    session: AsyncSession, person: PersonView, objection_id: int, text: str, now: datetime
) -> Draft:
    row = await _own(session, person, objection_id, now)
    _at(row, Step.TEXT)
    text = (text or "").strip()
    if len(text) > TEXT_MAX:
        raise Invalid(Code.TOO_LONG, max=TEXT_MAX, length=len(text))
    if len(text) < TEXT_MIN:
        raise Invalid(Code.TOO_SHORT, min=TEXT_MIN)
    row.text = text
    row.step = (Step.CONFIRM if row.anonymous is not None else Step.EVIDENCE).value
    await session.flush()
    return await _view(session, row)


async def add_evidence(
    session: AsyncSession,
    person: PersonView,
    objection_id: int,
    kind: str,
    file_id: str,
    file_unique_id: str,
    now: datetime,
    file_name: str | None = None,
) -> Draft:
    row = await _own(session, person, objection_id, now)
    _at(row, Step.EVIDENCE)
    if kind not in EVIDENCE_KINDS:
        raise Invalid(Code.EVIDENCE_TYPE)
    if await store.count_evidence(session, "objection", row.id or 0) >= MAX_EVIDENCE:
        raise Invalid(Code.ATTACHMENTS_FULL, max=MAX_EVIDENCE)
    await store.add_evidence(
        session, "objection", row.id or 0, kind, file_id, file_unique_id, file_name, now
    )
    return await _view(session, row)


async def evidence_done(
    session: AsyncSession, person: PersonView, objection_id: int, now: datetime
) -> Draft:
    row = await _own(session, person, objection_id, now)
    _at(row, Step.EVIDENCE)
    row.step = Step.IDENTITY.value
    await session.flush()
    return await _view(session, row)


async def choose_identity(
    session: AsyncSession, person: PersonView, objection_id: int, anonymous: bool, now: datetime
) -> Draft:
    row = await _own(session, person, objection_id, now)
    _at(row, Step.IDENTITY, Step.CONFIRM)
    row.anonymous = anonymous
    row.step = Step.CONFIRM.value
    await session.flush()
    return await _view(session, row)


async def back(
    session: AsyncSession, person: PersonView, objection_id: int, now: datetime
) -> Draft | None:
    row = await _own(session, person, objection_id, now)
    target = _BACK.get(Step(row.step))
    if target is None or (target == Step.ROUND and len(await open_windows(session, now)) < 2):
        return None
    if target == Step.CANDIDATE and row.village_kode is None:
        target = Step.VILLAGE
    row.step = target.value
    await session.flush()
    return await _view(session, row)


async def cancel(session: AsyncSession, person: PersonView, objection_id: int) -> None:
    row = await session.get(Objection, objection_id)
    if row is not None and row.person_id == person.id and row.status == ObjectionStatus.DRAFT:
        row.status = ObjectionStatus.WITHDRAWN


async def current(session: AsyncSession, person: PersonView, objection_id: int) -> Draft:
    row = await session.get(Objection, objection_id)
    if row is None or row.person_id != person.id or row.status != ObjectionStatus.DRAFT:
        raise NotFound(Code.OBJECTION)
    return await _view(session, row)


def objection_number(year: int, seq: int) -> str:
    return f"KB-{year}-{seq:04d}"


def pseudonym_code(key: str, district_id: int, person_id: int, attempt: int) -> str:
    """A candidate pseudonym: unguessable from the person's id without the key; each attempt
    after a collision gives another."""
    message = f"{district_id}:{person_id}" + (f":{attempt}" if attempt else "")
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    alphabet = PSEUDONYM_ALPHABET
    code = "".join(alphabet[b % len(alphabet)] for b in digest[:PSEUDONYM_LENGTH])
    return f"Warga-{code}"


async def _pseudonym_key(session: AsyncSession) -> str:
    key = await queries.get_setting(session, PSEUDONYM_KEY)
    if key is None:
        key = secrets.token_hex(16)
        await queries.put_setting(session, PSEUDONYM_KEY, key)
        key = await queries.get_setting(session, PSEUDONYM_KEY) or key
    return key


async def pseudonym(session: AsyncSession, district_id: int, person_id: int) -> str:
    """Stable per person and district, and never shared by two people of a district: the first
    call stores a code (the next candidate when one is taken), later calls read it."""
    stored = await store.pseudonym_of(session, district_id, person_id)
    if stored is not None:
        return stored
    key = await _pseudonym_key(session)
    for attempt in range(PSEUDONYM_ATTEMPTS):
        code = pseudonym_code(key, district_id, person_id, attempt)
        claimed = await store.claim_pseudonym(session, district_id, person_id, code)
        if claimed is not None:
            return claimed
    raise RuntimeError("no free pseudonym")  # 50 collisions in a row: the key is broken


@dataclass(frozen=True)
class Filed:
    number: str
    proposal: ProposalView
    filed_this_window: int
    notified: int


async def file(
    session: AsyncSession, person: PersonView, objection_id: int, now: datetime
) -> Filed:
    row = await _own(session, person, objection_id, now)
    _at(row, Step.CONFIRM)
    if row.proposal_id is None or row.category is None or not row.text or row.anonymous is None:
        raise Stale(step=row.step)
    candidate = await _candidate(session, row.proposal_id)
    view = await queries.proposal_view(session, candidate)
    row.status = ObjectionStatus.FILED
    row.step = "filed"
    row.filed_at = now
    row.pseudonym = (
        await pseudonym(session, view.round.district_id, person.id) if row.anonymous else None
    )
    # Numbered only now, so that discarded drafts leave no gaps for others to read.
    seq = await queries.next_number(
        session, ObjectionCounter, view.round.district_id, view.round.year
    )
    row.number = objection_number(view.round.year, seq)
    await session.flush()
    evidence = await store.count_evidence(session, "objection", row.id or 0)
    audit.record(
        session,
        "objection.file",
        at=now,
        # The audit knows who filed it; timelines show the pseudonym instead.
        actor_id=person.id,
        subject=f"proposal:{view.id}",
        objection=row.number,
        category=row.category,
        anonymous=row.anonymous,
        pseudonym=row.pseudonym,
        evidence=evidence,
    )
    notified = await notify_committee(
        session,
        view,
        Template.OBJECTION_TO_COMMITTEE,
        {
            "objection": row.id,
            "number": row.number,
            "proposal_number": view.number,
            "title": view.title,
            "category": row.category,
            "text": row.text,
            "evidence": evidence,
        },
        now,
    )
    await _tell_pokja(session, view, row, now)
    filed = await store.count_filed(session, row.round_id, person.id)
    return Filed(row.number, view, filed, notified)


async def _tell_pokja(
    session: AsyncSession, view: ProposalView, row: Objection, now: datetime
) -> None:
    pokja = await store.district_staff(session, view.round.district_id)
    await announcements.notify(
        session,
        view.round.district_id,
        Template.OBJECTION_TO_POKJA,
        {
            "objection": row.id,
            "number": row.number,
            "proposal_number": view.number,
            "title": view.title,
            "category": row.category,
        },
        [(p.id or 0, p.telegram_id, None) for p in pokja],
        now,
    )


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectionView:
    """What a given reader may see. `who` is None for the committee concerned."""

    id: int
    number: str
    proposal: ProposalView
    category: str
    text: str
    status: str
    outcome: str | None
    answer: str | None
    answered_at: datetime | None
    reply: str | None
    reply_at: datetime | None
    filed_at: datetime
    anonymous: bool
    who: str | None
    evidence: list[Evidence]


async def _read(
    session: AsyncSession, row: Objection, who: str | None, with_files: bool
) -> ObjectionView:
    prow = await session.get(Proposal, row.proposal_id or 0)
    assert prow is not None and row.filed_at is not None
    return ObjectionView(
        row.id or 0,
        row.number or "",
        await queries.proposal_view(session, prow),
        row.category or "other",
        row.text or "",
        row.status,
        row.outcome,
        row.answer_text,
        row.answered_at,
        row.reply_text,
        row.reply_at,
        row.filed_at,
        bool(row.anonymous),
        who,
        await store.evidence(session, "objection", row.id or 0) if with_files else [],
    )


async def _filed(session: AsyncSession, objection_id: int) -> Objection:
    row = await session.get(Objection, objection_id)
    if row is None or row.status not in store.FILED or row.proposal_id is None:
        raise NotFound(Code.OBJECTION)
    return row


async def for_pokja(
    session: AsyncSession, person: PersonView, objection_id: int, now: datetime
) -> ObjectionView:
    row = await _filed(session, objection_id)
    round_ = await queries.round_by_id(session, row.round_id)
    assert round_ is not None
    await guard_pokja(
        session, person, round_.district_id, "objection.read", f"objection:{row.id}", now
    )
    if row.anonymous:
        who = row.pseudonym or "?"
    else:
        objector = await session.get(Person, row.person_id)
        who = objector.full_name if objector else "?"
    return await _read(session, row, who, True)


async def committee_view(
    session: AsyncSession, person: PersonView, objection_id: int, now: datetime
) -> ObjectionView:
    """The committee concerned reads the objection without anyone's identity or files."""
    row = await _filed(session, objection_id)
    prow = await session.get(Proposal, row.proposal_id or 0)
    assert prow is not None
    if person.pakem_of(prow.round_id) != prow.village_kode:
        raise await deny(
            session,
            person,
            NotAllowed(Code.NOT_YOURS),
            "objection.reply",
            f"objection:{row.id}",
            now,
        )
    return await _read(session, row, None, False)


async def own(session: AsyncSession, person: PersonView) -> list[ObjectionView]:
    return [
        await _read(session, r, None, False)
        for r in await store.objections_of_person(session, person.id)
    ]


async def own_by_number(
    session: AsyncSession, person: PersonView, number: str
) -> list[ObjectionView]:
    """Numbers are unique within a district: a person objecting in two districts may hold the
    same number twice, and sees both."""
    rows = await store.objections_by_number(session, number.strip().upper(), person.id)
    if not rows:
        raise NotFound(Code.OBJECTION)
    return [await _read(session, row, None, False) for row in rows]


async def district_list(
    session: AsyncSession, person: PersonView, district_id: int, only_open: bool
) -> list[ObjectionView]:
    policy.require_pokja(person, district_id)
    rows = await store.objections_of_district(session, district_id, only_open)
    return [await _read(session, r, r.pseudonym if r.anonymous else None, False) for r in rows]


# -- the committee's reply and the POKJA's answer -----------------------------------------------


async def reply(
    session: AsyncSession, person: PersonView, objection_id: int, text: str, now: datetime
) -> ObjectionView:
    view = await committee_view(session, person, objection_id, now)
    if view.reply_at is not None:
        raise Locked(Code.ALREADY_REPLIED)
    if view.status != ObjectionStatus.FILED:
        raise Locked(Code.OBJECTION_ANSWERED)
    text = check_reason(text)
    if not await store.reply_objection(
        session, objection_id, {"reply_text": text, "reply_by": person.id, "reply_at": now}
    ):
        raise Locked(Code.ALREADY_REPLIED)
    audit.record(
        session,
        "objection.reply",
        at=now,
        actor_id=person.id,
        subject=f"proposal:{view.proposal.id}",
        objection=view.number,
    )
    pokja = await store.district_staff(session, view.proposal.round.district_id)
    await announcements.notify(
        session,
        view.proposal.round.district_id,
        Template.OBJECTION_REPLIED,
        {"objection": objection_id, "number": view.number, "proposal_number": view.proposal.number},
        [(p.id or 0, p.telegram_id, None) for p in pokja],
        now,
    )
    return await committee_view(session, person, objection_id, now)


async def answerable(
    session: AsyncSession, person: PersonView, objection_id: int, now: datetime
) -> ObjectionView:
    """Can the POKJA still uphold or dismiss it? Asked when the button is pressed, so nobody
    types an answer for nothing, and again at commit."""
    view = await for_pokja(session, person, objection_id, now)
    if view.status != "filed":
        raise Locked(Code.OBJECTION_ANSWERED)
    return view


async def answer(
    session: AsyncSession,
    person: PersonView,
    objection_id: int,
    outcome: str,
    text: str,
    now: datetime,
) -> ObjectionView:
    """Uphold or dismiss with reasons. An upheld objection sends its candidate back to review."""
    view = await answerable(session, person, objection_id, now)
    if outcome not in OUTCOMES:
        raise Invalid(Code.OPTION)
    if view.status != ObjectionStatus.FILED:
        raise Locked(Code.OBJECTION_ANSWERED)
    text = check_reason(text)
    if not await store.answer_objection(
        session,
        objection_id,
        {
            "status": outcome,
            "outcome": outcome,
            "answer_text": text,
            "answered_by": person.id,
            "answered_at": now,
        },
    ):
        raise Locked(Code.OBJECTION_ANSWERED)
    audit.record(
        session,
        f"objection.{outcome}",
        at=now,
        actor_id=person.id,
        subject=f"proposal:{view.proposal.id}",
        objection=view.number,
        reason=text,
    )
    row = await _filed(session, objection_id)
    await session.refresh(row)
    objector = await session.get(Person, row.person_id)
    if objector is not None:
        await announcements.notify(
            session,
            view.proposal.round.district_id,
            Template.OBJECTION_ANSWERED,
            {
                "number": view.number,
                "proposal_number": view.proposal.number,
                "title": view.proposal.title,
                "outcome": outcome,
                "answer": text,
            },
            [(objector.id or 0, objector.telegram_id, None)],
            now,
        )
    if outcome == ObjectionStatus.UPHELD:
        prow = await session.get(Proposal, view.proposal.id)
        assert prow is not None
        if prow.status == policy.CANDIDATE and await store.decide(
            session, prow.id or 0, prow.version, {"status": policy.SUBMITTED, "updated_at": now}
        ):
            await session.refresh(prow)
            audit.record(
                session,
                "proposal.back_to_review",
                at=now,
                actor_id=person.id,
                subject=f"proposal:{prow.id}",
                objection=view.number,
                version=prow.version,
            )
    await notify_committee(
        session,
        view.proposal,
        Template.OBJECTION_OUTCOME,
        {
            "number": view.number,
            "proposal_number": view.proposal.number,
            "outcome": outcome,
            "answer": text,
        },
        now,
    )
    return await for_pokja(session, person, objection_id, now)


async def unmask(
    session: AsyncSession, person: PersonView, objection_id: int, reason: str, now: datetime
) -> str:
    """Only an admin, only with a reason, always logged."""
    row = await _filed(session, objection_id)
    round_ = await queries.round_by_id(session, row.round_id)
    assert round_ is not None
    await guard_pokja(
        session,
        person,
        round_.district_id,
        "objection.unmask",
        f"objection:{row.id}",
        now,
        admin=True,
    )
    if not row.anonymous:
        raise Invalid(Code.NOT_ANONYMOUS)
    reason = check_reason(reason)
    objector = await session.get(Person, row.person_id)
    audit.record(
        session,
        "objection.unmask",
        at=now,
        actor_id=person.id,
        subject=f"proposal:{row.proposal_id}",
        objection=row.number,
        reason=reason,
    )
    name = objector.full_name if objector else "?"
    handle = f" (@{objector.username})" if objector and objector.username else ""
    return f"{name}{handle}"
