"""What the POKJA, committees and objectors read about reviews, objections and winners."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.errors import Code
from bot.objections import ObjectionView
from bot.review import CheckItem, Dossier, Event, QueuePage
from bot.rounds import CALENDAR, VillageStatus
from bot.text import q
from handlers.formats import (
    ErrorText,
    activity_label,
    money,
    proposal_status,
    says,
    source_label,
    when,
)
from storage.views import RoundView


def decision_label(decision: str) -> str:
    return {
        "revision": _("✏️ Request revision"),
        "rejected": _("✖ Reject"),
        "candidate": _("⭐ Shortlist as candidate"),
    }.get(decision, decision)


def category_label(code: str) -> str:
    return {
        "ineligible": _("Not eligible"),
        "inflated": _("Budget inflated"),
        "untrue": _("Location or beneficiaries untrue"),
        "conflict": _("Conflict of interest"),
        "other": _("Other"),
    }.get(code, code)


def outcome_label(outcome: str | None) -> str:
    return {
        "upheld": _("upheld"),
        "dismissed": _("dismissed"),
        None: _("waiting for the POKJA's answer"),
    }.get(outcome, outcome or "")


def mark_label(value: str | None) -> str:
    return {
        "yes": _("✅ yes"),
        "no": _("❌ no"),
        "na": _("➖ not applicable"),
        None: _("… not marked"),
    }[value]


def item_label(code: str) -> str:
    """Default checklist items are translated; items a POKJA typed are shown as typed."""
    return {
        "in_round": _("The village takes part in the round"),
        "poor": _("It benefits poor households"),
        "ceiling": _("The budget is within the ceiling"),
        "swadaya": _("The self-help (swadaya) share is at least the minimum"),
        "documents": _("The documents are complete"),
        "technical": _("It is technically feasible"),
        "maintenance": _("Maintenance is arranged"),
    }.get(code, code)


def field_label(name: str) -> str:
    return {
        "submission_deadline": _("Submission deadline"),
        "review_start": _("Review start"),
        "review_end": _("Review end"),
        "clarify_start": _("Clarification window opening"),
        "clarify_end": _("Clarification window closing"),
        "final_at": _("Final announcement"),
    }[name]


def hint_text(code: str, hint: tuple[int, ...] | None) -> str | None:
    if not hint:
        return None
    if code == "ceiling":
        return _("bot: over the limit") if hint[0] else _("bot: within the limit")
    if code == "swadaya":
        return _("bot: self-help {share}%, minimum {minimum}%").format(
            share=hint[0], minimum=hint[1]
        )
    if code == "documents":
        return _("bot: {n} attachments").format(n=hint[0])
    if code == "poor":
        return _("bot: {poor} of {all} households poor").format(poor=hint[0], all=hint[1])
    return None


def calendar_text(round_: RoundView) -> str:
    lines = [_("🗓 <b>{round}</b>").format(round=q(round_.name))]
    for name in CALENDAR:
        moment = getattr(round_, name)
        lines.append(
            f"• {field_label(name)}: " + (when(moment, round_.timezone) if moment else _("not set"))
        )
    lines.append(_("Self-help minimum: {pct}%").format(pct=round_.swadaya_min_pct))
    if round_.candidates_published_at:
        lines.append(
            _("Candidates announced: {when}").format(
                when=when(round_.candidates_published_at, round_.timezone)
            )
        )
    if round_.winners_published_at:
        lines.append(
            _("Winners announced: {when}").format(
                when=when(round_.winners_published_at, round_.timezone)
            )
        )
    return "\n".join(lines)


def villages_text(round_: RoundView, rows: list[VillageStatus]) -> list[str]:
    blocks = [_("<b>{round}: villages</b>").format(round=q(round_.name))]
    for row in rows:
        blocks.append(
            _(
                "{village}: PAKEM {members}, drafts {drafts}, submitted {submitted}, "
                "reminders read {read}"
            ).format(
                village=q(row.name),
                members=row.members,
                drafts=row.drafts,
                submitted=row.submitted,
                read=row.reminders_read,
            )
        )
    return blocks


def queue_text(page: QueuePage) -> str:
    flt = page.filter
    filters = []
    if flt.village:
        name = dict(page.villages).get(flt.village, flt.village)
        filters.append(_("village {name}").format(name=q(name)))
    if flt.status:
        filters.append(_("status {status}").format(status=proposal_status(flt.status)))
    if flt.activity:
        filters.append(_("activity {activity}").format(activity=activity_label(flt.activity)))
    head = _("📋 <b>Review queue: {round}</b>").format(round=q(page.round.name))
    lines = [head]
    if filters:
        lines.append(_("Filter: {filters}").format(filters=", ".join(filters)))
    lines.append(
        _("{total} proposals, page {page} of {pages}.").format(
            total=page.total, page=page.page + 1, pages=page.pages
        )
    )
    if not page.items:
        lines.append(_("Nothing matches. Change the filter."))
    for item in page.items:
        line = _("• <b>{number}</b> {village}: {title} · {total} · {status}").format(
            number=q(item.number or "—"),
            village=q(item.village_name),
            title=q(item.title or "—"),
            total=money(item.total),
            status=proposal_status(item.status),
        )
        if item.open_objections:
            line += " · " + _("{n} open objection(s)").format(n=item.open_objections)
        lines.append(line)
    return "\n".join(lines)


def checklist_lines(items: list[CheckItem]) -> list[str]:
    lines = []
    for index, item in enumerate(items, start=1):
        line = f"{index}. {q(item_label(item.code))}: {mark_label(item.value)}"
        if item.note:
            line += f" · <i>{q(item.note)}</i>"
        hint = hint_text(item.code, item.hint)
        if hint:
            line += f" ({hint})"
        lines.append(line)
    return lines


def dossier_blocks(dossier: Dossier) -> list[str]:
    """The review part after the proposal's own summary."""
    view = dossier.proposal
    yes, of = dossier.score
    blocks = [
        _("<b>Review status:</b> {status} (version {version})").format(
            status=proposal_status(view.status), version=view.version
        )
    ]
    if view.status == "revision" and view.revision_deadline:
        blocks.append(
            _("Revision requested until {when}: {note}").format(
                when=when(view.revision_deadline, view.round.timezone), note=q(view.revision_note)
            )
        )
    blocks.append(
        "\n".join(
            [
                _("<b>Feasibility checklist</b> ({yes} of {of} yes)").format(yes=yes, of=of),
                *checklist_lines(dossier.checklist),
            ]
        )
    )
    if dossier.verifications:
        lines = [_("<b>Field verification</b>")]
        for v in dossier.verifications:
            line = _("{when}, {who}: {notes}").format(
                when=when(v.visited_at, view.round.timezone),
                who=q(v.verifier),
                notes=q(v.notes or "—"),
            )
            if v.latitude is not None and v.longitude is not None:
                line += f" ({v.latitude:.5f}, {v.longitude:.5f})"
            if v.files:
                line += " · " + _("{n} photo(s) or file(s)").format(n=len(v.files))
            lines.append(line)
        blocks.append("\n".join(lines))
    else:
        blocks.append(_("No field verification recorded yet."))
    if dossier.objections:
        lines = [_("<b>Objections</b>")]
        for o in dossier.objections:
            lines.append(
                _("{number}: {category}, {outcome}{reply}").format(
                    number=o.number,
                    category=category_label(o.category),
                    outcome=outcome_label(o.outcome),
                    reply=_(", the PAKEM replied") if o.replied else "",
                )
            )
        blocks.append("\n".join(lines))
    return blocks


