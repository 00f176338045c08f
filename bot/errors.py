"""Domain errors. Each carries a `Code`; handlers turn it into a translated message.

The codes are an enum so that a refusal the bot can raise is a refusal it can explain: the chat's
table of texts (`handlers.render.ERROR_TEXTS`) has an entry for every member, and a test fails
when a new member has none. The values are stored (the audit log keeps the code of a refused
attempt), so a value is never renamed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Code(StrEnum):
    """Why the bot refused, in words of the domain; grouped by the conversation that raises it."""

    # Any conversation: the kinds of refusal themselves, and refusals shared by all.
    ERROR = "error"
    NOT_ALLOWED = "not_allowed"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    LOCKED = "locked"
    STALE = "stale"
    OPTION = "option"
    TOO_LONG = "too_long"
    TOO_SHORT = "too_short"
    NOT_YOURS = "not_yours"
    NOT_POKJA = "not_pokja"
    NOT_ADMIN = "not_admin"
    NOT_PAKEM = "not_pakem"
    GEO_RANGE = "geo_range"
    ATTACHMENTS_FULL = "attachments_full"

    # Writing a proposal.
    COUNT_FORMAT = "count_format"
    COUNT_RANGE = "count_range"
    POOR_EXCEEDS = "poor_exceeds"
    AMOUNT_FORMAT = "amount_format"
    AMOUNT_AMBIGUOUS = "amount_ambiguous"
    AMOUNT_FRACTION = "amount_fraction"
    AMOUNT_ZERO = "amount_zero"
    AMOUNT_NEGATIVE = "amount_negative"
    AMOUNT_TOO_LARGE = "amount_too_large"
    QTY_FORMAT = "qty_format"
    QTY_AMBIGUOUS = "qty_ambiguous"
    QTY_FRACTION = "qty_fraction"
    QTY_ZERO = "qty_zero"
    QTY_NEGATIVE = "qty_negative"
    QTY_TOO_LARGE = "qty_too_large"
    UNIT_MISSING = "unit_missing"
    UNIT_TOO_LONG = "unit_too_long"
    LINE_TOO_LARGE = "line_too_large"
    BUDGET_EMPTY = "budget_empty"
    ATTACHMENT_TYPE = "attachment_type"
    NOT_OPTIONAL = "not_optional"
    INCOMPLETE = "incomplete"
    OVER_CEILING = "over_ceiling"
    DEADLINE = "deadline"
    SUBMITTED = "submitted"
    DISCARDED = "discarded"
    NOT_A_DRAFT = "not_a_draft"
    REVISION_OVER = "revision_over"
    TOO_MANY_DRAFTS = "too_many_drafts"

    # Invitations and roles.
    INVITE_UNKNOWN = "invite_unknown"
    INVITE_USED = "invite_used"
    INVITE_EXPIRED = "invite_expired"
    TOO_MANY_INVITES = "too_many_invites"
    NO_OPEN_ROUND = "no_open_round"
    SEVERAL_ROUNDS = "several_rounds"
    UNKNOWN_ROUND = "unknown_round"
    VILLAGE_NOT_IN_ROUND = "village_not_in_round"
    VILLAGE_ONLY_FOR_PAKEM = "village_only_for_pakem"
    VILLAGE_REQUIRED = "village_required"
    UNKNOWN_VILLAGE = "unknown_village"
    MEMBER = "member"
    REVOKE_SELF = "revoke_self"
    NO_SUCH_ROLE = "no_such_role"

    # Following villages.
    QUERY_SHORT = "query_short"

    # Announcements.
    ANNOUNCEMENT = "announcement"
    ANNOUNCEMENT_EMPTY = "announcement_empty"
    ANNOUNCEMENT_TOO_LONG = "announcement_too_long"
    ANNOUNCEMENT_SENT = "announcement_sent"
    STEP = "step"  # a button of an earlier step of the announcement draft
    CHOOSE_DISTRICT = "choose_district"
    TOO_MANY_PLACES = "too_many_places"
    NO_PLACES = "no_places"
    VILLAGE = "village"

    # Reviewing proposals.
    DECIDED = "decided"
    DECIDED_MEANWHILE = "decided_meanwhile"
    REASON_SHORT = "reason_short"
    VERIFICATION = "verification"
    VERIFICATION_EMPTY = "verification_empty"
    VISIT_IN_FUTURE = "visit_in_future"

    # The round's calendar and settings (the /round desk and the operator's CLI).
    CALENDAR_ORDER = "calendar_order"
    DATE_PAST = "date_past"
    DATE_FORMAT = "date_format"
    DEADLINE_PAST = "deadline_past"
    NAIVE_DEADLINE = "naive_deadline"
    ROUND_NAME = "round_name"
    CEILING_RANGE = "ceiling_range"
    PERCENT_RANGE = "percent_range"
    CHECKLIST_EMPTY = "checklist_empty"
    CHECKLIST_LONG = "checklist_long"
    NO_VILLAGES = "no_villages"
    UNKNOWN_VILLAGES = "unknown_villages"
    REMINDER_OFFSETS = "reminder_offsets"
    QUIET_HOURS = "quiet_hours"

    # The operator's district import (CLI).
    CSV_COLUMNS = "csv_columns"
    CSV_ROW = "csv_row"
    CSV_ONE_DISTRICT = "csv_one_district"
    CSV_OUTSIDE = "csv_outside"
    PREFIX_TAKEN = "prefix_taken"
    PREFIX_FORMAT = "prefix_format"

    # Candidates, the clarification window, objections and winners.
    CANDIDATES_PUBLISHED = "candidates_published"
    CLARIFY_END_NEEDED = "clarify_end_needed"
    REVIEW_NOT_OVER = "review_not_over"
    REVIEW_UNFINISHED = "review_unfinished"
    NO_CANDIDATES = "no_candidates"
    NO_CANDIDATES_ANNOUNCED = "no_candidates_announced"
    LIST_CHANGED = "list_changed"
    NOT_CANDIDATE = "not_candidate"
    WINDOW_NOT_HELD = "window_not_held"
    WINDOW_STILL_OPEN = "window_still_open"
    WINDOW_CLOSED = "window_closed"
    WINDOW_UNDATED = "window_undated"
    NO_WINDOW = "no_window"
    OBJECTIONS_OPEN = "objections_open"
    OBJECTION = "objection"
    OBJECTION_LIMIT = "objection_limit"
    OBJECTION_ANSWERED = "objection_answered"
    NOT_A_CANDIDATE = "not_a_candidate"
    EVIDENCE_TYPE = "evidence_type"
    ALREADY_REPLIED = "already_replied"
    NOT_ANONYMOUS = "not_anonymous"
    UNDECIDED = "undecided"
    NO_WINNERS = "no_winners"
    WINNERS_PUBLISHED = "winners_published"


class DomainError(Exception):
    code: Code = Code.ERROR

    def __init__(self, code: Code | str | None = None, **params: Any) -> None:
        """A plain string is accepted for callers not yet moved to `Code`, but it must be one of
        its values: an unknown code raises ValueError here, not a vague text later."""
        if code is not None:
            self.code = Code(code)
        super().__init__(self.code.value)
        self.params = params


class NotAllowed(DomainError):
    """The actor has no right to do this, now or ever; also what a forged button gets."""

    code = Code.NOT_ALLOWED


class NotFound(DomainError):
    code = Code.NOT_FOUND


class Invalid(DomainError):
    """Input that does not fit the step; the step stays where it is."""

    code = Code.INVALID


class Locked(DomainError):
    """The proposal can no longer change: submitted, or the deadline has passed."""

    code = Code.LOCKED


class Stale(DomainError):
    """A button from an older message that no longer matches the proposal's step."""

    code = Code.STALE
