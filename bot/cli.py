"""`paket-bot`: the district operator's command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import N_, ConfigError, Settings, load_settings
from bot.errors import Code, DomainError
from bot.i18n import normalize_locale, translations
from bot.money import AmountError, parse_amount
from storage.types import utcnow
from storage.views import DistrictView, Role

INVALID_TEXT: dict[Code, str] = {
    Code.VILLAGE_REQUIRED: N_("a PAKEM invite needs --village KODE"),
    Code.UNKNOWN_VILLAGE: N_("{kode} is not a village of this district"),
    Code.NO_OPEN_ROUND: N_(
        "no round is open for submissions: open one with `paket-bot round open`"
    ),
    Code.SEVERAL_ROUNDS: N_("several rounds are open ({ids}): choose one with --round ID"),
    Code.UNKNOWN_ROUND: N_("round {id} does not exist in this district"),
    Code.VILLAGE_NOT_IN_ROUND: N_("village {kode} does not take part in that round"),
    Code.VILLAGE_ONLY_FOR_PAKEM: N_("--village and --round apply to PAKEM invites only"),
    Code.ROUND_NAME: N_("--name must be 1 to 120 characters"),
    Code.DEADLINE_PAST: N_("the submission deadline must be in the future"),
    Code.CEILING_RANGE: N_("--ceiling must be more than zero and at most Rp 10.000.000.000"),
    Code.NO_VILLAGES: N_(
        "this district has no villages: run `paket-bot regions import FILE.csv` first"
    ),
    Code.UNKNOWN_VILLAGES: N_("not villages of this district: {kode}"),
    Code.REMINDER_OFFSETS: N_("--reminders looks like 7d,3d,1d,3h (days, hours or minutes before)"),
    Code.CSV_COLUMNS: N_("the CSV lacks the columns: {missing}"),
    Code.CSV_ROW: N_("line {line} of the CSV has an empty code or name or an unknown level"),
    Code.CSV_ONE_DISTRICT: N_(
        "the CSV must hold exactly one kabupaten or kota row (found {found})"
    ),
    Code.CSV_OUTSIDE: N_("{kode} does not belong to the district in this CSV"),
    Code.PREFIX_TAKEN: N_(
        "another district already numbers its proposals {prefix}: choose another --prefix, "
        "for example {suggestion}"
    ),
    Code.PREFIX_FORMAT: N_("--prefix must be 2 to 8 letters or digits, e.g. KDL (not {prefix})"),
    Code.NO_SUCH_ROLE: N_(
        "that person holds no {role} role here (see `paket-bot people`; PAKEM: check --village)"
    ),
    Code.REASON_SHORT: N_("--reason must be at least {min} characters"),
    Code.TOO_LONG: N_("--reason is too long: {length} characters, at most {max}"),
    Code.MEMBER: N_("that role was revoked meanwhile"),
}


def _(message: str) -> str:
    """The operator's language: DEFAULT_LOCALE, Indonesian unless set otherwise."""
    locale = normalize_locale(os.environ.get("DEFAULT_LOCALE"), "id")
    return translations(locale).gettext(message)


class CliError(Exception):
    """Printed as one line; the exit status is 1."""


def explain(exc: DomainError) -> str:
    template = INVALID_TEXT.get(exc.code)
    if template is None:
        return exc.code.value.replace("_", " ")
    try:
        return _(template).format(**exc.params)
    except (KeyError, IndexError):
        return template


def stamp(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}"


def parse_deadline(text: str, zone: ZoneInfo) -> datetime:
    """ "2026-12-31" (end of that day), "2026-12-31 17:00", or ISO 8601 with an offset."""
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(
            _("Cannot read the deadline {text!r}: use YYYY-MM-DD or 'YYYY-MM-DD HH:MM'.").format(
                text=text
            )
        ) from None
    if len(text) == 10:
        moment = datetime.combine(moment.date(), time(23, 59))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


async def _with_session(
    settings: Settings,
    work: Callable[[AsyncSession], Awaitable[Any]],
    *,
    read_only: bool = False,
) -> Any:
    """One transaction for one command. A command that only reads (`people`, `inbox`) does not
    take SQLite's write lock, so it answers at once while the bot is busy."""
    from bot.startup import check_database
    from storage import migrate
    from storage.db import READ_ONLY_OPTION, create_engine, session_factory

    engine = create_engine(settings.database_url)
    try:
        await check_database(engine, settings.database_url)
        await migrate.upgrade_if_needed(engine)
        async with session_factory(engine)() as session:
            if read_only:
                await session.connection(execution_options={READ_ONLY_OPTION: True})
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


