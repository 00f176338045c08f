"""Who may do what, in which phase, before which deadline. Pure functions over read models.

Every domain function asks here at the time of the action, so an old keyboard or a forged
button is judged by today's roles and today's clock, not by what was true when it was drawn.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from bot.errors import Code, Invalid, Locked, NotAllowed
from bot.money import PROPOSAL_CAP
from storage.statuses import OPEN_DRAFT, ProposalStatus
from storage.views import PersonView, ProposalView, Role, RoundView

# Aliases of the proposal statuses, for the callers that name one.
DRAFT = ProposalStatus.DRAFT
DISCARDED = ProposalStatus.DISCARDED
SUBMITTED = ProposalStatus.SUBMITTED  # waiting for review, or back in review after an objection
REVISION = ProposalStatus.REVISION
REJECTED = ProposalStatus.REJECTED
CANDIDATE = ProposalStatus.CANDIDATE
WINNER = ProposalStatus.WINNER
DECISIONS = (REVISION, REJECTED, CANDIDATE)

TITLE_MAX = 200
TEXT_MAX = 3000
LINE_ITEM_MAX = 120
UNIT_MAX = 24
MAX_ATTACHMENTS = 10
MAX_HOUSEHOLDS = 1_000_000


def pakem_village(person: PersonView, round_: RoundView) -> str:
    """The village a PAKEM member drafts for in this round; NotAllowed for anyone else."""
    village = person.pakem_of(round_.id)
    if village is None:
        raise NotAllowed(Code.NOT_PAKEM)
    return village


def require_can_start(person: PersonView, round_: RoundView, now: datetime) -> str:
    village = pakem_village(person, round_)
    if not round_.submission_open(now):
        raise Locked(Code.DEADLINE, deadline=round_.submission_deadline, zone=round_.timezone)
    return village


def require_can_view(person: PersonView, proposal: ProposalView) -> None:
    """Authors and their committee see a proposal; district POKJA and admins see all of theirs.

    A discarded draft is gone for everyone: only the database and the audit log keep it.
    """
    if proposal.status == DISCARDED:
        raise Locked(Code.DISCARDED)
    if proposal.author_id == person.id:
        return
    if person.pakem_of(proposal.round.id) == proposal.village_kode:
        return
    district = proposal.round.district_id
    if person.has(Role.POKJA, district) or person.has(Role.ADMIN, district):
        return
    raise NotAllowed(Code.NOT_YOURS)


def require_can_edit(
    person: PersonView,
    author_id: int,
    village_kode: str,
    status: str,
    round_: RoundView,
    now: datetime,
    revision_deadline: datetime | None = None,
) -> None:
    if author_id != person.id:
        raise NotAllowed(Code.NOT_YOURS)
    if not person.sits_on(round_.id, village_kode):
        raise NotAllowed(Code.NOT_PAKEM)
    if status == DISCARDED:
        raise Locked(Code.DISCARDED)
    if status == REVISION:
        # A revision asked by the POKJA runs to its own deadline, past the submission one.
        if revision_deadline is not None and now < revision_deadline:
            return
        raise Locked(Code.REVISION_OVER, deadline=revision_deadline, zone=round_.timezone)
    if status != DRAFT:
        raise Locked(Code.SUBMITTED)
    if not round_.submission_open(now):
        raise Locked(Code.DEADLINE, deadline=round_.submission_deadline, zone=round_.timezone)


def require_can_discard(
    person: PersonView, author_id: int, village_kode: str, status: str, round_id: int
) -> None:
    """Only the author throws away a draft, and only while it is one: a submitted proposal is
    the committee's record, and a revision is answered by resubmitting, not by vanishing.

    The deadline does not matter: a draft nobody can finish any more may still be tidied away.
    """
    if author_id != person.id:
        raise NotAllowed(Code.NOT_YOURS)
    if not person.sits_on(round_id, village_kode):
        raise NotAllowed(Code.NOT_PAKEM)
    if status == DISCARDED:
        raise Locked(Code.DISCARDED)
    if status not in OPEN_DRAFT:
        raise Locked(Code.NOT_A_DRAFT, status=status)


def require_pokja(person: PersonView, district_id: int) -> None:
    """District work (posters, and later reviews and announcements) is for its POKJA and admins."""
    if not (person.has(Role.POKJA, district_id) or person.has(Role.ADMIN, district_id)):
        raise NotAllowed(Code.NOT_POKJA)


def require_admin(person: PersonView, district_id: int) -> None:
    """Unmasking an anonymous objector is for the district's admins alone."""
    if not person.has(Role.ADMIN, district_id):
        raise NotAllowed(Code.NOT_ADMIN)


