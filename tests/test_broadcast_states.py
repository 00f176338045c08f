"""A broadcast's kind, status and an announcement's step are enums, named as members wherever
they are set or compared: a misspelt "reveiw" would otherwise strand a draft silently."""

from __future__ import annotations

import ast
from pathlib import Path

from storage.statuses import AnnouncementStep, BroadcastKind, BroadcastStatus

ROOT = Path(__file__).resolve().parent.parent
VALUES = {m.value for enum in (AnnouncementStep, BroadcastKind, BroadcastStatus) for m in enum}
FIELDS = {"step", "status", "kind"}


def _names_field(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr in FIELDS


def _literals(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [v for e in node.elts for v in _literals(e)]
    if isinstance(node, ast.Call) and node.args:  # Broadcast.status.in_(("queued", "done"))
        return [v for a in node.args for v in _literals(a)]
    return []


def raw_states(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        pairs: list[tuple[ast.AST, ast.AST]] = []
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            pairs = [(a, b) for a in operands for b in operands if a is not b]
        elif isinstance(node, ast.Assign):
            pairs = [(t, node.value) for t in node.targets]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "in_":
                pairs = [(node.func.value, node)]
        elif isinstance(node, ast.keyword) and node.arg in FIELDS:
            pairs = [(ast.Attribute(ast.Name("row"), node.arg), node.value)]
        for target, value in pairs:
            if _names_field(target):
                hits = [v for v in _literals(value) if v in VALUES]
                if hits:
                    found.append(f"{path.name}:{getattr(node, 'lineno', '?')} {hits}")
    return found


def test_broadcast_states_are_named_by_their_enums() -> None:
    modules = [
        ROOT / "bot" / "announcements.py",
        ROOT / "bot" / "reminders.py",
        ROOT / "handlers" / "announce.py",
        ROOT / "handlers" / "outbound.py",
        ROOT / "storage" / "delivery.py",
    ]
    assert [hit for path in modules for hit in raw_states(path)] == []


def test_the_finder_sees_raw_states(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'row.step = "review"\nif view.status != "draft": pass\n'
        'q.where(Broadcast.kind.in_(("announcement", "event")))\n'
        'Broadcast(kind="reminder")\nrow.status = "sent"\n'
    )
    assert len(raw_states(sample)) == 4