async def _district(session: AsyncSession, kode: str | None) -> DistrictView:
    from storage import queries

    if kode:
        district = await queries.district_by_kode(session, kode)
        if district is None:
            raise CliError(_("There is no district with code {kode}.").format(kode=kode))
        return district
    found = await queries.districts(session)
    if not found:
        raise CliError(
            _("There is no district yet: run `paket-bot regions import FILE.csv` first.")
        )
    if len(found) > 1:
        codes = ", ".join(f"{d.kode} ({d.name})" for d in found)
        raise CliError(
            _("There are several districts ({codes}): choose one with --district KODE.").format(
                codes=codes
            )
        )
    return found[0]


# -- commands ----------------------------------------------------------------------------------


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.leader import SingleInstanceLock, sqlite_file

    if args.webhook:
        settings = settings.model_copy(update={"webhook_url": args.webhook})
    settings.require_token()
    # Refuse a bad database before the slow import of the Telegram runtime.
    asyncio.run(_with_session(settings, lambda s: _noop()))
    database_file = sqlite_file(settings.database_url)
    # One process per SQLite file: a second one would poll against the first (409) and share
    # its single writer lock. PostgreSQL instances elect their one poller instead.
    lock = SingleInstanceLock(database_file) if database_file is not None else None
    if lock is not None:
        lock.acquire()
    from bot.app import App

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        asyncio.run(App(settings).run_polling())
    finally:
        if lock is not None:
            lock.release()
    return 0


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(_with_session(settings, lambda s: _noop()))
    print(_("The database is at the latest schema."))
    return 0


async def _noop() -> None:
    return None


def cmd_regions_import(settings: Settings, args: argparse.Namespace) -> int:
    from bot.regions import import_regions

    path = Path(args.file)
    try:
        content = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CliError(
            _("Cannot read {path}: {reason}").format(path=path, reason=exc.strerror)
        ) from None
    result = asyncio.run(
        _with_session(
            settings,
            lambda s: import_regions(
                s,
                content,
                utcnow(),
                prefix=args.prefix,
                timezone=args.timezone or settings.timezone,
            ),
        )
    )
    template = (
        _("Imported {name} ({kode}): {kecamatan} kecamatan, {villages} villages.")
        if result.created
        else _("Updated {name} ({kode}): {kecamatan} kecamatan, {villages} villages.")
    )
    print(
        template.format(
            name=result.district_name,
            kode=result.district_kode,
            kecamatan=result.kecamatan,
            villages=result.villages,
        )
    )
    print(_("Its proposals are numbered {prefix}-YEAR-001, -002, ...").format(prefix=result.prefix))
    return 0


def cmd_round_open(settings: Settings, args: argparse.Namespace) -> int:
    from bot.rounds import open_round

    ceiling = None
    if args.ceiling:
        try:
            ceiling = parse_amount(args.ceiling)
        except AmountError:
            raise CliError(
                _("Cannot read the ceiling {text!r}: try 500000000 or '500 juta'.").format(
                    text=args.ceiling
                )
            ) from None
    villages = [v.strip() for v in args.villages.split(",") if v.strip()] if args.villages else None

    async def work(session: AsyncSession) -> Any:
        district = await _district(session, args.district)
        deadline = parse_deadline(args.submission_deadline, ZoneInfo(district.timezone))
        return await open_round(
            session,
            district,
            args.name,
            deadline,
            utcnow(),
            ceiling=ceiling,
            villages=villages,
            reminder_offsets=args.reminders,
            actor_label="cli",
        )

    round_ = asyncio.run(_with_session(settings, work))
    zone = ZoneInfo(round_.timezone)
    print(
        _("Round {id} is open: {name}, submissions until {deadline}.").format(
            id=round_.id, name=round_.name, deadline=stamp(round_.submission_deadline, zone)
        )
    )
    return 0


