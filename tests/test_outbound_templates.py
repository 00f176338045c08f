"""Every event template the outbox carries renders, in every language the bot speaks.

The params of each sample are the ones its queueing code writes (a contract between the domain
and `handlers.outbound.EVENTS`); a new `Template` member without a renderer, or without a sample
here, fails the first test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.announcements import Template, report_params, submission_params
from bot.config import SUPPORTED_LOCALES
from bot.i18n import build_i18n
from handlers import outbound
from handlers.outbound import EVENTS, OutboundRenderer
from storage.statuses import BroadcastKind
from storage.views import (
    BroadcastView,
    ClaimedRow,
    DeliveryCounts,
    LineView,
    ProposalView,
    RoundView,
    VillageCounts,
)

NOW = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
ROUND = RoundView(1, 1, "Tahap 1 2026", 2026, NOW, None, "Asia/Jakarta")
VIEW = ProposalView(
    7, ROUND, "33.24.01.2001", "Blumah", "Plantungan", 1, "submitted", "review", False,
    "KDL-2026-0007", "Jalan Krajan", "road", "Dusun Krajan", None, None, "Jalan rusak",
    120, 45, None, NOW, NOW, [LineView(1, 1, "Semen", 2_500, "sak", 65_000, "swadaya", True)],
)  # fmt: skip
GROUPS = [
    {
        "kode": "33.24.01.2001",
        "village": "Blumah",
        "kecamatan": "Plantungan",
        "entries": [
            {
                "id": 7,
                "number": "KDL-2026-0007",
                "title": "Jalan Krajan",
                "total": 162_500,
                "sources": {"swadaya": 162_500},
            }
        ],
    }
]
OBJECTION = {"objection": 3, "number": "K-0003", "proposal_number": "KDL-2026-0007"}
SAMPLES: dict[Template, dict[str, Any]] = {
    Template.ROUND_OPENED: {"round": "Tahap 1 2026", "deadline": NOW.isoformat()},
    Template.CALENDAR_CHANGED: {
        "round": "Tahap 1 2026",
        "field": "clarify_end",
        "old": NOW.isoformat(),
        "new": NOW.isoformat(),
    },
    Template.SUBMITTED: submission_params(VIEW, "Siti"),
    Template.DECISION: {
        "decision": "revision",
        "reason": "Volume pipa",
        "number": "KDL-2026-0007",
        "title": "Jalan Krajan",
        "deadline": NOW.isoformat(),
    },
    Template.CANDIDATES: {
        "round": "Tahap 1 2026",
        "round_id": 1,
        "clarify_start": NOW.isoformat(),
        "clarify_end": NOW.isoformat(),
        "groups": GROUPS,
    },
    Template.WINNERS: {
        "round": "Tahap 1 2026",
        "round_id": 1,
        "groups": GROUPS,
        "summary": {
            "candidates": 1,
            "objections": 1,
            "upheld": 0,
            "dismissed": 1,
            "winners": 1,
            "total": 162_500,
        },
    },
    Template.OBJECTION_TO_COMMITTEE: {
        **OBJECTION,
        "title": "Jalan Krajan",
        "category": "inflated",
        "text": "Harga semen terlalu tinggi.",
    },
    Template.OBJECTION_TO_POKJA: {**OBJECTION, "category": "inflated"},
    Template.OBJECTION_REPLIED: OBJECTION,
    Template.OBJECTION_ANSWERED: {**OBJECTION, "outcome": "dismissed", "answer": "Harga wajar."},
    Template.OBJECTION_OUTCOME: {**OBJECTION, "outcome": "upheld", "answer": "Harga dikoreksi."},
    Template.ROLE_REVOKED: {
        "role": "pakem",
        "villages": "Blumah",
        "district": "Kendal",
        "reason": "Pindah tugas",
    },
    Template.DELIVERY_REPORT: report_params(
        12,
        DeliveryCounts(sent=10, blocked=1, failed=1),
        [VillageCounts("33.24.01.2001", "Blumah", DeliveryCounts(sent=10, blocked=1, failed=1))],
    ),
}


def broadcast(template: Template | str, params: dict[str, Any]) -> BroadcastView:
    kind = BroadcastKind.REPORT if template == Template.DELIVERY_REPORT else BroadcastKind.EVENT
    return BroadcastView(
        1, 1, "Kendal", "Asia/Jakarta", kind.value, "queued", "queued", None, None, None, None,
        str(template), json.loads(json.dumps(params, default=str)), None, (), 1, NOW, NOW, None,
        None, None,
    )  # fmt: skip


def row(locale: str) -> ClaimedRow:
    return ClaimedRow(1, 1, 1, 101, locale, None, 0)


def test_every_template_has_a_renderer_and_a_sample() -> None:
    assert set(EVENTS) == set(Template)
    assert set(SAMPLES) == set(Template)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("template", list(Template))
def test_every_template_renders(template: Template, locale: str) -> None:
    renderer = OutboundRenderer(build_i18n())
    messages = renderer.message(broadcast(template, SAMPLES[template]), row(locale))
    assert messages and all(m.text.strip() for m in messages)
    news = renderer.message(broadcast("from_a_newer_version", {}), row(locale))
    assert [m.text for m in messages] != [m.text for m in news]
    for message in messages:
        assert "{" not in message.text, message.text


def test_an_unknown_template_is_still_news_from_the_pokja() -> None:
    i18n = build_i18n()
    messages = OutboundRenderer(i18n).message(broadcast("from_a_newer_version", {}), row("en"))
    assert [m.text for m in messages] == ["📣 News from the POKJA of Kendal."]
    with i18n.context(), i18n.use_locale("en"):
        assert outbound.history_text([broadcast(Template.OBJECTION_REPLIED, OBJECTION)], {})
