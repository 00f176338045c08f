"""Telegram deep links (`t.me/<bot>?start=<parameter>`): the one place they are made and read.

Telegram hands a start parameter to a bot only if it has 1 to 64 characters from A-Z, a-z, 0-9,
`_` and `-`; otherwise the apps drop it and the person gets a plain /start. A village's region code
has dots (33.24.01.2001), so it is written without them on posters (`v_3324012001`), and the old
dotted form is still read for links that were shared before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
VILLAGE = "v_"
HELP = "help"
# Kepmendagri codes: provinsi.kabupaten.kecamatan.desa, 2.2.2.4 digits.
_OFFICIAL = re.compile(r"([0-9]{2})\.([0-9]{2})\.([0-9]{2})\.([0-9]{4})")
_OFFICIAL_PACKED = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{4})")


class LinkError(ValueError):
    """A link the bot was about to print would not reach it intact: a bug, never user input."""


def is_start_parameter(text: str) -> bool:
    """Telegram's own rule for what survives the trip from a link to the bot."""
    return START_PARAMETER.fullmatch(text) is not None


def start_link(bot_username: str, parameter: str) -> str:
    """The only way the bot writes a t.me link; refuses a parameter Telegram would drop."""
    if not is_start_parameter(parameter):
        raise LinkError(f"start parameter {parameter!r} is outside Telegram's alphabet")
    username = bot_username.strip().removeprefix("@")
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", username):
        raise LinkError(f"bot username {bot_username!r} is not a Telegram username")
    return f"https://t.me/{username}?start={parameter}"


def village_parameter(kode: str) -> str:
    """33.24.01.2001 -> v_3324012001; other code shapes keep their parts apart with '-'."""
    official = _OFFICIAL.fullmatch(kode)
    packed = "".join(official.groups()) if official else kode.replace(".", "-")
    parameter = VILLAGE + packed
    if not is_start_parameter(parameter):
        raise LinkError(f"village code {kode!r} cannot be put in a start parameter")
    return parameter


def village_link(bot_username: str, kode: str) -> str:
    """The link printed on posters and banners: opening it follows the village in one tap."""
    return start_link(bot_username, village_parameter(kode))


def help_link(bot_username: str) -> str:
    """From a group into a private chat with the bot, showing its overview."""
    return start_link(bot_username, HELP)


class StartKind(StrEnum):
    HELP = "help"
    VILLAGE = "village"
    INVITE = "invite"


@dataclass(frozen=True)
class Start:
    kind: StartKind
    value: str = ""


def parse_start(parameter: str) -> Start:
    """What a /start parameter asks for; anything else is an invitation code to redeem."""
    text = parameter.strip()
    if text.lower() == HELP:
        return Start(StartKind.HELP)
    if text.startswith(VILLAGE):
        return Start(StartKind.VILLAGE, village_kode(text[len(VILLAGE) :]))
    return Start(StartKind.INVITE, text)


def village_kode(packed: str) -> str:
    """The region code behind a village parameter, in all the forms ever printed."""
    official = _OFFICIAL_PACKED.fullmatch(packed)
    if official:
        return ".".join(official.groups())
    return packed.replace("-", ".")  # other shapes, and the old dotted form as it is
