"""What the sender delivers, rendered per recipient in that recipient's language."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _

from bot import i18n as fmt
from bot.announcements import Template, report_figures, submitted_view
from bot.reminders import item_payload
from bot.sender import OutMessage
from bot.text import join_blocks, q
from handlers.callbacks import AckCb, ObjAction, ObjCb
from handlers.formats import proposal_status
from handlers.render import summary_blocks
from handlers.review_text import (
    candidates_blocks,
    category_label,
    field_label,
    outcome_label,
    winners_blocks,
)
from handlers.roles_text import role_event
from storage.statuses import BroadcastKind
from storage.views import BroadcastView, ClaimedRow, DeliveryCounts, VillageCounts


def duration(seconds: float) -> str:
    """A rough, friendly duration: "about 3 minutes"."""
    minutes = round(seconds / 60)
    if seconds < 60:
        return _("less than a minute")
    if minutes < 90:
        return _("about {n} minutes").format(n=minutes)
    hours = round(seconds / 3600)
    if hours < 36:
        return _("about {n} hours").format(n=hours)
    return _("about {n} days").format(n=round(seconds / 86400))


class OutboundRenderer:
    """Holds the catalogs; each call renders in one locale (the sender has no update context)."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    def _locale(self, locale: str) -> str:
        return locale if locale in self.i18n.available_locales else self.i18n.default_locale

    def message(self, broadcast: BroadcastView, row: ClaimedRow) -> list[OutMessage]:
        with self.i18n.context(), self.i18n.use_locale(self._locale(row.locale)):
            if broadcast.kind == BroadcastKind.ANNOUNCEMENT:
                return [announcement(broadcast)]
            if broadcast.kind == BroadcastKind.REMINDER:
                return [reminder(row)]
            return event(broadcast)

    def progress(
        self, broadcast: BroadcastView, counts: DeliveryCounts, eta: float | None, locale: str
    ) -> str:
        with self.i18n.context(), self.i18n.use_locale(self._locale(locale)):
            return progress_text(broadcast, counts, eta)


def _num(value: int) -> str:
    return fmt.number(value, get_i18n().current_locale)


def announcement(broadcast: BroadcastView) -> OutMessage:
    head = _("📢 <b>Announcement from the POKJA of {district}</b>").format(
        district=q(broadcast.district_name)
    )
    text = f"{head}\n\n{q(broadcast.body)}" if broadcast.body else head
    return OutMessage(text, broadcast.media_kind, broadcast.media_file_id)


def round_opened(broadcast: BroadcastView) -> list[OutMessage]:
    p = broadcast.params
    deadline = datetime.fromisoformat(str(p["deadline"]))
    text = _(
        "📣 <b>{round}</b> is open in {district}. Village committees (PAKEM) can submit "
        "proposals until {when}. Follow your village with /village to hear every step."
    ).format(
        round=q(p["round"]),
        district=q(broadcast.district_name),
        when=fmt.when(deadline, ZoneInfo(broadcast.timezone), _current_locale()),
    )
    return [OutMessage(text)]


def delivery_report(broadcast: BroadcastView) -> list[OutMessage]:
    return [OutMessage(chunk) for chunk in report_text(*report_figures(broadcast.params))]


def event(broadcast: BroadcastView) -> list[OutMessage]:
    """An event in the reader's language; a template this version does not know (a row queued
    by a newer one) still reaches the person as news from the POKJA."""
    render = EVENTS.get(broadcast.template or "")
    if render is None:
        return [
            OutMessage(
                _("📣 News from the POKJA of {district}.").format(
                    district=q(broadcast.district_name)
                )
            )
        ]
    return render(broadcast)


def _keyboard(rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in rows]
    )


def candidates(broadcast: BroadcastView) -> list[OutMessage]:
    """The candidates, split into messages by village; objection buttons go last."""
    p = broadcast.params
    blocks = candidates_blocks(p, broadcast.district_name, broadcast.timezone)
    messages = [OutMessage(chunk) for chunk in join_blocks(blocks)]
    buttons = [
        (
            _("⚖️ Object to {number}").format(number=e["number"]),
            ObjCb(action=ObjAction.NEW, id=int(e["id"])).pack(),
        )
        for g in p["groups"]
        for e in g["entries"]
    ]
    # Telegram allows 100 buttons per message; /keberatan covers any beyond.
    messages[-1] = OutMessage(messages[-1].text, markup=_keyboard(buttons[:90]))
    return messages


def winners(broadcast: BroadcastView) -> list[OutMessage]:
    blocks = winners_blocks(broadcast.params, broadcast.district_name)
    return [OutMessage(chunk) for chunk in join_blocks(blocks)]


