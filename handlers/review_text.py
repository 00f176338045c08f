"""What the POKJA, committees and objectors read about reviews, objections and winners."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.errors import DomainError
from bot.objections import ObjectionView
from bot.review import CheckItem, Dossier, Event, QueuePage
from bot.rounds import CALENDAR, VillageStatus
from bot.text import q
from handlers.render import activity_label, money, source_label, when
from storage.views import RoundView


def proposal_status(status: str) -> str:
    return {
        "draft": _("draft"),
        "submitted": _("in review"),
        "revision": _("revision requested"),
        "rejected": _("rejected"),
        "candidate": _("candidate winner"),
        "winner": _("winner"),
    }.get(status, status)


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


def review_error(exc: DomainError) -> str | None:
    """Texts for the codes of this part; None leaves it to `render.error_text`."""
    from handlers.roles_text import roles_error

    if (text := roles_error(exc)) is not None:
        return text
    p = exc.params
    code = exc.code
    zone = str(p.get("zone") or "Asia/Jakarta")
    if code == "decided_meanwhile":
        return _(
            "Someone decided on this proposal while you were looking at it: {by} made it "
            "“{status}”{at}. Your decision was not saved. Here is the current state:"
        ).format(
            by=q(p.get("by")),
            status=proposal_status(str(p.get("status"))),
            at=(" " + _("at {when}").format(when=when(p["at"], zone))) if p.get("at") else "",
        )
    if code == "decided":
        return _("This proposal is already {status}; it cannot take that decision now.").format(
            status=proposal_status(str(p.get("status")))
        )
    if code == "candidates_published":
        return _(
            "The candidates were already announced; the list can no longer take new candidates."
        )
    if code == "not_candidate":
        return _("Only a candidate can be named winner; this one is {status}.").format(
            status=proposal_status(str(p.get("status")))
        )
    if code == "window_not_held":
        return _("The candidates have not been announced, so there was no clarification window.")
    if code == "window_still_open":
        return _("The clarification window is open until {when}; decide after it closes.").format(
            when=when(p["until"], zone)
        )
    if code == "objections_open":
        return _(
            "These objections are still unanswered: {numbers}. Answer each of them first."
        ).format(numbers=q(p["numbers"]))
    if code == "reason_short":
        return _("Please give a reason of at least {min} characters.").format(**p)
    if code == "window_closed":
        return _(
            "The clarification window closed on {when}. Objections can no longer be filed; "
            "/status shows the answers to yours."
        ).format(when=when(p["closed_at"], zone))
    if code == "no_window":
        return _(
            "No clarification window is open now. Candidates are announced first; follow your "
            "village with /village to hear when."
        )
    if code == "objection_limit":
        return _(
            "You have filed {max} objections in this window, the most allowed. Thank you; the "
            "POKJA answers each of them. /status shows their answers."
        ).format(max=p["max"])
    if code == "not_a_candidate":
        return _("That proposal is no longer a candidate. /objection shows the current ones.")
    if code == "evidence_type":
        return _("Evidence can be a photo, a document or a voice note.")
    if code == "already_replied":
        return _("Your committee has already replied to this objection; the reply is used once.")
    if code == "objection_answered":
        return _("This objection has already been answered.")
    if code == "not_anonymous":
        return _("This objection was filed with a name; there is nothing to unmask.")
    if code == "not_admin":
        return _("Only an admin of this district can do that.")
    if code == "objection":
        return _("That objection is no longer open. /objection starts a new one.")
    if code == "verification":
        return _("That verification record is closed. Open the proposal to start another.")
    if code == "verification_empty":
        return _("Add notes, a photo or your location before saving.")
    if code == "visit_in_future":
        return _("The visit date cannot be in the future.")
    if code == "calendar_order":
        return _("{field} must come after {before} ({when}). Choose a later date.").format(
            field=field_label(p["field"]),
            before=field_label(p["before"]),
            when=when(p["when"], zone),
        )
    if code == "date_past":
        return _("That date has already passed. Choose a date in the future.")
    if code == "date_format":
        return _("Write the date like 31-12-2026 or 31-12-2026 17:00.")
    if code == "clarify_end_needed":
        return _("Set the date the clarification window closes (in the future) with /round first.")
    if code == "review_not_over":
        return _(
            "The review runs until {when}, as the calendar told everyone. Announce the "
            "candidates after it, or move the end of the review with /round."
        ).format(when=when(p["until"], zone))
    if code == "review_unfinished":
        return _(
            "These proposals are not decided yet: {numbers}. Shortlist, reject or wait for "
            "their revision first: the list closes when it is announced."
        ).format(numbers=q(p["numbers"]))
    if code == "no_candidates":
        return _("No proposal is shortlisted as a candidate yet.")
    if code == "no_candidates_announced":
        return _("Announce the candidates first, then hold the clarification window.")
    if code == "undecided":
        return _(
            "These candidates are not decided yet: {numbers}. Name each winner, or answer the "
            "objections against it, first."
        ).format(numbers=q(p["numbers"]))
    if code == "no_winners":
        return _("No winner has been named yet. Open a candidate in /review to name it.")
    if code == "winners_published":
        return _("The winners were already announced.")
    if code == "list_changed":
        return _("The list changed since your preview. Here is the new one; check it again.")
    if code == "revision_over":
        return _("The revision deadline has passed; the proposal can no longer change.")
    if code == "percent_range":
        return _("Type a percentage from 0 to 100.")
    if code == "checklist_empty":
        return _("The checklist needs at least one item.")
    if code == "deadline_past":
        return _("The submission deadline must be in the future. Type a later date.")
    if code == "no_villages":
        return _("This district has no villages yet; the operator imports them first.")
    if code == "no_open_round":
        return _("No round is open for submissions, so a PAKEM cannot be invited yet. /round")
    if code == "several_rounds":
        return _("Several rounds are open; PAKEM invites for this case are made by the operator.")
    if code == "village_not_in_round":
        return _("That village does not take part in the open round.")
    if code in ("unknown_village", "village_required"):
        return _("That village is not part of this district.")
    if code == "checklist_long":
        return _("The checklist can hold at most {max} items.").format(**p)
    return None
