"""Every refusal the bot can raise has words: each `Code` member has exactly one text, in one
conversation's table, and it renders in every language the bot speaks.

A new code without a text fails here, and so does a code raised anywhere in the source that is
not a member of the enum (a typo would otherwise reach a person as the general apology).
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.config import SUPPORTED_LOCALES
from bot.errors import Code, DomainError, Invalid
from bot.i18n import build_i18n
from handlers import render

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
# Every param any code carries, with a value of the kind its raiser gives.
PARAMS = {
    "length": 250,
    "max": 200,
    "min": 10,
    "households": 120,
    "readings": (Decimal("1.5"), Decimal("1500")),
    "fields": ["title", "budget"],
    "total": 5_000_000,
    "limit": 1_000_000,
    "cap": 2_000_000,
    "deadline": NOW,
    "expired_at": NOW,
    "at": NOW,
    "until": NOW,
    "closed_at": NOW,
    "when": NOW,
    "zone": "Asia/Makassar",
    "status": "candidate",
    "by": "Budi",
    "numbers": "KDL-2026-0001, KDL-2026-0002",
    "field": "clarify_end",
    "before": "clarify_start",
    "round": "Tahap 1",
}
RAISERS = {"DomainError", "NotAllowed", "NotFound", "Invalid", "Locked", "Stale"}


@pytest.fixture(scope="module")
def i18n():  # type: ignore[no-untyped-def]
    return build_i18n()


def test_every_code_has_exactly_one_text() -> None:
    worded = [code for table in render.TABLES for code in table]
    assert sorted(set(Code) - set(worded)) == [], "codes without a text"
    assert sorted(c for c in set(worded) if worded.count(c) > 1) == [], "codes worded twice"
    assert set(render.ERROR_TEXTS) == set(Code)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_text_renders(i18n, locale: str) -> None:  # type: ignore[no-untyped-def]
    operator_only = set(render.OPERATOR_TEXTS) | {Code.ERROR, Code.INVALID, Code.LOCKED}
    with i18n.context(), i18n.use_locale(locale):
        generic = str(render.GENERIC)
        for code in Code:
            text = render.error_text(DomainError(code, **PARAMS))
            assert text.strip(), code
            assert "{" not in text, (code, text)
            if code not in operator_only:
                assert text != generic, code


def test_a_code_outside_the_enum_is_refused_where_it_is_raised() -> None:
    with pytest.raises(ValueError):
        Invalid("no_such_code_anywhere")
    assert Invalid("too_long").code is Code.TOO_LONG
    assert Invalid().code is Code.INVALID


def raised_codes() -> list[tuple[str, str]]:
    """(place, code) of every literal code given to a domain error in the source."""
    found = []
    for package in ("bot", "handlers", "storage"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                    continue
                if node.func.id not in RAISERS or not node.args:
                    continue
                first = node.args[0]
                place = f"{path.relative_to(ROOT)}:{node.lineno}"
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.append((place, first.value))
                elif (
                    isinstance(first, ast.Attribute)
                    and isinstance(first.value, ast.Name)
                    and first.value.id == "Code"
                ):
                    found.append((place, first.attr.lower()))
    return found


def test_every_raised_code_is_a_member() -> None:
    values = {c.value for c in Code}
    raised = raised_codes()
    assert len(raised) > 100
    assert [(place, code) for place, code in raised if code not in values] == []


def test_every_refused_amount_or_quantity_has_a_code() -> None:
    """`bot.proposals` names these codes by the parser's reason: each combination exists."""
    import re

    from bot import money

    reasons = set(re.findall(r'AmountError\("(\w+)"', (ROOT / "bot" / "money.py").read_text()))
    assert reasons >= {"format", "ambiguous", "fraction", "zero", "negative", "too_large"}
    assert money.AmountError  # the parser still speaks in reasons
    for prefix in ("amount", "qty"):
        for reason in reasons:
            Code(f"{prefix}_{reason}")
