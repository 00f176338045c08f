"""What the sender delivers, rendered per recipient in that recipient's language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import i18n as fmt
from bot.reminders import item_payload
from bot.sender import OutMessage
from bot.text import join_blocks, q
from handlers.callbacks import AckCb
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
            if broadcast.kind == "announcement":
                return [announcement(broadcast)]
            if broadcast.kind == "reminder":
                return [reminder(row)]
            return [event(broadcast)]

    def progress(
        self, broadcast: BroadcastView, counts: DeliveryCounts, eta: float | None, locale: str
    ) -> str:
        with self.i18n.context(), self.i18n.use_locale(self._locale(locale)):
            return progress_text(broadcast, counts, eta)

    def report(
        self,
        broadcast: BroadcastView,
        counts: DeliveryCounts,
        villages: list[VillageCounts],
        locale: str,
    ) -> list[str]:
        with self.i18n.context(), self.i18n.use_locale(self._locale(locale)):
            return report_text(broadcast, counts, villages)


def _num(value: int) -> str:
    from aiogram.utils.i18n import get_i18n

    return fmt.number(value, get_i18n().current_locale)


def announcement(broadcast: BroadcastView) -> OutMessage:
    head = _("📢 <b>Announcement from the POKJA of {district}</b>").format(
        district=q(broadcast.district_name)
    )
    text = f"{head}\n\n{q(broadcast.body)}" if broadcast.body else head
    return OutMessage(text, broadcast.media_kind, broadcast.media_file_id)


def event(broadcast: BroadcastView) -> OutMessage:
    from aiogram.utils.i18n import get_i18n

    p = broadcast.params
    if broadcast.template == "round_opened":
        deadline = datetime.fromisoformat(str(p["deadline"]))
        text = _(
            "📣 <b>{round}</b> is open in {district}. Village committees (PAKEM) can submit "
            "proposals until {when}. Follow your village with /desa to hear every step."
        ).format(
            round=q(p["round"]),
            district=q(broadcast.district_name),
            when=fmt.when(deadline, ZoneInfo(broadcast.timezone), get_i18n().current_locale),
        )
        return OutMessage(text)
    return OutMessage(
        _("📣 News from the POKJA of {district}.").format(district=q(broadcast.district_name))
    )


def reminder(row: ClaimedRow) -> OutMessage:
    from aiogram.utils.i18n import get_i18n

    locale = get_i18n().current_locale
    lines = [_("⏰ <b>Deadline reminder</b>")]
    for item in item_payload(row.payload):
        deadline = datetime.fromisoformat(str(item["deadline"]))
        zone = ZoneInfo(str(item.get("timezone") or "Asia/Jakarta"))
        line = _(
            "• <b>{round}</b>, village {village}: proposals can be submitted until {when} "
            "({left} left)."
        ).format(
            round=q(item["round"]),
            village=q(item["village"]),
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
    broadcast: BroadcastView, counts: DeliveryCounts, villages: list[VillageCounts]
) -> list[str]:
    blocks = [
        _("📊 <b>Delivery report, announcement #{id}</b>\n{counts}").format(
            id=broadcast.id, counts=counts_line(counts)
        )
    ]
    for village in villages:
        name = q(village.name) if village.name else _("District-wide (POKJA and others)")
        blocks.append(f"• {name}: {counts_line(village.counts)}")
    return join_blocks(blocks, sep="\n")


def history_text(broadcasts: list[BroadcastView], counts: dict[int, DeliveryCounts]) -> list[str]:
    from aiogram.utils.i18n import get_i18n

    locale = get_i18n().current_locale
    if not broadcasts:
        return [_("No announcements yet.")]
    blocks = [_("📢 <b>Recent announcements</b>")]
    for b in broadcasts:
        when = fmt.when(b.queued_at or b.created_at, ZoneInfo(b.timezone), locale)
        body = b.body or (event(b).text if b.kind == "event" else "")
        preview = body if len(body) <= 300 else body[:300] + "…"
        block = f"<b>#{b.id}</b> · {when}\n{q(preview) if b.kind != 'event' else preview}"
        if b.id in counts:
            block += "\n" + counts_line(counts[b.id])
            if counts[b.id].open:
                block += " " + _("({n} still queued)").format(n=_num(counts[b.id].open))
        blocks.append(block)
    return join_blocks(blocks)
