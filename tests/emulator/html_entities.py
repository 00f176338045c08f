"""Telegram's HTML parse mode, as strictly as the real server applies it.

Returns the visible text and its entities, or raises ParseError with Telegram's wording.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTR = re.compile(r'\s+([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s>]+))')


class ParseError(ValueError):
    pass


@dataclass
class Entity:
    type: str
    offset: int
    length: int
    url: str | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url:
            out["url"] = self.url
        return out


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse(source: str) -> tuple[str, list[Entity]]:
    out: list[str] = []
    length = 0  # in UTF-16 units
    stack: list[tuple[str, int, str | None]] = []
    entities: list[Entity] = []
    i = 0
    raw = source.encode("utf-8")
    del raw

    def byte_offset(pos: int) -> int:
        return len(source[:pos].encode("utf-8"))

    while i < len(source):
        ch = source[i]
        if ch == "<":
            end = source.find(">", i)
            if end == -1:
                raise ParseError(
                    f"Bad Request: can't parse entities: Unclosed start tag at byte offset "
                    f"{byte_offset(i)}"
                )
            token = source[i + 1 : end]
            if token.startswith("/"):
                name = token[1:].strip().lower()
                if not stack:
                    raise ParseError(
                        f"Bad Request: can't parse entities: Unexpected end tag at byte offset "
                        f"{byte_offset(i)}"
                    )
                open_name, start, url = stack.pop()
                if name != open_name:
                    raise ParseError(
                        f"Bad Request: can't parse entities: Unmatched end tag at byte offset "
                        f'{byte_offset(i)}, expected "</{open_name}>", found "</{name}>"'
                    )
                if length > start:
                    entities.append(Entity(TAGS[open_name], start, length - start, url))
            else:
                match = re.match(r"([a-zA-Z][a-zA-Z0-9-]*)", token)
                name = match.group(1).lower() if match else ""
                if name not in TAGS:
                    raise ParseError(
                        f'Bad Request: can\'t parse entities: Unsupported start tag "{name}" at '
                        f"byte offset {byte_offset(i)}"
                    )
                attrs = {
                    m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
                    for m in _ATTR.finditer(token[len(name) :])
                }
                url = None
                if name == "a":
                    url = attrs.get("href", "")
                    if not url:
                        raise ParseError("Bad Request: can't parse entities: empty href")
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise ParseError(
                        'Bad Request: can\'t parse entities: Tag "span" must have class '
                        '"tg-spoiler" at byte offset ' + str(byte_offset(i))
                    )
                stack.append((name, length, url))
            i = end + 1
            continue
        if ch == "&":
            match = re.match(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);", source[i:])
            if match:
                ref = match.group(1)
                if ref.startswith("#x"):
                    text = chr(int(ref[2:], 16))
                elif ref.startswith("#"):
                    text = chr(int(ref[1:]))
                elif ref in _NAMED:
                    text = _NAMED[ref]
                else:
                    raise ParseError(
                        f'Bad Request: can\'t parse entities: Unsupported HTML entity "&{ref};" at '
                        f"byte offset {byte_offset(i)}"
                    )
                out.append(text)
                length += _u16(text)
                i += len(match.group(0))
                continue
        if ch == ">":
            # Telegram tolerates a bare ">" but we keep it visible, as it does.
            pass
        out.append(ch)
        length += _u16(ch)
        i += 1
    if stack:
        raise ParseError(
            f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
            f'"{stack[-1][0]}"'
        )
    return "".join(out), sorted(entities, key=lambda e: (e.offset, -e.length))


def visible_len(text: str) -> int:
    return _u16(text)