def event_label(event: Event) -> str:
    d = event.detail
    labels = {
        "proposal.draft": _("draft started"),
        "proposal.submit": _("submitted as {number}"),
        "proposal.resubmit": _("revised and submitted again"),
        "proposal.revision": _("revision requested: {reason}"),
        "proposal.rejected": _("rejected: {reason}"),
        "proposal.candidate": _("shortlisted as candidate: {reason}"),
        "proposal.announced": _("announced as candidate"),
        "proposal.back_to_review": _("back to review after objection {objection} was upheld"),
        "proposal.winner": _("named winner"),
        "review.checklist": _("checklist: {item} = {value}"),
        "review.verification": _("field verification recorded"),
        "objection.file": _("objection {objection} filed ({category})"),
        "objection.reply": _("the PAKEM replied to objection {objection}"),
        "objection.upheld": _("objection {objection} upheld: {reason}"),
        "objection.dismissed": _("objection {objection} dismissed: {reason}"),
        "objection.unmask": _("the objector of {objection} was unmasked by an admin: {reason}"),
    }
    template = labels.get(event.action)
    if template is None:
        return event.action
    values: dict[str, Any] = {k: q(v) for k, v in d.items()}
    if "item" in d:
        values["item"] = q(item_label(str(d["item"])))
        values["value"] = mark_label(str(d.get("value")))
    if "category" in d:
        values["category"] = category_label(str(d["category"]))
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return event.action


