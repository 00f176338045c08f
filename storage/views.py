"""Read models: plain frozen values that leave the data layer instead of live rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from storage.amounts import line_total
from storage.statuses import AnnouncementStep, BroadcastKind, BroadcastStatus


class Role(StrEnum):
    ADMIN = "admin"
    POKJA = "pokja"
    PAKEM = "pakem"


@dataclass(frozen=True)
class Grant:
    role: Role
    district_id: int
    village_kode: str | None
    round_id: int | None


@dataclass(frozen=True)
class PersonView:
    id: int
    telegram_id: int
    full_name: str
    locale: str
    grants: tuple[Grant, ...] = ()
    announcements_muted: bool = False

    def has(self, role: Role, district_id: int | None = None) -> bool:
        return any(
            g.role == role and (district_id is None or g.district_id == district_id)
            for g in self.grants
        )

    def sits_on(self, round_id: int, village_kode: str) -> bool:
        """On that village's committee in that round: a removal from one village leaves others."""
        return any(
            g.role == Role.PAKEM and g.round_id == round_id and g.village_kode == village_kode
            for g in self.grants
        )

    def pakem_of(self, round_id: int) -> str | None:
        """The village whose committee this person sits on in that round, if any."""
        for g in self.grants:
            if g.role == Role.PAKEM and g.round_id == round_id:
                return g.village_kode
        return None


@dataclass(frozen=True)
class DistrictView:
    id: int
    kode: str
    name: str
    timezone: str
    prefix: str


@dataclass(frozen=True)
class VillageView:
    kode: str
    name: str
    level: str
    kecamatan_kode: str
    kecamatan_name: str
    district_id: int
    district_name: str


@dataclass(frozen=True)
class RegionView:
    """A kecamatan (or any region) as a browsing step."""

    kode: str
    name: str


@dataclass(frozen=True)
class RoundView:
    id: int
    district_id: int
    name: str
    year: int
    submission_deadline: datetime
    ceiling: int | None
    timezone: str
    reminder_offsets: str | None = None
    review_start: datetime | None = None
    review_end: datetime | None = None
    clarify_start: datetime | None = None
    clarify_end: datetime | None = None
    final_at: datetime | None = None
    swadaya_min_pct: int = 10
    checklist: tuple[str, ...] = ()
    candidates_published_at: datetime | None = None
    winners_published_at: datetime | None = None

    def submission_open(self, now: datetime) -> bool:
        return now < self.submission_deadline

    # Whether objections are open is `bot.policy.clarification`, the one place of that rule.


@dataclass(frozen=True)
class LineView:
    id: int
    position: int
    item: str | None
    volume_milli: int | None
    unit: str | None
    unit_price: int | None
    source: str | None
    complete: bool

    @property
    def total(self) -> int:
        if self.volume_milli is None or self.unit_price is None:
            return 0
        return line_total(self.volume_milli, self.unit_price)


@dataclass(frozen=True)
class AttachmentView:
    id: int
    kind: str
    file_id: str
    file_name: str | None


@dataclass(frozen=True)
class ProposalView:
    id: int
    round: RoundView
    village_kode: str
    village_name: str
    kecamatan_name: str
    author_id: int
    status: str
    step: str
    return_to_review: bool
    number: str | None
    title: str | None
    activity: str | None
    location_name: str | None
    latitude: float | None
    longitude: float | None
    problem: str | None
    households: int | None
    poor_households: int | None
    editing_line_id: int | None
    updated_at: datetime
    submitted_at: datetime | None
    lines: Sequence[LineView] = field(default_factory=tuple)
    version: int = 0
    revision_deadline: datetime | None = None
    revision_note: str | None = None
    attachments: Sequence[AttachmentView] = field(default_factory=tuple)
    # The first submission stays in `submitted_at`; the latest resubmission after a revision.
    resubmitted_at: datetime | None = None

    @property
    def complete_lines(self) -> list[LineView]:
        return [line for line in self.lines if line.complete]

    @property
    def total(self) -> int:
        return sum(line.total for line in self.complete_lines)

    def totals_by_source(self) -> dict[str, int]:
        split: dict[str, int] = {}
        for line in self.complete_lines:
            split[line.source or "other"] = split.get(line.source or "other", 0) + line.total
        return split


class Scope(StrEnum):
    """Who an announcement reaches."""

    DISTRICT = "district"
    KECAMATAN = "kecamatan"
    VILLAGES = "villages"
    PAKEM = "pakem"
    POKJA = "pokja"


@dataclass(frozen=True)
class BroadcastView:
    id: int
    district_id: int
    district_name: str
    timezone: str
    kind: BroadcastKind
    status: BroadcastStatus
    step: AnnouncementStep
    author_id: int | None
    body: str | None
    media_kind: str | None
    media_file_id: str | None
    template: str | None
    params: dict[str, object]
    scope: Scope | None
    codes: tuple[str, ...]
    total: int
    created_at: datetime
    queued_at: datetime | None
    finished_at: datetime | None
    progress_chat_id: int | None
    progress_message_id: int | None


@dataclass(frozen=True)
class DeliveryCounts:
    """Outbox rows of one broadcast by status."""

    pending: int = 0
    sending: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.sending + self.sent + self.blocked + self.failed

    @property
    def open(self) -> int:
        return self.pending + self.sending


@dataclass(frozen=True)
class VillageCounts:
    kode: str | None
    name: str | None
    counts: DeliveryCounts


@dataclass(frozen=True)
class ClaimedRow:
    """An outbox row taken by a sender: everything needed to render and send it."""

    id: int
    broadcast_id: int
    person_id: int
    chat_id: int
    locale: str
    payload: dict[str, object] | None
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What Telegram said about one claimed row, written back in batches."""

    id: int
    status: str
    message_id: int | None = None
    error: str | None = None
    retry_at: datetime | None = None
    person_id: int | None = None
