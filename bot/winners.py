"""Candidate winners and final winners announcements (PAKET steps 8 and 10).

Both are drafted from the proposals' statuses at the moment of the preview. The preview carries
a stamp of what it showed; publishing refuses when the list changed since, so the POKJA never
publishes something other than what it read.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import announcements, audit, policy
from bot.announcements import Template
from bot.errors import Code, Invalid, Locked, NotFound, Stale
from bot.review import guard_pokja
from storage import delivery, queries
from storage import review as store
from storage.models import Round
from storage.review import ObjectionStatus
from storage.views import PersonView, ProposalView, RoundView, Scope


@dataclass(frozen=True)
class Draft:
    round: RoundView
    template: Template
    params: dict[str, Any]
    stamp: int
    villages: list[str]


def entry(view: ProposalView) -> dict[str, Any]:
    return {
        "id": view.id,
        "number": view.number,
        "title": view.title,
        "total": view.total,
        "sources": view.totals_by_source(),
    }


async def _grouped(
    session: AsyncSession, round_: RoundView, statuses: list[str]
) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for row in await store.round_proposals(session, round_.id, statuses):
        view = await queries.proposal_view(session, row)
        group = groups.setdefault(
            view.village_kode,
            {
                "kode": view.village_kode,
                "village": view.village_name,
                "kecamatan": view.kecamatan_name,
                "entries": [],
            },
        )
        group["entries"].append(entry(view))
    return sorted(groups.values(), key=lambda g: (g["kecamatan"], g["village"]))


def _stamp(groups: list[dict[str, Any]], extra: str = "") -> int:
    ids = ",".join(f"{e['id']}:{e['total']}" for g in groups for e in g["entries"])
    return zlib.crc32(f"{ids}|{extra}".encode()) % 1_000_000


async def _round(
    session: AsyncSession, person: PersonView, round_id: int, action: str, now: datetime
) -> RoundView:
    round_ = await queries.round_by_id(session, round_id)
    if round_ is None:
        raise NotFound()
    await guard_pokja(session, person, round_.district_id, action, f"round:{round_id}", now)
    return round_


async def candidates_draft(
    session: AsyncSession, person: PersonView, round_id: int, now: datetime
) -> Draft:
    round_ = await _round(session, person, round_id, "winners.candidates", now)
    if round_.candidates_published_at is not None:
        raise Locked(Code.CANDIDATES_PUBLISHED, when=round_.candidates_published_at)
    policy.require_window_can_open(round_, now)
    if round_.review_end is not None and now < round_.review_end:
        # The calendar is a public promise: committees were told the review runs until then.
        raise Locked(Code.REVIEW_NOT_OVER, until=round_.review_end, zone=round_.timezone)
    undecided = await store.round_proposals(session, round_id, [policy.SUBMITTED, policy.REVISION])
    if undecided:
        # Shortlisting closes with the announcement: a proposal still in review would lose.
        raise Invalid(Code.REVIEW_UNFINISHED, numbers=", ".join(r.number or "" for r in undecided))
    groups = await _grouped(session, round_, [policy.CANDIDATE])
    if not groups:
        raise Invalid(Code.NO_CANDIDATES)
    start = policy.window_opens(now, round_.clarify_start)
    params = {
        "round": round_.name,
        "round_id": round_.id,
        "clarify_start": start.isoformat(),
        "clarify_end": round_.clarify_end.isoformat(),
        "groups": groups,
    }
    return Draft(
        round_,
        Template.CANDIDATES,
        params,
        _stamp(groups, round_.clarify_end.isoformat()),
        [g["kode"] for g in groups],
    )


async def _queue(session: AsyncSession, draft: Draft, now: datetime) -> int:
    """Followers of the villages concerned, every PAKEM and every POKJA, once each."""
    broadcast_id = await announcements.queue_event(
        session,
        draft.round.district_id,
        draft.template,
        draft.params,
        now,
        scope=Scope.VILLAGES,
        codes=draft.villages,
    )
    for scope in (Scope.PAKEM, Scope.POKJA):
        await announcements.extend_event(session, broadcast_id, draft.round.district_id, scope, now)
    return broadcast_id


async def audience_size(session: AsyncSession, draft: Draft) -> int:
    return await delivery.count_union(
        session,
        draft.round.district_id,
        [(Scope.VILLAGES, draft.villages), (Scope.PAKEM, ()), (Scope.POKJA, ())],
    )


def numbers(draft: Draft) -> list[str]:
    return [e["number"] for g in draft.params["groups"] for e in g["entries"]]


async def _as_previewed(
    session: AsyncSession,
    person: PersonView,
    round_id: int,
    stamp: int,
    now: datetime,
    maker: Callable[[AsyncSession, PersonView, int, datetime], Awaitable[Draft]],
) -> tuple[Round, Draft]:
    """The round, locked against a second publisher, and the list exactly as previewed."""
    row = await session.get(Round, round_id, with_for_update=True)
    if row is None:
        raise NotFound()
    draft = await maker(session, person, round_id, now)
    if draft.stamp != stamp:
        raise Stale(Code.LIST_CHANGED)
    return row, draft


async def publish_candidates(
    session: AsyncSession, person: PersonView, round_id: int, stamp: int, now: datetime
) -> int:
    row, draft = await _as_previewed(session, person, round_id, stamp, now, candidates_draft)
    row.candidates_published_at = now
    row.clarify_start = policy.window_opens(now, row.clarify_start)
    broadcast_id = await _queue(session, draft, now)
    audit.record(
        session,
        "round.candidates",
        at=now,
        actor_id=person.id,
        subject=f"round:{round_id}",
        candidates=numbers(draft),
        clarify_end=draft.params["clarify_end"],
        broadcast=broadcast_id,
    )
    for g in draft.params["groups"]:
        for e in g["entries"]:
            audit.record(
                session,
                "proposal.announced",
                at=now,
                actor_id=person.id,
                subject=f"proposal:{e['id']}",
                broadcast=broadcast_id,
            )
    return broadcast_id


@dataclass(frozen=True)
class Summary:
    candidates: int
    objections: int
    upheld: int
    dismissed: int
    open: int


async def summary(session: AsyncSession, round_: RoundView) -> Summary:
    objections = await store.objections_of_round(session, round_.id)
    announced = 0
    for entry_ in await store.timeline(session, f"round:{round_.id}"):
        if entry_.action == "round.candidates":
            announced = len(store.detail(entry_).get("candidates", []))
    return Summary(
        announced,
        len(objections),
        sum(1 for o in objections if o.status == ObjectionStatus.UPHELD),
        sum(1 for o in objections if o.status == ObjectionStatus.DISMISSED),
        sum(1 for o in objections if o.status == ObjectionStatus.FILED),
    )


async def winners_draft(
    session: AsyncSession, person: PersonView, round_id: int, now: datetime
) -> Draft:
    round_ = await _round(session, person, round_id, "winners.final", now)
    if round_.winners_published_at is not None:
        raise Locked(Code.WINNERS_PUBLISHED, when=round_.winners_published_at)
    if policy.clarification(round_, now) == policy.Window.NOT_ANNOUNCED:
        raise Invalid(Code.NO_CANDIDATES_ANNOUNCED)
    policy.require_window_held(round_, now)
    undecided = [
        r.number or "" for r in await store.round_proposals(session, round_id, [policy.CANDIDATE])
    ]
    if undecided:
        raise Invalid(Code.UNDECIDED, numbers=", ".join(undecided))
    groups = await _grouped(session, round_, [policy.WINNER])
    if not groups:
        raise Invalid(Code.NO_WINNERS)
    counts = await summary(session, round_)
    params = {
        "round": round_.name,
        "round_id": round_.id,
        "groups": groups,
        "summary": {
            "candidates": counts.candidates,
            "objections": counts.objections,
            "upheld": counts.upheld,
            "dismissed": counts.dismissed,
            "winners": sum(len(g["entries"]) for g in groups),
            "total": sum(e["total"] for g in groups for e in g["entries"]),
        },
    }
    # The final result closes the round for everyone who took part, winners or not.
    villages = [kode for kode, _ in await store.villages_with_proposals(session, round_id)]
    return Draft(round_, Template.WINNERS, params, _stamp(groups), villages)


async def publish_winners(
    session: AsyncSession, person: PersonView, round_id: int, stamp: int, now: datetime
) -> int:
    row, draft = await _as_previewed(session, person, round_id, stamp, now, winners_draft)
    row.winners_published_at = now
    broadcast_id = await _queue(session, draft, now)
    audit.record(
        session,
        "round.winners",
        at=now,
        actor_id=person.id,
        subject=f"round:{round_id}",
        winners=numbers(draft),
        broadcast=broadcast_id,
    )
    return broadcast_id
