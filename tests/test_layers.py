"""The layers stay apart: `storage/` imports nothing from `bot/` or `handlers/`, and `handlers/`
reach the data only through `bot/`.

Every import counts, wherever it stands in the file (inside a function, under `TYPE_CHECKING`):
an import moved out of sight is still a dependency. A handler may name a data-layer *type*
(a frozen view or a status enum: a value, never a query or a row) only when it is listed in
`HANDLER_ALLOWED` with the reason it is there.
"""

from __future__ import annotations

import ast
from pathlib import Path

from bot import money
from storage import amounts

ROOT = Path(__file__).resolve().parent.parent

_VIEW = "a frozen view value that bot/ functions return; it carries no session and no query"
_STATUS = "a status enum the handler renders or compares; a value, not a query"

# (importing handler module, storage module, name) -> why it may be there.
HANDLER_ALLOWED: dict[tuple[str, str, str], str] = {
    **{
        (module, "storage.views", name): _VIEW
        for module, names in {
            "handlers.announce": ("BroadcastView", "PersonView", "Scope"),
            "handlers.budget_echo": ("ProposalView",),
            "handlers.callbacks": ("Scope",),
            "handlers.common": ("PersonView", "Role"),
            "handlers.desk": ("PersonView", "Role", "RoundView"),
            "handlers.keyboards": ("ProposalView", "RoundView"),
            "handlers.members": ("PersonView", "Role"),
            "handlers.objections": ("PersonView", "Role"),
            "handlers.proposal": ("PersonView", "ProposalView"),
            "handlers.outbound": ("BroadcastView", "ClaimedRow", "DeliveryCounts", "VillageCounts"),
            "handlers.render": ("LineView", "ProposalView", "RoundView"),
            "handlers.review": ("PersonView",),
            "handlers.review_text": ("RoundView",),
            "handlers.roles_text": ("BroadcastView",),
            "handlers.villages": ("PersonView", "RegionView", "VillageView"),
        }.items()
        for name in names
    },
    ("handlers.announce", "storage.statuses", "AnnouncementStep"): _STATUS,
    ("handlers.outbound", "storage.statuses", "BroadcastKind"): _STATUS,
    ("handlers.render", "storage.statuses", "OPEN_DRAFT"): _STATUS,
    ("handlers.render", "storage.statuses", "PAST_DRAFT"): _STATUS,
    ("handlers.render", "storage.statuses", "ProposalStatus"): _STATUS,
    ("handlers.proposal", "storage.statuses", "OPEN_DRAFT"): _STATUS,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path) -> set[tuple[str, str]]:
    """(module, name) for every import in the file; `import x` gives (x, "")."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update((alias.name, "") for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.update((base, alias.name) for alias in node.names)
    return found


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_scan_sees_imports_inside_functions() -> None:
    # The scan itself: an import hidden in a function body is found.
    hidden = [
        (module, name)
        for path in _files("bot")
        if path.name == "cli.py"
        for module, name in imported(path)
        if module == "storage.db"
    ]
    assert hidden, "bot/cli.py imports storage.db inside a function; the scan must see it"


def test_storage_imports_nothing_from_bot_or_handlers() -> None:
    leaks = {
        (_module_name(path), module, name)
        for path in _files("storage")
        for module, name in imported(path)
        if _under(module, "bot", "handlers") or (module == "" and name in ("bot", "handlers"))
    }
    assert not leaks, sorted(leaks)


def test_handlers_import_only_listed_types_from_storage() -> None:
    used = {
        (_module_name(path), module, name)
        for path in _files("handlers")
        for module, name in imported(path)
        if _under(module, "storage")
    }
    assert not used - HANDLER_ALLOWED.keys(), sorted(used - HANDLER_ALLOWED.keys())
    # A listed name no handler uses any more leaves the list, so that it only ever shrinks.
    assert not HANDLER_ALLOWED.keys() - used, sorted(HANDLER_ALLOWED.keys() - used)


def test_handlers_never_import_a_storage_module_whole() -> None:
    # `from storage import queries` or `import storage.delivery` would open every query.
    modules = {
        (_module_name(path), module, name)
        for path in _files("handlers")
        for module, name in imported(path)
        if (module == "storage" or (_under(module, "storage") and name == ""))
    }
    assert not modules, sorted(modules)


def test_the_domain_totals_a_line_with_the_storage_rule_itself() -> None:
    # One rule: bot.money re-exports storage.amounts.line_total rather than keeping a copy.
    assert money.line_total is amounts.line_total
