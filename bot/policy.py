"""Who may do what, in which phase, before which deadline. Pure functions over read models.

Every domain function asks here at the time of the action, so an old keyboard or a forged
button is judged by today's roles and today's clock, not by what was true when it was drawn.
"""

from __future__ import annotations

from datetime import datetime

from bot.errors import Locked, NotAllowed
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
        raise NotAllowed("not_pakem")
    return village


def require_can_start(person: PersonView, round_: RoundView, now: datetime) -> str:
    village = pakem_village(person, round_)
    if not round_.submission_open(now):
        raise Locked("deadline", deadline=round_.submission_deadline, zone=round_.timezone)
    return village


def require_can_view(person: PersonView, proposal: ProposalView) -> None:
    """Authors and their committee see a proposal; district POKJA and admins see all of theirs.

    A discarded draft is gone for everyone: only the database and the audit log keep it.
    """
    if proposal.status == DISCARDED:
        raise Locked("discarded")
    if proposal.author_id == person.id:
        return
    if person.pakem_of(proposal.round.id) == proposal.village_kode:
        return
    district = proposal.round.district_id
    if person.has(Role.POKJA, district) or person.has(Role.ADMIN, district):
        return
    raise NotAllowed("not_yours")


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
        raise NotAllowed("not_yours")
    if not person.sits_on(round_.id, village_kode):
        raise NotAllowed("not_pakem")
    if status == DISCARDED:
        raise Locked("discarded")
    if status == REVISION:
        # A revision asked by the POKJA runs to its own deadline, past the submission one.
        if revision_deadline is not None and now < revision_deadline:
            return
        raise Locked("revision_over", deadline=revision_deadline, zone=round_.timezone)
    if status != DRAFT:
        raise Locked("submitted")
    if not round_.submission_open(now):
        raise Locked("deadline", deadline=round_.submission_deadline, zone=round_.timezone)


def require_can_discard(
    person: PersonView, author_id: int, village_kode: str, status: str, round_id: int
) -> None:
    """Only the author throws away a draft, and only while it is one: a submitted proposal is
    the committee's record, and a revision is answered by resubmitting, not by vanishing.

    The deadline does not matter: a draft nobody can finish any more may still be tidied away.
    """
    if author_id != person.id:
        raise NotAllowed("not_yours")
    if not person.sits_on(round_id, village_kode):
        raise NotAllowed("not_pakem")
    if status == DISCARDED:
        raise Locked("discarded")
    if status not in OPEN_DRAFT:
        raise Locked("not_a_draft", status=status)


def require_pokja(person: PersonView, district_id: int) -> None:
    """District work (posters, and later reviews and announcements) is for its POKJA and admins."""
    if not (person.has(Role.POKJA, district_id) or person.has(Role.ADMIN, district_id)):
        raise NotAllowed("not_pokja")


def require_admin(person: PersonView, district_id: int) -> None:
    """Unmasking an anonymous objector is for the district's admins alone."""
    if not person.has(Role.ADMIN, district_id):
        raise NotAllowed("not_admin")


def require_decision(status: str, decision: str, round_: RoundView, now: datetime) -> None:
    """Which review decision fits the proposal's state and the round's phase."""
    if decision not in DECISIONS:
        raise NotAllowed("not_allowed")
    if status != SUBMITTED:
        raise Locked("decided", status=status)
    if decision == CANDIDATE and round_.candidates_published_at is not None:
        raise Locked("candidates_published", when=round_.candidates_published_at)


def require_can_finalize(
    status: str, open_objections: list[str], round_: RoundView, now: datetime
) -> None:
    """A candidate becomes a winner only after its window closed and every objection is
    answered."""
    if status != CANDIDATE:
        raise Locked("not_candidate", status=status)
    if round_.clarify_end is None or round_.candidates_published_at is None:
        raise Locked("window_not_held")
    if now < round_.clarify_end:
        raise Locked("window_still_open", until=round_.clarify_end, zone=round_.timezone)
    if open_objections:
        raise Locked("objections_open", numbers=", ".join(open_objections))


def require_pokja_somewhere(person: PersonView) -> None:
    """Opening a POKJA tool at all; each action then checks the district it touches."""
    if not any(g.role in (Role.POKJA, Role.ADMIN) for g in person.grants):
        raise NotAllowed("not_pokja")


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
