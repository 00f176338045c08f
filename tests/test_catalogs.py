"""Every string a person reads exists in Indonesian, and the catalogs match the source."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from bot import commands
from bot.catalogs import LOCALES, extract, po_path
from bot.i18n import build_i18n, normalize_locale

PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
TAG = re.compile(r"</?[a-z-]+>")
# A command as a reader sees it: not the end of an HTML tag (</b>) nor part of a link or a path.
COMMAND = re.compile(r"(?<![<\w/:.])/([a-z_]+)\b")


def load(locale: str):
    with po_path(locale).open("rb") as fp:
        return read_po(fp, locale=locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_entry_translated_and_not_fuzzy(locale: str) -> None:
    catalog = load(locale)
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert not missing, f"{locale}: untranslated or fuzzy: {missing[:5]}"


def test_catalogs_are_not_stale_against_the_source() -> None:
    source = {m.id for m in extract() if m.id}
    for locale in LOCALES:
        catalog = {m.id for m in load(locale) if m.id}
        assert source == catalog, (
            f"{locale}: run `python -m bot.catalogs`; new: {sorted(source - catalog)[:5]}, "
            f"gone: {sorted(catalog - source)[:5]}"
        )


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_and_tags_survive_translation(locale: str) -> None:
    for message in load(locale):
        if not message.id:
            continue
        for pattern in (PLACEHOLDER, TAG):
            assert sorted(pattern.findall(message.id)) == sorted(pattern.findall(message.string)), (
                f"{locale}: {message.id!r} -> {message.string!r}"
            )


def test_every_msgid_names_english_commands() -> None:
    english = commands.names_in("en")
    for message in load("en"):
        named = set(COMMAND.findall(message.id)) if message.id else set()
        assert named <= english, f"{message.id!r} names {sorted(named - english)}"


@pytest.mark.parametrize("locale", LOCALES)
def test_each_reader_is_shown_the_commands_of_their_language(locale: str) -> None:
    """The msgstr names the same commands as the msgid, each in the catalog's language."""
    allowed = commands.names_in(locale)
    by_english = commands.by_english_name()
    for message in load(locale):
        if not message.id:
            continue
        shown = COMMAND.findall(message.string)
        assert set(shown) <= allowed, (
            f"{locale}: {message.string!r} shows {sorted(set(shown) - allowed)}, "
            f"not commands of this language"
        )
        expected = [by_english[name].name(locale) for name in COMMAND.findall(message.id)]
        assert sorted(shown) == sorted(expected), f"{locale}: {message.id!r} -> {message.string!r}"


def test_runtime_translation_and_fallback() -> None:
    i18n = build_i18n("id")
    assert set(i18n.available_locales) == {"id", "en"}
    assert i18n.gettext("Skip", locale="id") == "Lewati"
    assert i18n.gettext("Skip", locale="en") == "Skip"


@pytest.mark.parametrize(
    ("tag", "locale"),
    [
        ("id", "id"),
        ("en", "en"),
        ("en-US", "en"),
        ("EN_gb", "en"),
        ("pt-br", "id"),
        ("zz", "id"),
        ("", "id"),
        (None, "id"),
        ("12$%", "id"),
        ("x" * 300, "id"),
        ("jv", "id"),
    ],
)
def test_language_codes_map_to_a_catalog(tag: str | None, locale: str) -> None:
    assert normalize_locale(tag) == locale
