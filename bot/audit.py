"""The append-only audit log: who did what, when, and through which means."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


def record(
    session: AsyncSession,
    action: str,
    *,
    at: datetime,
    actor_id: int | None = None,
    actor_label: str = "",
    subject: str = "",
    **detail: Any,
) -> None:
    session.add(
        AuditEntry(
            at=at,
            actor_id=actor_id,
            actor_label=actor_label,
            action=action,
            subject=subject,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        )
    )
