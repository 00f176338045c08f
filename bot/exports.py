"""Exports for the radio, the district website and notice boards (PAKET step 10).

Files are built in memory from plain rows, in the language passed in; handlers send them as
documents. Amounts stay integer Rupiah in the CSV and XLSX so spreadsheets can sum them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import i18n as fmt
from bot import labels, policy
from bot.review import assemble as dossier_of
from bot.review import guard_pokja, swadaya_share
from bot.winners import summary as round_summary
from storage import queries
from storage import review as store
from storage.views import PersonView, RoundView

Gettext = Callable[[str], str]
SOURCES = ("swadaya", "apbd", "apbn", "other")


@dataclass(frozen=True)
class Row:
    number: str
    kecamatan: str
    village: str
    title: str
    activity: str
    status: str
    score_yes: int
    score_of: int
    swadaya_pct: int
    total: int
    sources: dict[str, int]
    objections: int
    upheld: int
    submitted_at: datetime | None
    resubmitted_at: datetime | None = None


@dataclass(frozen=True)
class Bundle:
    round: RoundView
    district_name: str
    rows: list[Row]
    objections: int
    upheld: int
    dismissed: int
    candidates: int


async def collect(
    session: AsyncSession, person: PersonView, round_id: int, now: datetime
) -> Bundle:
    round_ = await queries.round_by_id(session, round_id)
    if round_ is None:
        from bot.errors import NotFound

        raise NotFound()
    await guard_pokja(session, person, round_.district_id, "export", f"round:{round_id}", now)
    district = await queries.district_by_id(session, round_.district_id)
    rows = []
    for proposal in await store.round_proposals(session, round_id):
        view = await queries.proposal_view(session, proposal)
        dossier = await dossier_of(session, view)
        yes, of = dossier.score
        rows.append(
            Row(
                view.number or "",
                view.kecamatan_name,
                view.village_name,
                view.title or "",
                view.activity or "",
                view.status,
                yes,
                of,
                swadaya_share(view),
                view.total,
                view.totals_by_source(),
                len(dossier.objections),
                sum(1 for o in dossier.objections if o.outcome == "upheld"),
                view.submitted_at,
                view.resubmitted_at,
            )
        )
    counts = await round_summary(session, round_)
    return Bundle(
        round_,
        district.name if district else "",
        rows,
        counts.objections,
        counts.upheld,
        counts.dismissed,
        counts.candidates,
    )


def winners(bundle: Bundle) -> list[Row]:
    return [r for r in bundle.rows if r.status == policy.WINNER]


def _headers(_: Gettext) -> list[str]:
    return [
        _("Number"),
        _("Kecamatan"),
        _("Village"),
        _("Title"),
        _("Activity"),
        _("Status"),
        _("Checklist (yes of applicable)"),
        _("Self-help share %"),
        _("Total (Rp)"),
        _("Self-help (Rp)"),
        _("APBD (Rp)"),
        _("APBN (Rp)"),
        _("Other (Rp)"),
        _("Objections"),
        _("Objections upheld"),
        _("Submitted"),
        _("Resubmitted after revision"),
    ]


def _cells(row: Row, zone: ZoneInfo, _: Gettext, status: Callable[[str], str]) -> list[object]:
    return [
        row.number,
        row.kecamatan,
        row.village,
        row.title,
        labels.activity_label(row.activity, _),
        status(row.status),
        f"{row.score_yes}/{row.score_of}",
        row.swadaya_pct,
        row.total,
        *(row.sources.get(s, 0) for s in SOURCES),
        row.objections,
        row.upheld,
        _stamp(row.submitted_at, zone),
        _stamp(row.resubmitted_at, zone),
    ]


def _stamp(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def to_csv(bundle: Bundle, _: Gettext, status: Callable[[str], str]) -> bytes:
    zone = ZoneInfo(bundle.round.timezone)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_headers(_))
    for row in bundle.rows:
        writer.writerow(_cells(row, zone, _, status))
    # A byte-order mark lets spreadsheet programs on Windows read the accents right.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(bundle: Bundle, _: Gettext, status: Callable[[str], str]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    zone = ZoneInfo(bundle.round.timezone)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Proposals")[:31]
    sheet.append(_headers(_))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in bundle.rows:
        sheet.append(_cells(row, zone, _, status))
    for column in ("I", "J", "K", "L", "M"):
        for cell in sheet[column][1:]:
            cell.number_format = "#,##0"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def radio_script(bundle: Bundle, _: Gettext, locale: str) -> str:
    """Plain sentences an announcer can read aloud: no tables, amounts spelt with 'Rupiah'."""
    chosen = winners(bundle)
    lines = [
        _("Announcement of the PAKET winners, {round}, {district}.").format(
            round=bundle.round.name, district=bundle.district_name
        ),
        "",
        _(
            "After review and a public clarification window, the working group (POKJA) names "
            "{n} winning proposals."
        ).format(n=len(chosen)),
        _(
            "{candidates} candidates were announced. Residents filed {objections} objections: "
            "{upheld} were upheld and {dismissed} dismissed."
        ).format(
            candidates=bundle.candidates,
            objections=bundle.objections,
            upheld=bundle.upheld,
            dismissed=bundle.dismissed,
        ),
        "",
    ]
    for index, row in enumerate(chosen, start=1):
        lines.append(
            _(
                "Number {index}. Village {village}, Kecamatan {kecamatan}: {title}. "
                "Total {total} Rupiah, of which self-help {swadaya} Rupiah."
            ).format(
                index=index,
                village=row.village,
                kecamatan=row.kecamatan,
                title=row.title,
                total=fmt.number(row.total, locale),
                swadaya=fmt.number(row.sources.get("swadaya", 0), locale),
            )
        )
    lines += [
        "",
        _("Congratulations to the winning villages. Follow every step with PAKET Bot on Telegram."),
        "",
    ]
    return "\n".join(lines)


def winners_pdf(bundle: Bundle, _: Gettext, locale: str, now: datetime) -> bytes:
    """One A4 page for notice boards; long lists shrink the type rather than spill over."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    width, height = A4
    margin = 40
    chosen = winners(bundle)
    size = 10 if len(chosen) <= 25 else max(6, int(10 * 25 / len(chosen)))
    y = height - margin
    page.setTitle(_("PAKET winners"))
    page.setFont("Helvetica-Bold", 16)
    page.drawString(margin, y, _("PAKET winners: {round}").format(round=bundle.round.name))
    y -= 20
    page.setFont("Helvetica", 11)
    page.drawString(margin, y, bundle.district_name)
    y -= 16
    page.setFont("Helvetica", 9)
    page.drawString(
        margin,
        y,
        _("Objections: {objections} received, {upheld} upheld, {dismissed} dismissed.").format(
            objections=bundle.objections, upheld=bundle.upheld, dismissed=bundle.dismissed
        ),
    )
    y -= 22
    page.setFont("Helvetica-Bold", size)
    columns = (margin, margin + 80, margin + 190, width - margin - 150)
    for x, label in zip(columns, (_("Number"), _("Village"), _("Title"), _("Total")), strict=True):
        page.drawString(x, y, label)
    y -= size + 6
    page.setFont("Helvetica", size)
    total = 0
    for row in chosen:
        page.drawString(columns[0], y, row.number)
        page.drawString(columns[1], y, row.village[:22])
        page.drawString(columns[2], y, row.title[: int(60 * 10 / size)])
        page.drawRightString(width - margin, y, fmt.money(row.total, locale))
        total += row.total
        y -= size + 4
    y -= 4
    page.setFont("Helvetica-Bold", size)
    page.drawString(columns[2], y, _("Total"))
    page.drawRightString(width - margin, y, fmt.money(total, locale))
    page.setFont("Helvetica", 7)
    page.drawString(
        margin,
        margin / 2,
        _("Printed {when} from PAKET Bot.").format(
            when=fmt.when(now, ZoneInfo(bundle.round.timezone), locale)
        ),
    )
    page.showPage()
    page.save()
    return out.getvalue()
