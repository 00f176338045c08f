"""Keeping the translation catalogs in step with the source: `python -m bot.catalogs`.

Extracts every gettext call from `bot/` and `handlers/`, merges the result into
`locales/<lang>/LC_MESSAGES/messages.po`, and fills English entries with their msgid (the
msgids are English). Indonesian entries must be translated by a person; tests fail until they are.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("bot", "handlers", "storage")
KEYWORDS = {"_": None, "__": None, "N_": None, "gettext": None, "lazy_gettext": None}
LOCALES = ("id", "en")


def extract(root: Path = ROOT) -> Catalog:
    template = Catalog(project="paket-bot", charset="utf-8")
    for folder in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            root / folder,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=("Translators:",),
            strip_comment_tags=True,
        ):
            template.add(
                message,
                None,
                [(f"{folder}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def po_path(locale: str, root: Path = ROOT) -> Path:
    return root / "locales" / locale / "LC_MESSAGES" / "messages.po"


def update(root: Path = ROOT) -> dict[str, int]:
    template = extract(root)
    with (root / "locales" / "messages.pot").open("wb") as out:
        write_po(out, template, width=100, omit_header=False, include_lineno=False)
    untranslated = {}
    for locale in LOCALES:
        path = po_path(locale, root)
        if path.exists():
            with path.open("rb") as fp:
                catalog = read_po(fp, locale=locale)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, project="paket-bot", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        missing = 0
        for message in catalog:
            if not message.id:
                continue
            if locale == "en" and not message.string:
                message.string = message.id
            if not message.string or message.fuzzy:
                missing += 1
        with path.open("wb") as out:
            # No line numbers: a string added in one module must not touch every entry after it,
            # or two changes to different modules could never merge.
            write_po(out, catalog, width=100, omit_header=False, include_lineno=False)
        untranslated[locale] = missing
    return untranslated


def main() -> int:
    result = update()
    for locale, missing in result.items():
        print(f"{locale}: {missing} untranslated")
    return 1 if any(result.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
