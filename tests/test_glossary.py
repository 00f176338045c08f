"""The programme's words are the glossary's, in every message of both catalogs, and the wording
people complained about stays fixed: no brackets inside brackets, English that is English."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.catalogs import ROOT, po_path
from bot.i18n import build_i18n
from bot.proposals import SOURCES
from storage.views import LineView, ProposalView, Role, RoundView

GLOSSARY = ROOT / "locales" / "glossary.toml"
NOT_PROSE = re.compile(r"\{[a-z_]*\}|(?<![<\w/:.])/[a-z_]+\b")


@dataclass(frozen=True)
class Term:
    key: str
    en: list[str]
    id: list[str]
    not_id: list[str] = field(default_factory=list)
    forbidden_id: list[str] = field(default_factory=list)
    forbidden_en: list[str] = field(default_factory=list)
    note: str = ""

    def named_in(self, english: str) -> bool:
        """The English text uses the term as a word (plurals and -ed forms allowed); the names
        of placeholders and commands are not words a reader sees."""
        prose = NOT_PROSE.sub(" ", english)
        return any(re.search(rf"(?<![\w-]){re.escape(t)}", prose, re.I) for t in self.en)


def glossary(path: Path = GLOSSARY) -> list[Term]:
    with path.open("rb") as fp:
        return [Term(**entry) for entry in tomllib.load(fp)["term"]]


def messages(locale: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) pairs, the msgstr without placeholders and commands."""
    with po_path(locale).open("rb") as fp:
        return [(m.id, NOT_PROSE.sub(" ", m.string)) for m in read_po(fp, locale=locale) if m.id]


def has(text: str, variants: list[str]) -> list[str]:
    return [v for v in variants if v.lower() in text.lower()]


def test_the_glossary_is_well_formed() -> None:
    terms = glossary()
    assert len({t.key for t in terms}) == len(terms)
    for term in terms:
        assert term.en and term.id, term.key
        assert not has(" ".join(term.id), term.forbidden_id), term.key


@pytest.mark.parametrize("locale", ["id", "en"])
def test_no_message_uses_a_forbidden_variant(locale: str) -> None:
    bad = []
    for term in glossary():
        forbidden = term.forbidden_id if locale == "id" else term.forbidden_en
        bad += [(term.key, s) for _, s in messages(locale) if has(s, forbidden)]
    assert not bad, bad[:5]


@pytest.mark.parametrize("term", glossary(), ids=lambda t: t.key)
def test_where_english_names_a_term_indonesian_uses_its_word(term: Term) -> None:
    for msgid, msgstr in messages("id"):
        if not term.named_in(msgid):
            continue
        assert has(msgstr, term.id), f"{term.key}: {msgid!r} -> {msgstr!r} lacks {term.id}"
        wrong = has(msgstr, term.not_id)
        assert not wrong, f"{term.key}: {msgid!r} -> {msgstr!r} says {wrong}"


def test_the_old_complaints_are_caught_by_the_glossary() -> None:
    """Each wording named in the issue is a forbidden variant or a wrong word in its sense."""
    terms = {t.key: t for t in glossary()}
    assert has("Bermanfaat bagi rumah tangga miskin", terms["poor_household"].forbidden_id)
    assert has(
        "Porsi swadaya paling sedikit sebesar minimal", terms["self_help_minimum"].forbidden_id
    )
    assert has("Keberatan masuk: 2, diterima 1, ditolak 1", terms["objection_upheld"].not_id)
    assert has("✖ Tolak", terms["objection_dismissed"].not_id)
    assert has("31-12-2026 17:00 (Asia/Jakarta)", terms["time_zone"].forbidden_id)


# -- rendered text ------------------------------------------------------------------------------

NOW = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)


def proposal(status: str = "revision") -> ProposalView:
    round_ = RoundView(1, 1, "Tahap 1 2026", 2026, NOW, None, "Asia/Jakarta")
    lines = [
        LineView(i, i, f"Barang {i}", 2_500, "sak", 65_000, source, True)
        for i, source in enumerate(SOURCES, start=1)
    ]
    return ProposalView(
        1, round_, "33.24.01.2001", "Blumah", "Plantungan", 1, status, "review", False,
        "KDL-2026-001", "Jalan Krajan", "road", "Dusun Krajan", None, None, "Jalan rusak",
        120, 45, None, NOW, NOW, lines, revision_deadline=NOW,
        revision_note="Perbaiki volume pipa.",
    )  # fmt: skip


def nested_brackets(text: str) -> bool:
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
            if depth > 1:
                return True
        elif char == ")":
            depth = max(0, depth - 1)
    return False


@pytest.mark.parametrize("locale", ["id", "en"])
def test_amounts_by_source_have_no_brackets_inside_brackets(locale: str) -> None:
    from handlers.render import budget_block, line_text
    from handlers.review_text import amounts_line

    view = proposal()
    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale(locale):
        rendered = [line_text(i, line) for i, line in enumerate(view.lines, start=1)]
        rendered += budget_block(view)
        rendered.append(amounts_line({"total": view.total, "sources": view.totals_by_source()}))
    assert len(rendered) >= len(SOURCES) + 2
    for text in rendered:
        for line in text.splitlines():
            assert not nested_brackets(line), f"{locale}: {line!r}"


@pytest.mark.parametrize("locale", ["id", "en"])
def test_the_revision_note_does_not_address_the_pokja_as_you(locale: str) -> None:
    """The same dossier goes to the committee and to the POKJA that asked for the change."""
    from handlers.render import summary_blocks

    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale(locale):
        blocks = summary_blocks(proposal(), NOW)
    note = next(b for b in blocks if "Perbaiki volume pipa." in b)
    heading = note.splitlines()[0]
    assert "POKJA" in heading
    assert not re.search(r"\b(Anda|you)\b", heading, re.I), heading


def test_the_calendar_prompt_names_the_zone_as_dates_do() -> None:
    from handlers.formats import when, zone_label

    i18n = build_i18n("id")
    with i18n.context(), i18n.use_locale("id"):
        assert zone_label("Asia/Jakarta") == "WIB" and when(NOW, "Asia/Jakarta").endswith(" WIB")
        assert zone_label("Asia/Makassar") == "WITA"


@pytest.mark.parametrize(
    ("role", "english", "indonesian"),
    [
        (Role.PAKEM, "Welcome! You are now a PAKEM member.", "Anda sekarang anggota PAKEM."),
        (Role.POKJA, "Welcome! You are now a POKJA member.", "Anda sekarang anggota POKJA."),
        (Role.ADMIN, "Welcome! You are now an admin.", "Anda sekarang admin."),
    ],
)
def test_the_welcome_is_english_in_english(role: Role, english: str, indonesian: str) -> None:
    from aiogram.utils.i18n import gettext as _

    from handlers.common import role_name

    i18n = build_i18n("id")
    with i18n.context():
        for locale, expected in (("en", english), ("id", indonesian)):
            with i18n.use_locale(locale):
                text = _("Welcome! You are now {role}.").format(role=role_name(role))
            assert text.endswith(expected), text