def require_decision(status: str, decision: str, round_: RoundView, now: datetime) -> None:
    """Which review decision fits the proposal's state and the round's phase."""
    if decision not in DECISIONS:
        raise NotAllowed(Code.NOT_ALLOWED)
    if status != SUBMITTED:
        raise Locked(Code.DECIDED, status=status)
    if decision == CANDIDATE and round_.candidates_published_at is not None:
        raise Locked(Code.CANDIDATES_PUBLISHED, when=round_.candidates_published_at)


class Window(StrEnum):
    """Where a round stands in its clarification window (PAKET step 9)."""

    NOT_ANNOUNCED = "not_announced"  # no candidates announced: nothing to object to yet
    UNDATED = "undated"  # announced, but the round has no closing date (see `clarification`)
    PENDING = "pending"  # announced; the window opens at a later date the POKJA set
    OPEN = "open"
    CLOSED = "closed"


def clarification(round_: RoundView, now: datetime) -> Window:
    """The one rule of the clarification window: residents may object from the moment the
    candidates are announced (or the later opening date the POKJA set) until the closing date,
    the opening instant included and the closing instant excluded.

    A round whose candidates were announced but which has no closing date is UNDATED: neither
    open nor closed. The bot never makes such a round (the candidates cannot be announced without
    a closing date in the future, and a date can be moved but not removed), so it only comes from
    data written by hand. Treating it as open would hold objections open forever and the winners
    back for ever; treating it as closed would let the POKJA name winners without residents ever
    having had a window. So both sides are told why instead: residents that the window has no
    closing date yet (`window_undated`), the POKJA that it must set one (`clarify_end_needed`);
    setting a closing date in the future then opens the window until that date.

    `now` must be timezone-aware, as every stored date is: a naive clock would be read in an
    unknown zone, so it is refused rather than compared.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("the clarification window is judged on a timezone-aware clock")
    announced = round_.candidates_published_at
    if announced is None:
        return Window.NOT_ANNOUNCED
    if round_.clarify_end is None:
        return Window.UNDATED
    if now >= round_.clarify_end:
        return Window.CLOSED
    opens = window_opens(announced, round_.clarify_start)
    return Window.PENDING if now < opens else Window.OPEN


def window_opens(announced: datetime, clarify_start: datetime | None) -> datetime:
    """The window never opens before the candidates are announced, nor before the opening
    date the POKJA set (when it set one)."""
    return max(announced, clarify_start) if clarify_start is not None else announced


def objections_open(round_: RoundView, now: datetime) -> bool:
    return clarification(round_, now) == Window.OPEN


def require_window_held(round_: RoundView, now: datetime) -> None:
    """Winners are named and announced only after the window closed: residents had their say."""
    window = clarification(round_, now)
    if window == Window.NOT_ANNOUNCED:
        raise Locked(Code.WINDOW_NOT_HELD)
    if window == Window.UNDATED:
        raise Invalid(Code.CLARIFY_END_NEEDED)
    if window != Window.CLOSED:
        raise Locked(Code.WINDOW_STILL_OPEN, until=round_.clarify_end, zone=round_.timezone)


def require_window_can_open(round_: RoundView, now: datetime) -> None:
    """Candidates are announced only with a closing date still ahead: the announcement tells
    residents until when they may object, and that promise must be one they can still use."""
    if round_.clarify_end is None or round_.clarify_end <= now:
        raise Invalid(Code.CLARIFY_END_NEEDED)


def require_can_finalize(
    status: str, open_objections: list[str], round_: RoundView, now: datetime
) -> None:
    """A candidate becomes a winner only after its window closed and every objection is
    answered."""
    if status != CANDIDATE:
        raise Locked(Code.NOT_CANDIDATE, status=status)
    require_window_held(round_, now)
    if open_objections:
        raise Locked(Code.OBJECTIONS_OPEN, numbers=", ".join(open_objections))


def require_pokja_somewhere(person: PersonView) -> None:
    """Opening a POKJA tool at all; each action then checks the district it touches."""
    if not any(g.role in (Role.POKJA, Role.ADMIN) for g in person.grants):
        raise NotAllowed(Code.NOT_POKJA)


def over_ceiling(proposal: ProposalView) -> int | None:
    """The limit the total breaks (round ceiling or programme cap), or None."""
    limit = min(PROPOSAL_CAP, proposal.round.ceiling or PROPOSAL_CAP)
    return limit if proposal.total > limit else None


def missing_fields(proposal: ProposalView) -> list[str]:
    missing = [
        name
        for name, value in (
            ("title", proposal.title),
            ("activity", proposal.activity),
            ("location", proposal.location_name),
            ("problem", proposal.problem),
            ("households", proposal.households),
            ("poor_households", proposal.poor_households),
        )
        if value is None
    ]
    if not proposal.complete_lines:
        missing.append("budget")
    return missing