def timeline_blocks(
    number: str | None, title: str | None, events: list[Event], zone: str
) -> list[str]:
    blocks = [
        _("🧾 <b>Timeline of {number}</b> {title}").format(
            number=q(number or "—"), title=q(title or "")
        )
    ]
    for event in events:
        actor = event.detail.get("pseudonym") if event.action == "objection.file" else None
        if event.action == "objection.file" and not event.detail.get("anonymous"):
            actor = None
        blocks.append(f"{when(event.at, zone)} · {q(actor or event.actor)}: {event_label(event)}")
    return blocks


def objection_blocks(view: ObjectionView, for_pokja: bool) -> list[str]:
    p = view.proposal
    head = [
        _("⚖️ <b>Objection {number}</b>").format(number=view.number),
        _("Against: {proposal} {title} ({village})").format(
            proposal=q(p.number or "—"), title=q(p.title or ""), village=q(p.village_name)
        ),
        _("Category: {category}").format(category=category_label(view.category)),
        _("Filed: {when}").format(when=when(view.filed_at, p.round.timezone)),
        _("Status: {status}").format(status=outcome_label(view.outcome)),
    ]
    if for_pokja:
        head.append(
            _("From: {who} (anonymous)").format(who=q(view.who))
            if view.anonymous
            else _("From: {who}").format(who=q(view.who))
        )
        if view.evidence:
            head.append(_("Evidence: {n} file(s), sent below.").format(n=len(view.evidence)))
    blocks = ["\n".join(head), q(view.text)]
    if view.reply is not None:
        blocks.append(_("<b>The PAKEM's reply:</b>") + "\n" + q(view.reply))
    elif for_pokja:
        blocks.append(_("The PAKEM has not replied."))
    if view.answer is not None:
        blocks.append(
            _("<b>The POKJA's answer ({outcome}):</b>").format(outcome=outcome_label(view.outcome))
            + "\n"
            + q(view.answer)
        )
    return blocks


def own_objections_text(views: list[ObjectionView]) -> str:
    if not views:
        return _("You have not filed any objection. /objection files one while a window is open.")
    lines = [_("<b>Your objections</b>")]
    for v in views:
        lines.append(
            _("• {number} against {proposal} ({village}): {status}").format(
                number=v.number,
                proposal=q(v.proposal.number or "—"),
                village=q(v.proposal.village_name),
                status=outcome_label(v.outcome),
            )
        )
    lines.append(
        _("Send /status followed by a number to read one, e.g. /status {n}.").format(
            n=views[0].number
        )
    )
    return "\n".join(lines)


def amounts_line(entry: dict[str, Any]) -> str:
    parts = [
        _("{source}: {amount}").format(source=source_label(s), amount=money(int(a)))
        for s, a in dict(entry.get("sources") or {}).items()
    ]
    return _("{total}, of which {parts}").format(
        total=money(int(entry["total"])), parts="; ".join(parts)
    )


