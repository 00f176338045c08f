"""Fitting text into Telegram messages."""

from __future__ import annotations

import html
import re

MESSAGE_LIMIT = 4096
_TAG = re.compile(r"<[^>]+>")


def visible_length(html_text: str) -> int:
    """Length as Telegram counts it: after entity parsing, in UTF-16 code units."""
    plain = html.unescape(_TAG.sub("", html_text))
    return len(plain.encode("utf-16-le")) // 2


def join_blocks(blocks: list[str], limit: int = MESSAGE_LIMIT, sep: str = "\n\n") -> list[str]:
    """Pack whole HTML blocks into as few messages as fit; a block is never cut in two.

    Blocks are built so each one is complete HTML (tags opened and closed inside it) and well
    under the limit, so splitting only between blocks can never break an entity.
    """
    messages: list[str] = []
    current = ""
    for block in blocks:
        if not block:
            continue
        candidate = f"{current}{sep}{block}" if current else block
        if current and visible_length(candidate) > limit:
            messages.append(current)
            current = block
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


def q(value: object) -> str:
    """User text shown back, HTML-escaped."""
    return html.escape(str(value), quote=False)
