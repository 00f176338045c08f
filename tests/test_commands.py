"""Each person is shown the commands of their language, and every command shown is answered."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from aiogram import Router
from aiogram.filters import Command

from bot import commands
from handlers import build_root_router
from storage.views import Role
from tests.review_helpers import KEDITEN, grant
from tests.seed import kendal, round_

WELCOME = {
    "id": "Selamat datang! Anda sekarang anggota PAKEM.",
    "en": "Welcome! You are now a PAKEM member.",
}
SHOWN = re.compile(r"(?<![<\w/:.])/([a-z_]+)\b")


def _routers(router: Router) -> Iterator[Router]:
    yield router
    for sub in router.sub_routers:
        yield from _routers(sub)


def registered() -> set[str]:
    """Every command name some message handler of the bot answers."""
    names: set[str] = set()
    for router in _routers(build_root_router()):
        for handler in router.message.handlers:
            for flt in handler.filters or []:
                if isinstance(flt.callback, Command):
                    names.update(c for c in flt.callback.commands if isinstance(c, str))
    return names


@pytest.mark.parametrize("cmd", commands.ALL, ids=lambda c: c.en)
def test_every_name_of_every_command_is_answered(cmd: commands.Cmd) -> None:
    assert set(cmd.names) <= registered()


@pytest.mark.parametrize("locale", ["id", "en"])
def test_no_two_commands_share_a_name_in_one_language(locale: str) -> None:
    assert len(commands.names_in(locale)) == len(commands.ALL)


def test_a_name_means_one_command_whatever_the_language() -> None:
    owner: dict[str, commands.Cmd] = {}
    for cmd in commands.ALL:
        for name in cmd.names:
            assert owner.setdefault(name, cmd) is cmd, f"/{name} names two commands"


def test_every_registered_command_is_in_the_table() -> None:
    table = {name for cmd in commands.ALL for name in cmd.names}
    assert registered() <= table


async def test_the_menu_is_registered_in_each_language(bot, emulator) -> None:
    await bot()
    by_lang = {lang: [c["command"] for c in cmds] for (_, lang), cmds in emulator.commands.items()}
    assert set(by_lang) == {"", "id", "en"}
    assert by_lang["id"] == [
        "start",
        "baru",
        "usulan",
        "desa",
        "pengumuman",
        "batal",
        "bahasa",
        "bantuan",
    ]
    assert by_lang["en"] == [
        "start",
        "new",
        "drafts",
        "village",
        "announcements",
        "cancel",
        "language",
        "help",
    ]
    assert by_lang[""] == by_lang["id"]  # the default language of the deployment
    answered = registered()
    for names in by_lang.values():
        assert set(names) <= answered


async def test_help_lists_only_the_readers_commands(bot, emulator, sessions, clock, person):
    """A resident, a PAKEM member and a POKJA member in each language: every command /help
    shows is one of their language's, and the bot answers it."""
    district = await kendal(sessions, clock())
    await round_(sessions, district, clock(), days=5)
    await bot()
    seen: dict[str, set[str]] = {"id": set(), "en": set()}
    for locale in ("id", "en"):
        resident = person(f"Warga {locale}", locale)
        pakem = person(f"Pakem {locale}", locale)
        pokja = person(f"Pokja {locale}", locale)
        await grant(pakem, sessions, district, Role.PAKEM, clock(), village=KEDITEN)
        assert pakem.saw(WELCOME[locale]), pakem.reply_text
        await grant(pokja, sessions, district, Role.POKJA, clock())
        for p in (resident, pakem, pokja):
            await p.send("/help" if locale == "en" else "/bantuan")
            shown = set(SHOWN.findall(p.reply_text))
            assert shown, p.reply_text
            assert shown <= commands.names_in(locale), (locale, shown - commands.names_in(locale))
            seen[locale] |= shown
    assert {"baru", "usulan", "tinjau", "keberatan", "desa", "pengumuman", "bantuan"} <= seen["id"]
    assert {"new", "drafts", "review", "objection", "village", "announcements", "help"} <= seen[
        "en"
    ]
    for names in seen.values():
        assert names <= registered()