def cmd_invite(settings: Settings, args: argparse.Namespace) -> int:
    from bot.deeplink import start_link
    from bot.people import create_invite
    from storage import queries

    async def work(session: AsyncSession) -> Any:
        district = await _district(session, args.district)
        invite = await create_invite(
            session,
            district,
            Role(args.role),
            utcnow(),
            days=args.days or settings.invite_days,
            village_kode=args.village,
            round_id=args.round,
            actor_label="cli",
        )
        username = settings.bot_username or await queries.get_setting(session, "bot_username")
        return invite, username, district

    invite, username, district = asyncio.run(_with_session(settings, work))
    zone = ZoneInfo(district.timezone)
    until = stamp(invite.expires_at, zone)
    if invite.village_kode:
        line = _(
            "One-time {role} invite for village {village} in round {round}, valid until {until}:"
        ).format(
            role=invite.role.value, village=invite.village_kode, round=invite.round_id, until=until
        )
    else:
        line = _("One-time {role} invite, valid until {until}:").format(
            role=invite.role.value, until=until
        )
    print(line)
    if username:
        print(start_link(username, invite.code))
    else:
        print(_("(The bot's @username is not known yet: start the bot once, or set BOT_USERNAME.)"))
    print(f"/start {invite.code}")
    return 0


def cmd_people(settings: Settings, args: argparse.Namespace) -> int:
    from storage import queries

    people = asyncio.run(_with_session(settings, queries.all_people, read_only=True))
    if not people:
        print(_("Nobody has written to the bot yet."))
        return 0
    for person in people:
        roles = ", ".join(
            g.role.value + (f"@{g.village_kode}/round {g.round_id}" if g.village_kode else "")
            for g in person.grants
        ) or _("resident")
        print(f"{person.id}\t{person.telegram_id}\t{person.full_name}\t{person.locale}\t{roles}")
    return 0


def cmd_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from bot.roles import revoke
    from storage import roles as roles_store

    async def work(session: AsyncSession) -> Any:
        district = await _district(session, args.district)
        person = await roles_store.person_by_handle(session, args.person)
        if person is None:
            raise CliError(
                _(
                    "Nobody with the Telegram id or @username {person} has written to the bot "
                    "(see `paket-bot people`)."
                ).format(person=args.person)
            )
        return await revoke(
            session,
            district.id,
            person,
            Role(args.role),
            args.reason,
            utcnow(),
            village_kode=args.village,
            actor_label="cli",
        )

    done = asyncio.run(_with_session(settings, work))
    print(
        _(
            "Revoked: {name} is no longer {role} ({n} grant(s)). They are told by the bot, "
            "and it is in the audit log."
        ).format(name=done.full_name, role=done.role.value, n=done.grants)
    )
    return 0


def cmd_inbox(settings: Settings, args: argparse.Namespace) -> int:
    from storage import inbox

    async def work(session: AsyncSession) -> Any:
        return await inbox.depth(session), await inbox.failed(session)

    depth, failed = asyncio.run(_with_session(settings, work, read_only=True))
    counts = ", ".join(f"{status} {n}" for status, n in sorted(depth.by_status.items()))
    print(
        _("Updates in the inbox: {counts}.").format(counts=counts)
        if counts
        else _("The inbox is empty.")
    )
    if depth.oldest_pending is not None:
        age = int((utcnow() - depth.oldest_pending).total_seconds())
        print(_("The oldest update not yet handled came {seconds} s ago.").format(seconds=age))
    if not failed:
        print(_("No update is set aside as failed."))
        return 0
    print(_("Set aside as failed (try one again with `paket-bot inbox retry ID`):"))
    for row in failed:
        print(f"{row.update_id}\t{row.chat_id}\t{row.kind}\t{row.attempts}\t{row.error or ''}")
    return 0


def cmd_inbox_retry(settings: Settings, args: argparse.Namespace) -> int:
    from storage import inbox

    if not asyncio.run(
        _with_session(settings, lambda session: inbox.retry(session, args.id, utcnow()))
    ):
        raise CliError(_("There is no failed update {id} in the inbox.").format(id=args.id))
    print(_("Update {id} is pending again; the running bot handles it shortly.").format(id=args.id))
    return 0


