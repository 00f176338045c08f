"""All tables. Handlers never see these rows: queries return read models (see `storage.views`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, MetaData, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.statuses import AnnouncementStep, BroadcastStatus
from storage.types import UTCDateTime, utcnow

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def _ts(nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable, index=index)


class District(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kode: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=120)
    timezone: str = Field(default="Asia/Jakarta", max_length=64)
    prefix: str = Field(max_length=8)


class Region(SQLModel, table=True):
    """Sub-districts (kecamatan) and villages (desa, kelurahan) by their official code."""

    kode: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=120)
    level: str = Field(max_length=16)
    parent_kode: str | None = Field(default=None, max_length=16, index=True)
    district_id: int = Field(foreign_key="district.id", index=True)


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    full_name: str = Field(default="", max_length=256)
    username: str | None = Field(default=None, max_length=64)
    locale: str = Field(default="id", max_length=8)
    announcements_muted: bool = False
    # Set when Telegram answered 403 (blocked, deactivated); cleared when they write again.
    unreachable_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Follow(SQLModel, table=True):
    """A person hears the announcements of this village."""

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    village_kode: str = Field(
        foreign_key="region.kode", primary_key=True, max_length=16, index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Round(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="district.id", index=True)
    name: str = Field(max_length=120)
    year: int
    submission_deadline: datetime = Field(sa_column=_ts())
    ceiling: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # Comma-separated lead times such as "7d,3d,1d,3h"; NULL means the programme's default.
    reminder_offsets: str | None = Field(default=None, max_length=64)
    # The rest of the calendar (PAKET steps 7 to 10); each must follow the one before it.
    review_start: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    review_end: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    clarify_start: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    clarify_end: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    final_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    swadaya_min_pct: int = 10
    # JSON list of feasibility checklist item codes; NULL means the programme's defaults.
    checklist: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    candidates_published_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    winners_published_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    opened_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ProposalCounter(SQLModel, table=True):
    """Last proposal number handed out per district and year; bumped under a row lock."""

    district_id: int = Field(foreign_key="district.id", primary_key=True)
    year: int = Field(primary_key=True)
    last: int = 0


class ObjectionCounter(SQLModel, table=True):
    """Last objection number handed out per district and year: numbers are given when an
    objection is filed, so discarded drafts leave no gaps."""

    district_id: int = Field(foreign_key="district.id", primary_key=True)
    year: int = Field(primary_key=True)
    last: int = 0


class Pseudonym(SQLModel, table=True):
    """An anonymous person's stable name within a district; the unique code keeps two objectors
    from ever reading as one."""

    __table_args__ = (UniqueConstraint("district_id", "code"),)

    district_id: int = Field(foreign_key="district.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    code: str = Field(max_length=32)


class RoundVillage(SQLModel, table=True):
    round_id: int = Field(foreign_key="round.id", primary_key=True)
    village_kode: str = Field(foreign_key="region.kode", primary_key=True, max_length=16)


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    role: str = Field(max_length=16)
    district_id: int = Field(foreign_key="district.id")
    village_kode: str | None = Field(default=None, foreign_key="region.kode", max_length=16)
    round_id: int | None = Field(default=None, foreign_key="round.id")
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    used_by: int | None = Field(default=None, foreign_key="person.id")


class RoleGrant(SQLModel, table=True):
    __table_args__ = (Index("ix_rolegrant_person_role", "person_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    role: str = Field(max_length=16)
    district_id: int = Field(foreign_key="district.id")
    village_kode: str | None = Field(default=None, foreign_key="region.kode", max_length=16)
    round_id: int | None = Field(default=None, foreign_key="round.id")
    invite_id: int | None = Field(default=None, foreign_key="invite.id")
    granted_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class AuditEntry(SQLModel, table=True):
    """Append-only: rows are inserted, never updated or deleted."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(index=True))
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    actor_label: str = Field(default="", max_length=64)
    action: str = Field(max_length=64, index=True)
    subject: str = Field(default="", max_length=64)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class Proposal(SQLModel, table=True):
    # Numbers come from a counter per district and year, so they are unique per district only:
    # two districts may share a prefix.
    __table_args__ = (
        Index("ix_proposal_round_village", "round_id", "village_kode"),
        UniqueConstraint("district_id", "number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id")
    district_id: int = Field(foreign_key="district.id", index=True)
    village_kode: str = Field(foreign_key="region.kode", max_length=16)
    author_id: int = Field(foreign_key="person.id", index=True)
    status: str = Field(default="draft", max_length=16)
    step: str = Field(default="title", max_length=24)
    return_to_review: bool = False
    number: str | None = Field(default=None, max_length=32)
    title: str | None = Field(default=None, max_length=200)
    activity: str | None = Field(default=None, max_length=24)
    location_name: str | None = Field(default=None, max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    problem: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    households: int | None = None
    poor_households: int | None = None
    editing_line_id: int | None = None
    # Bumped by every review decision: a decision made on an older view is refused.
    version: int = 0
    revision_deadline: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revision_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # The first submission: a revision never moves it, so an on-time proposal stays on time.
    submitted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    resubmitted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class BudgetLine(SQLModel, table=True):
    """One line of a proposal's budget; `complete` is false while the PAKEM is still typing it."""

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    position: int
    item: str | None = Field(default=None, max_length=120)
    volume_milli: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    unit: str | None = Field(default=None, max_length=24)
    unit_price: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    source: str | None = Field(default=None, max_length=8)
    complete: bool = False


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    kind: str = Field(max_length=16)
    file_id: str = Field(max_length=256)
    file_unique_id: str = Field(max_length=64)
    file_name: str | None = Field(default=None, max_length=256)
    added_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ChecklistMark(SQLModel, table=True):
    """One feasibility checklist answer (yes, no, n/a) with its note; the latest one counts."""

    proposal_id: int = Field(foreign_key="proposal.id", primary_key=True)
    item: str = Field(primary_key=True, max_length=32)
    value: str = Field(max_length=8)
    note: str | None = Field(default=None, max_length=1000)
    by_id: int = Field(foreign_key="person.id")
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Verification(SQLModel, table=True):
    """A field visit, built up from the verifier's phone on site; `status` draft until saved."""

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    verifier_id: int = Field(foreign_key="person.id")
    status: str = Field(default="draft", max_length=16)
    visited_at: datetime = Field(sa_column=_ts())
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    latitude: float | None = None
    longitude: float | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Evidence(SQLModel, table=True):
    """A file (photo, document, voice note) kept by Telegram file_id for a verification or an
    objection."""

    __table_args__ = (Index("ix_evidence_owner", "owner", "owner_id"),)

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(max_length=16)
    owner_id: int
    kind: str = Field(max_length=16)
    file_id: str = Field(max_length=256)
    file_unique_id: str = Field(max_length=64)
    file_name: str | None = Field(default=None, max_length=256)
    added_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Objection(SQLModel, table=True):
    """A resident's objection to a candidate. A draft row (`status` draft, `step`) until filed."""

    __table_args__ = (
        Index("ix_objection_round_person", "round_id", "person_id", "status"),
        UniqueConstraint("district_id", "number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str | None = Field(default=None, max_length=32)
    round_id: int = Field(foreign_key="round.id")
    district_id: int = Field(foreign_key="district.id", index=True)
    proposal_id: int | None = Field(default=None, foreign_key="proposal.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    status: str = Field(default="draft", max_length=16)
    step: str = Field(default="village", max_length=16)
    village_kode: str | None = Field(default=None, max_length=16)
    category: str | None = Field(default=None, max_length=24)
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    anonymous: bool | None = None
    pseudonym: str | None = Field(default=None, max_length=32)
    reply_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reply_by: int | None = Field(default=None, foreign_key="person.id")
    reply_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    outcome: str | None = Field(default=None, max_length=16)
    answer_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    answered_by: int | None = Field(default=None, foreign_key="person.id")
    answered_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    filed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class FsmRecord(SQLModel, table=True):
    """aiogram FSM state kept in the database, so a restart of the embedded bot forgets nothing."""

    key: str = Field(primary_key=True, max_length=200)
    state: str | None = Field(default=None, max_length=120)
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class Inbox(SQLModel, table=True):
    """Every update from Telegram, stored raw before it is confirmed, then handled from here.

    `chat_id` is the update's lane: a chat's updates are handled one at a time, in `update_id`
    order (NULL: an update with neither chat nor user, a lane of its own). `due_at` is the
    update's place in the fair queue: when it became its chat's next update, or when its retry
    is due. The partial unique index lets no chat be handled by two workers at once.
    A row `handling`, or `pending` again after its worker stopped, with `replies` was applied:
    only its replies remain to be sent.
    """

    __table_args__ = (
        Index("ix_inbox_status_due", "status", "due_at"),
        Index("ix_inbox_chat_status", "chat_id", "status", "update_id"),
        Index(
            "uq_inbox_chat_handling",
            "chat_id",
            unique=True,
            sqlite_where=text("status = 'handling'"),
            postgresql_where=text("status = 'handling'"),
        ),
    )

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    kind: str = Field(default="", max_length=32)
    raw: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=512)
    received_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    due_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    claimed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    claimed_by: str | None = Field(default=None, max_length=64)
    handled_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True, index=True))
    # The replies of an applied update, kept until sent (see bot/after_commit.py).
    replies: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Broadcast(SQLModel, table=True):
    """One message to many people: a POKJA announcement, a domain event, or one tick's reminders.

    An announcement is its own wizard draft (`status` draft, `step`) until the author confirms it.
    """

    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="district.id", index=True)
    kind: str = Field(max_length=16)  # a BroadcastKind
    status: str = Field(default=BroadcastStatus.DRAFT.value, max_length=16, index=True)
    step: str = Field(default=AnnouncementStep.BODY.value, max_length=16)
    author_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    media_kind: str | None = Field(default=None, max_length=16)
    media_file_id: str | None = Field(default=None, max_length=256)
    template: str | None = Field(default=None, max_length=64)
    params: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    audience: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    total: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    queued_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    progress_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    progress_message_id: int | None = None
    progress_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Outbox(SQLModel, table=True):
    """One (message, recipient) to deliver. The unique key makes queueing twice impossible."""

    __table_args__ = (
        UniqueConstraint("broadcast_id", "person_id"),
        Index("ix_outbox_status_due", "status", "not_before"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    village_kode: str | None = Field(default=None, max_length=16)
    payload: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    not_before: datetime = Field(default_factory=utcnow, sa_column=_ts())
    claimed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    error: str | None = Field(default=None, max_length=256)
    acked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ReminderMark(SQLModel, table=True):
    """A (reminder, person) pair already handed to the outbox; the key makes it once-only
    even when two instances tick at the same moment."""

    __table_args__ = (Index("ix_remindermark_person_day", "person_id", "day"),)

    key: str = Field(primary_key=True, max_length=64)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    day: str = Field(max_length=10)
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id")
    marked_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Setting(SQLModel, table=True):
    """Small facts the bot learns at run time, such as its own @username for invite links."""

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=256)


__all__ = [
    "Attachment",
    "AuditEntry",
    "Broadcast",
    "BudgetLine",
    "ChecklistMark",
    "District",
    "Evidence",
    "Follow",
    "FsmRecord",
    "Inbox",
    "Invite",
    "Objection",
    "ObjectionCounter",
    "Outbox",
    "Person",
    "Proposal",
    "ProposalCounter",
    "Pseudonym",
    "Region",
    "ReminderMark",
    "RoleGrant",
    "Round",
    "RoundVillage",
    "Setting",
    "Verification",
    "metadata",
]