def submitted(broadcast: BroadcastView) -> list[OutMessage]:
    """The whole proposal as its committee submitted it, in as many messages as it needs (the
    sender resumes a row after the parts already delivered)."""
    view = submitted_view(broadcast.params)
    head = _("✅ {name} submitted proposal <b>{number}</b> for your village.").format(
        name=q(broadcast.params.get("submitter")), number=view.number
    )
    at = view.resubmitted_at or view.submitted_at or broadcast.created_at
    return [OutMessage(chunk) for chunk in join_blocks([head, *summary_blocks(view, at)])]


# -- about one proposal or objection, to the people concerned -----------------------------------


def decision(broadcast: BroadcastView) -> list[OutMessage]:
    p = broadcast.params
    lines = [
        _("🏛 The POKJA decided on your proposal <b>{number}</b> {title}: {decision}.").format(
            number=q(p.get("number")),
            title=q(p.get("title")),
            decision=proposal_status(str(p.get("decision"))),
        ),
        _("Reason: {reason}").format(reason=q(p.get("reason"))),
    ]
    if p.get("decision") == "revision" and p.get("deadline"):
        deadline = datetime.fromisoformat(str(p["deadline"]))
        lines.append(
            _(
                "You can change it until {when}: open it with /drafts, correct what is asked, "
                "and submit it again."
            ).format(when=fmt.when(deadline, ZoneInfo(broadcast.timezone), _current_locale()))
        )
    return [OutMessage("\n".join(lines))]


def objection_to_committee(broadcast: BroadcastView) -> list[OutMessage]:
    p = broadcast.params
    text = "\n".join(
        [
            _("⚖️ A resident objected to your proposal <b>{number}</b> {title}.").format(
                number=q(p.get("proposal_number")), title=q(p.get("title"))
            ),
            _("Objection {number}, {category}:").format(
                number=q(p.get("number")), category=category_label(str(p.get("category")))
            ),
            q(p.get("text")),
            "",
            _(
                "Your committee may answer once with a clarification; the POKJA reads it "
                "before deciding."
            ),
        ]
    )
    markup = _keyboard(
        [
            (
                _("✍️ Reply with a clarification"),
                ObjCb(action=ObjAction.REPLY, id=int(p["objection"])).pack(),
            )
        ]
    )
    return [OutMessage(text, markup=markup)]


def _open_objection(text: str, objection_id: int) -> list[OutMessage]:
    markup = _keyboard([(_("Open it"), ObjCb(action=ObjAction.OPEN, id=objection_id).pack())])
    return [OutMessage(text, markup=markup)]


def objection_to_pokja(broadcast: BroadcastView) -> list[OutMessage]:
    p = broadcast.params
    text = _("⚖️ New objection {number} against {proposal}: {category}.").format(
        number=q(p.get("number")),
        proposal=q(p.get("proposal_number")),
        category=category_label(str(p.get("category"))),
    )
    return _open_objection(text, int(p["objection"]))


def objection_replied(broadcast: BroadcastView) -> list[OutMessage]:
    p = broadcast.params
    text = _("💬 The PAKEM replied to objection {number} ({proposal}).").format(
        number=q(p.get("number")), proposal=q(p.get("proposal_number"))
    )
    return _open_objection(text, int(p["objection"]))


def objection_answered(broadcast: BroadcastView) -> list[OutMessage]:
    p = broadcast.params
    lines = [
        _("⚖️ Your objection <b>{number}</b> against {proposal} was {outcome}.").format(
            number=q(p.get("number")),
            proposal=q(p.get("proposal_number")),
            outcome=outcome_label(str(p.get("outcome"))),
        ),
        _("The POKJA's answer: {answer}").format(answer=q(p.get("answer"))),
    ]
    return [OutMessage("\n".join(lines))]


def objection_outcome(broadcast: BroadcastView) -> list[OutMessage]:
    p = broadcast.params
    lines = [
        _("⚖️ Objection {number} against your proposal {proposal} was {outcome}.").format(
            number=q(p.get("number")),
            proposal=q(p.get("proposal_number")),
            outcome=outcome_label(str(p.get("outcome"))),
        ),
        _("The POKJA's answer: {answer}").format(answer=q(p.get("answer"))),
        _("Your proposal is back in review; the POKJA decides on it again.")
        if p.get("outcome") == "upheld"
        else "",
    ]
    return [OutMessage("\n".join(lines).strip())]


def calendar_changed(broadcast: BroadcastView) -> list[OutMessage]:
    p = broadcast.params
    zone, loc = ZoneInfo(broadcast.timezone), _current_locale()
    new = datetime.fromisoformat(str(p["new"]))
    old = datetime.fromisoformat(str(p["old"])) if p.get("old") else None
    text = _("🗓 <b>{round}</b>: {field} moved to {new}.").format(
        round=q(p.get("round")),
        field=field_label(str(p["field"])),
        new=fmt.when(new, zone, loc),
    )
    if old is not None:
        text += " " + _("(It was {old}.)").format(old=fmt.when(old, zone, loc))
    return [OutMessage(text)]


def role_revoked(broadcast: BroadcastView) -> list[OutMessage]:
    return [role_event(broadcast)]


