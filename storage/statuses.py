"""Where a proposal stands, and the groups of statuses every list and count is built from;
where a broadcast (announcement, event, reminder) stands.

A query that filtered on `status != "draft"` took in every status its author did not think of:
a discarded draft then counted as a submission. Lists and counts name the statuses they want,
from the groups below, so a new status is counted nowhere until someone decides where it goes.
This module imports nothing of the project, so `bot/` and `storage/` both use it without cycles.
"""

from __future__ import annotations

from enum import StrEnum


class ProposalStatus(StrEnum):
    """A draft ends discarded by its author or submitted; a submitted proposal is sent back for
    revision, rejected or shortlisted as a candidate, and a candidate becomes a winner (or goes
    back to review after an upheld objection)."""

    DRAFT = "draft"
    DISCARDED = "discarded"
    SUBMITTED = "submitted"
    REVISION = "revision"
    REJECTED = "rejected"
    CANDIDATE = "candidate"
    WINNER = "winner"


OPEN_DRAFT: tuple[ProposalStatus, ...] = (ProposalStatus.DRAFT,)
"""Drafts still being written: the author's /drafts, the cap per person, "drafts" counts."""

PAST_DRAFT: tuple[ProposalStatus, ...] = (
    ProposalStatus.SUBMITTED,
    ProposalStatus.REVISION,
    ProposalStatus.REJECTED,
    ProposalStatus.CANDIDATE,
    ProposalStatus.WINNER,
)
"""Proposals that were submitted: review queues, "submitted" counts, exports, summaries."""

LIVE: tuple[ProposalStatus, ...] = OPEN_DRAFT + PAST_DRAFT
"""Every proposal a person may still see: all but the discarded drafts."""


class BroadcastKind(StrEnum):
    """What a broadcast row is; the sender renders each kind its own way."""

    ANNOUNCEMENT = "announcement"  # written by the POKJA, step by step (`AnnouncementStep`)
    EVENT = "event"  # a domain event, rendered from its template
    REMINDER = "reminder"  # one tick's deadline reminders
    REPORT = "report"  # an announcement's delivery report, to its author


class BroadcastStatus(StrEnum):
    """An announcement is a draft until its author sends or discards it; every other kind is
    queued at once. A queued broadcast is done when every row is settled (or it had none)."""

    DRAFT = "draft"
    CANCELLED = "cancelled"
    QUEUED = "queued"
    DONE = "done"


class AnnouncementStep(StrEnum):
    """Where the author of an announcement draft stands; a queued broadcast is at QUEUED."""

    BODY = "body"  # the text, photo or document
    AUDIENCE = "audience"  # who receives it
    PICK = "pick"  # which kecamatan or villages, for those scopes
    REVIEW = "review"  # the preview with its count, before sending
    QUEUED = "queued"
