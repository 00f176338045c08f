"""The router tree. Order is priority: groups, commands and conversations, fallback last."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    announce,
    common,
    desk,
    errors,
    members,
    objections,
    proposal,
    review,
    villages,
)


def build_root_router() -> Router:
    root = Router(name="root")
    root.include_routers(
        errors.router(),
        common.group_router(),
        common.router(),
        announce.router(),
        review.router(),
        members.router(),
        desk.router(),
        objections.router(),
        villages.router(),
        proposal.router(),
        proposal.fallback_router(),
    )
    return root


def describe(router: Router, depth: int = 0) -> list[str]:
    """The tree as indented lines, logged at start-up."""
    lines = ["  " * depth + (router.name if depth else "dispatcher")]
    for child in router.sub_routers:
        lines.extend(describe(child, depth + 1))
    return lines