def candidates_blocks(params: dict[str, Any], district: str, zone: str) -> list[str]:
    start = datetime.fromisoformat(str(params["clarify_start"]))
    end = datetime.fromisoformat(str(params["clarify_end"]))
    blocks = [
        _(
            "⭐ <b>Candidate winners of {round}</b>, {district}\n"
            "Anyone may object from {start} until {until}: press a button below or send "
            "/objection."
        ).format(
            round=q(params["round"]),
            district=q(district),
            start=when(start, zone),
            until=when(end, zone),
        )
    ]
    for group in params["groups"]:
        lines = [
            _("<b>{village}</b>, Kec. {kecamatan}").format(
                village=q(group["village"]), kecamatan=q(group["kecamatan"])
            )
        ]
        for e in group["entries"]:
            lines.append(
                _("• {number}: {title}\n  {amounts}").format(
                    number=q(e["number"]), title=q(e["title"]), amounts=amounts_line(e)
                )
            )
        blocks.append("\n".join(lines))
    return blocks


def winners_blocks(params: dict[str, Any], district: str) -> list[str]:
    s = params["summary"]
    blocks = [
        _("🏆 <b>Final winners of {round}</b>, {district}").format(
            round=q(params["round"]), district=q(district)
        ),
        _(
            "Candidates announced: {candidates}. Objections received: {objections}, "
            "upheld {upheld}, dismissed {dismissed}. Winners: {winners}, in all {total}."
        ).format(
            candidates=s["candidates"],
            objections=s["objections"],
            upheld=s["upheld"],
            dismissed=s["dismissed"],
            winners=s["winners"],
            total=money(int(s["total"])),
        ),
    ]
    for group in params["groups"]:
        lines = [
            _("<b>{village}</b>, Kec. {kecamatan}").format(
                village=q(group["village"]), kecamatan=q(group["kecamatan"])
            )
        ]
        for e in group["entries"]:
            lines.append(
                _("• {number}: {title}\n  {amounts}").format(
                    number=q(e["number"]), title=q(e["title"]), amounts=amounts_line(e)
                )
            )
        blocks.append("\n".join(lines))
    return blocks


def _zone(p: Mapping[str, Any]) -> str:
    return str(p.get("zone") or "Asia/Jakarta")