# Every event the outbox carries, by template; tests/test_outbound_templates.py renders each.
EVENTS: dict[Template, Callable[[BroadcastView], list[OutMessage]]] = {
    Template.ROUND_OPENED: round_opened,
    Template.CALENDAR_CHANGED: calendar_changed,
    Template.SUBMITTED: submitted,
    Template.DECISION: decision,
    Template.CANDIDATES: candidates,
    Template.WINNERS: winners,
    Template.OBJECTION_TO_COMMITTEE: objection_to_committee,
    Template.OBJECTION_TO_POKJA: objection_to_pokja,
    Template.OBJECTION_REPLIED: objection_replied,
    Template.OBJECTION_ANSWERED: objection_answered,
    Template.OBJECTION_OUTCOME: objection_outcome,
    Template.ROLE_REVOKED: role_revoked,
    Template.DELIVERY_REPORT: delivery_report,
}


def _current_locale() -> str:
    return get_i18n().current_locale


def reminder(row: ClaimedRow) -> OutMessage:
    locale = get_i18n().current_locale
    lines = [_("⏰ <b>Deadline reminder</b>")]
    for item in item_payload(row.payload):
        deadline = datetime.fromisoformat(str(item["deadline"]))
        zone = ZoneInfo(str(item.get("timezone") or "Asia/Jakarta"))
        template = (
            _(
                "• <b>{round}</b>, village {village}: the revision of {number} can be sent "
                "until {when} ({left} left)."
            )
            if item.get("kind") == "revision"
            else _(
                "• <b>{round}</b>, village {village}: proposals can be submitted until {when} "
                "({left} left)."
            )
        )
        line = template.format(
            round=q(item["round"]),
            village=q(item["village"]),
            number=q(item.get("number")),
            when=fmt.when(deadline, zone, locale),
            left=duration(int(str(item["left_minutes"])) * 60),
        )
        drafts = int(str(item.get("drafts") or 0))
        if drafts:
            line += " " + _("{n} draft(s) not submitted yet.").format(n=drafts)
        lines.append(line)
    lines.append(_("Continue with /drafts. Press the button below once you have read this."))
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("✅ Read"), callback_data=AckCb(id=row.id).pack())]
        ]
    )
    return OutMessage("\n".join(lines), markup=markup)


def counts_line(counts: DeliveryCounts) -> str:
    return _("{sent} sent, {blocked} blocked, {failed} failed").format(
        sent=_num(counts.sent), blocked=_num(counts.blocked), failed=_num(counts.failed)
    )


def progress_text(broadcast: BroadcastView, counts: DeliveryCounts, eta: float | None) -> str:
    figures = {
        "id": broadcast.id,
        "sent": _num(counts.sent),
        "total": _num(counts.total),
        "blocked": _num(counts.blocked),
        "failed": _num(counts.failed),
    }
    if counts.open == 0:
        return _(
            "✅ Announcement #{id} delivered.\nSent {sent} of {total}; {blocked} blocked, "
            "{failed} failed."
        ).format(**figures)
    text = _(
        "📤 Sending announcement #{id}\nSent: {sent} / {total}\nBlocked: {blocked}\n"
        "Failed: {failed}"
    ).format(**figures)
    if eta is not None:
        text += "\n" + _("Time left: {eta}").format(eta=duration(eta))
    return text


def report_text(
    announcement_id: int, counts: DeliveryCounts, villages: list[VillageCounts]
) -> list[str]:
    blocks = [
        _("📊 <b>Delivery report, announcement #{id}</b>\n{counts}").format(
            id=announcement_id, counts=counts_line(counts)
        )
    ]
    for village in villages:
        name = q(village.name) if village.name else _("District-wide (POKJA and others)")
        blocks.append(f"• {name}: {counts_line(village.counts)}")
    return join_blocks(blocks, sep="\n")


def plain_text(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def history_text(broadcasts: list[BroadcastView], counts: dict[int, DeliveryCounts]) -> list[str]:
    locale = get_i18n().current_locale
    if not broadcasts:
        return [_("No announcements yet.")]
    blocks = [_("📢 <b>Recent announcements</b>")]
    for b in broadcasts:
        when = fmt.when(b.queued_at or b.created_at, ZoneInfo(b.timezone), locale)
        if b.kind == BroadcastKind.EVENT:
            # Events are HTML: cut the plain text, or a tag cut in half breaks the message.
            body = plain_text(event(b)[0].text)
        else:
            body = b.body or ""
        preview = body if len(body) <= 300 else body[:300] + "…"
        block = f"<b>#{b.id}</b> · {when}\n{q(preview)}"
        if b.id in counts:
            block += "\n" + counts_line(counts[b.id])
            if counts[b.id].open:
                block += " " + _("({n} still queued)").format(n=_num(counts[b.id].open))
        blocks.append(block)
    return join_blocks(blocks)