# -- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paket-bot",
        description=_("PAKET Bot: run the bot and administer a district's rounds."),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run", help=_("run the bot (long polling, or a webhook with WEBHOOK_URL or --webhook)")
    )
    run.add_argument(
        "--webhook",
        metavar="URL",
        help=_("the public HTTPS address Telegram posts updates to (else long polling)"),
    )
    run.set_defaults(func=cmd_run)

    db = sub.add_parser("db", help=_("database schema"))
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help=_("bring the schema up to date")).set_defaults(
        func=cmd_db_upgrade
    )

    regions = sub.add_parser("regions", help=_("official region codes"))
    regions_sub = regions.add_subparsers(dest="regions_command", required=True, metavar="ACTION")
    imp = regions_sub.add_parser("import", help=_("import a district from CSV (kode,nama,tingkat)"))
    imp.add_argument("file", help=_("CSV file with the columns kode, nama, tingkat"))
    imp.add_argument("--prefix", help=_("letters for proposal numbers, e.g. KDL"))
    imp.add_argument("--timezone", help=_("the district's IANA zone (default: TIMEZONE)"))
    imp.set_defaults(func=cmd_regions_import)

    rnd = sub.add_parser("round", help=_("funding rounds"))
    rnd_sub = rnd.add_subparsers(dest="round_command", required=True, metavar="ACTION")
    opn = rnd_sub.add_parser("open", help=_("open a round"))
    opn.add_argument("--name", required=True, help=_("e.g. 'Tahap 1 2026'"))
    opn.add_argument(
        "--submission-deadline",
        required=True,
        help=_("YYYY-MM-DD (end of day) or 'YYYY-MM-DD HH:MM', district time"),
    )
    opn.add_argument("--ceiling", help=_("most a proposal may ask, in Rupiah, e.g. '500 juta'"))
    opn.add_argument("--villages", help=_("comma-separated village codes (default: all)"))
    opn.add_argument(
        "--reminders", help=_("reminder lead times, e.g. 7d,3d,1d,3h (default: REMINDER_OFFSETS)")
    )
    opn.add_argument("--district", help=_("district code, needed only with several districts"))
    opn.set_defaults(func=cmd_round_open)

    inv = sub.add_parser("invite", help=_("print a one-time invitation link"))
    inv.add_argument("--role", required=True, choices=[r.value for r in Role])
    inv.add_argument("--village", help=_("village code, for PAKEM invites"))
    inv.add_argument("--round", type=int, help=_("round id, when several are open"))
    inv.add_argument("--district", help=_("district code, needed only with several districts"))
    inv.add_argument("--days", type=int, help=_("days until it expires (default 7)"))
    inv.set_defaults(func=cmd_invite)

    ppl = sub.add_parser("people", help=_("list people and their roles"))
    ppl.set_defaults(func=cmd_people)

    rev = sub.add_parser("revoke", help=_("take a role away from a person, with a reason"))
    rev.add_argument(
        "--person", required=True, help=_("their Telegram id or @username (see `people`)")
    )
    rev.add_argument("--role", required=True, choices=[r.value for r in Role])
    rev.add_argument("--village", help=_("village code: only this village's PAKEM role"))
    rev.add_argument("--district", help=_("district code, needed only with several districts"))
    rev.add_argument("--reason", required=True, help=_("why; the person reads it"))
    rev.set_defaults(func=cmd_revoke)
    ibx = sub.add_parser(
        "inbox",
        help=_("updates waiting to be handled, and failed ones"),
        description=_(
            "Without ACTION: how many updates wait in each status, how long the oldest has "
            "waited, and the updates set aside as failed."
        ),
    )
    ibx.set_defaults(func=cmd_inbox)
    ibx_sub = ibx.add_subparsers(dest="inbox_command", metavar="ACTION")
    rty = ibx_sub.add_parser("retry", help=_("try a failed update again"))
    rty.add_argument("id", type=int, help=_("the update's number, as `paket-bot inbox` shows it"))
    rty.set_defaults(func=cmd_inbox_retry)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return int(args.func(settings, args))
    except ConfigError as exc:
        print("paket-bot: " + _(exc.template).format(**exc.params), file=sys.stderr)
    except CliError as exc:
        print(f"paket-bot: {exc}", file=sys.stderr)
    except DomainError as exc:
        print(f"paket-bot: {explain(exc)}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # an operator gets one line; the details belong in a bug report
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
        print(
            "paket-bot: " + _("unexpected error: {detail}").format(detail=detail), file=sys.stderr
        )
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