# Refusals of reviewing, the round's calendar, candidates, objections and winners.
REVIEW_TEXTS: dict[Code, ErrorText] = {
    Code.DECIDED_MEANWHILE: lambda p: _(
        "Someone decided on this proposal while you were looking at it: {by} made it "
        "“{status}”{at}. Your decision was not saved. Here is the current state:"
    ).format(
        by=q(p.get("by")),
        status=proposal_status(str(p.get("status"))),
        at=(" " + _("at {when}").format(when=when(p["at"], _zone(p)))) if p.get("at") else "",
    ),
    Code.DECIDED: lambda p: _(
        "This proposal is already {status}; it cannot take that decision now."
    ).format(status=proposal_status(str(p.get("status")))),
    Code.CANDIDATES_PUBLISHED: says(
        __("The candidates were already announced; the list can no longer take new candidates.")
    ),
    Code.NOT_CANDIDATE: lambda p: _(
        "Only a candidate can be named winner; this one is {status}."
    ).format(status=proposal_status(str(p.get("status")))),
    Code.WINDOW_NOT_HELD: says(
        __("The candidates have not been announced, so there was no clarification window.")
    ),
    Code.WINDOW_STILL_OPEN: lambda p: _(
        "The clarification window is open until {when}; decide after it closes."
    ).format(when=when(p["until"], _zone(p))),
    Code.OBJECTIONS_OPEN: lambda p: _(
        "These objections are still unanswered: {numbers}. Answer each of them first."
    ).format(numbers=q(p["numbers"])),
    Code.REASON_SHORT: says(__("Please give a reason of at least {min} characters.")),
    Code.WINDOW_CLOSED: lambda p: _(
        "The clarification window closed on {when}. Objections can no longer be filed; "
        "/status shows the answers to yours."
    ).format(when=when(p["closed_at"], _zone(p))),
    Code.WINDOW_UNDATED: lambda p: _(
        "The clarification window of {round} has no closing date yet, so objections cannot "
        "be filed. The POKJA sets it; follow your village with /village to hear when."
    ).format(round=q(p["round"])),
    Code.NO_WINDOW: says(
        __(
            "No clarification window is open now. Candidates are announced first; follow your "
            "village with /village to hear when."
        )
    ),
    Code.OBJECTION_LIMIT: lambda p: _(
        "You have filed {max} objections in this window, the most allowed. Thank you; the "
        "POKJA answers each of them. /status shows their answers."
    ).format(max=p["max"]),
    Code.NOT_A_CANDIDATE: says(
        __("That proposal is no longer a candidate. /objection shows the current ones.")
    ),
    Code.EVIDENCE_TYPE: says(__("Evidence can be a photo, a document or a voice note.")),
    Code.ALREADY_REPLIED: says(
        __("Your committee has already replied to this objection; the reply is used once.")
    ),
    Code.OBJECTION_ANSWERED: says(__("This objection has already been answered.")),
    Code.NOT_ANONYMOUS: says(
        __("This objection was filed with a name; there is nothing to unmask.")
    ),
    Code.NOT_ADMIN: says(__("Only an admin of this district can do that.")),
    Code.OBJECTION: says(__("That objection is no longer open. /objection starts a new one.")),
    Code.VERIFICATION: says(
        __("That verification record is closed. Open the proposal to start another.")
    ),
    Code.VERIFICATION_EMPTY: says(__("Add notes, a photo or your location before saving.")),
    Code.VISIT_IN_FUTURE: says(__("The visit date cannot be in the future.")),
    Code.CALENDAR_ORDER: lambda p: _(
        "{field} must come after {before} ({when}). Choose a later date."
    ).format(
        field=field_label(p["field"]),
        before=field_label(p["before"]),
        when=when(p["when"], _zone(p)),
    ),
    Code.DATE_PAST: says(__("That date has already passed. Choose a date in the future.")),
    Code.DATE_FORMAT: says(__("Write the date like 31-12-2026 or 31-12-2026 17:00.")),
    Code.CLARIFY_END_NEEDED: says(
        __("Set the date the clarification window closes (in the future) with /round first.")
    ),
    Code.REVIEW_NOT_OVER: lambda p: _(
        "The review runs until {when}, as the calendar told everyone. Announce the "
        "candidates after it, or move the end of the review with /round."
    ).format(when=when(p["until"], _zone(p))),
    Code.REVIEW_UNFINISHED: lambda p: _(
        "These proposals are not decided yet: {numbers}. Shortlist, reject or wait for "
        "their revision first: the list closes when it is announced."
    ).format(numbers=q(p["numbers"])),
    Code.NO_CANDIDATES: says(__("No proposal is shortlisted as a candidate yet.")),
    Code.NO_CANDIDATES_ANNOUNCED: says(
        __("Announce the candidates first, then hold the clarification window.")
    ),
    Code.UNDECIDED: lambda p: _(
        "These candidates are not decided yet: {numbers}. Name each winner, or answer the "
        "objections against it, first."
    ).format(numbers=q(p["numbers"])),
    Code.NO_WINNERS: says(
        __("No winner has been named yet. Open a candidate in /review to name it.")
    ),
    Code.WINNERS_PUBLISHED: says(__("The winners were already announced.")),
    Code.LIST_CHANGED: says(
        __("The list changed since your preview. Here is the new one; check it again.")
    ),
    Code.REVISION_OVER: says(
        __("The revision deadline has passed; the proposal can no longer change.")
    ),
    Code.PERCENT_RANGE: says(__("Type a percentage from 0 to 100.")),
    Code.CHECKLIST_EMPTY: says(__("The checklist needs at least one item.")),
    Code.DEADLINE_PAST: says(
        __("The submission deadline must be in the future. Type a later date.")
    ),
    Code.NO_VILLAGES: says(
        __("This district has no villages yet; the operator imports them first.")
    ),
    Code.NO_OPEN_ROUND: says(
        __("No round is open for submissions, so a PAKEM cannot be invited yet. /round")
    ),
    Code.SEVERAL_ROUNDS: says(
        __("Several rounds are open; PAKEM invites for this case are made by the operator.")
    ),
    Code.VILLAGE_NOT_IN_ROUND: says(__("That village does not take part in the open round.")),
    Code.UNKNOWN_VILLAGE: says(__("That village is not part of this district.")),
    Code.VILLAGE_REQUIRED: says(__("That village is not part of this district.")),
    Code.CHECKLIST_LONG: says(__("The checklist can hold at most {max} items.")),
}
