"""Domain errors. Each carries a code that handlers turn into a translated message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"

    def __init__(self, code: str | None = None, **params: Any) -> None:
        super().__init__(code or self.code)
        if code:
            self.code = code
        self.params = params


class NotAllowed(DomainError):
    """The actor has no right to do this, now or ever; also what a forged button gets."""

    code = "not_allowed"


class NotFound(DomainError):
    code = "not_found"


class Invalid(DomainError):
    """Input that does not fit the step; the step stays where it is."""

    code = "invalid"


class Locked(DomainError):
    """The proposal can no longer change: submitted, or the deadline has passed."""

    code = "locked"


class Stale(DomainError):
    """A button from an older message that no longer matches the proposal's step."""

    code = "stale"
