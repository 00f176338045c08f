"""The one table of the bot's commands, each with its English and its Indonesian name.

Handlers build their filters from it, the menu registered with Telegram is built from it, and
the catalog tests read it: a person reading Indonesian is shown only Indonesian commands, an
English reader only English ones, and every command either is shown is one the bot answers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cmd:
    """A command under its English and Indonesian names, plus older names still answered."""

    en: str
    id: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the bot answers, for a `Command(*cmd.names)` filter."""
        return tuple(dict.fromkeys((self.en, self.id, *self.aliases)))

    def name(self, locale: str) -> str:
        """The name shown to a reader of `locale` (Indonesian unless English)."""
        return self.en if locale == "en" else self.id


START = Cmd("start", "start")
HELP = Cmd("help", "bantuan")
LANGUAGE = Cmd("language", "bahasa")
NEW = Cmd("new", "baru")
DRAFTS = Cmd("drafts", "usulan", ("draf",))
CANCEL = Cmd("cancel", "batal")
BACK = Cmd("back", "kembali")
SKIP = Cmd("skip", "lewati")
ROUND = Cmd("round", "tahap")
REVIEW = Cmd("review", "tinjau")
INVITE = Cmd("invite", "undang")
EXPORT = Cmd("export", "ekspor")
VILLAGE = Cmd("village", "desa")
STOP = Cmd("stop", "berhenti")
RESUME = Cmd("resume", "mulai")
POSTER = Cmd("poster", "poster", ("spanduk",))
OBJECTION = Cmd("objection", "keberatan")
STATUS = Cmd("status", "status")
ANNOUNCE = Cmd("announce", "umumkan")
ANNOUNCEMENTS = Cmd("announcements", "pengumuman")
REMINDERS = Cmd("reminders", "pengingat")
MEMBERS = Cmd("members", "anggota")

ALL: tuple[Cmd, ...] = (
    START,
    HELP,
    LANGUAGE,
    NEW,
    DRAFTS,
    CANCEL,
    BACK,
    SKIP,
    ROUND,
    REVIEW,
    INVITE,
    EXPORT,
    VILLAGE,
    STOP,
    RESUME,
    POSTER,
    OBJECTION,
    STATUS,
    ANNOUNCE,
    ANNOUNCEMENTS,
    REMINDERS,
    MEMBERS,
)


def names_in(locale: str) -> frozenset[str]:
    """The command names a reader of `locale` may be shown."""
    return frozenset(cmd.name(locale) for cmd in ALL)


def by_english_name() -> dict[str, Cmd]:
    return {cmd.en: cmd for cmd in ALL}
