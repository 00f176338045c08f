"""Prometheus metrics of one process, on a registry of their own.

Not on prometheus-client's global registry: a test builds several applications in one process,
and each must count only what happened to it. Production code calls the module functions below
(`metrics.update_handled(0.012)`), which count on `METRICS`, the process's default instance; a test
builds its own `Metrics()` and hands it to the web application.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

# The `_created` timestamp series double the output and no dashboard of ours reads them.
disable_created_metrics()

# Seconds to handle one update: a wizard step takes milliseconds, a slow Telegram call seconds.
HANDLING_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class QueueDepths:
    """What the collector reads at scrape time; None leaves the gauge as it was."""

    inbox: int | None = None
    outbox: int | None = None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.received = Counter(
            "paket_updates_received", "Updates newly stored in the inbox.", registry=r
        )
        self.handled = Counter("paket_updates_handled", "Updates handled.", registry=r)
        self.failed = Counter(
            "paket_updates_failed", "Updates set aside as failed after their retries.", registry=r
        )
        self.dropped = Counter(
            "paket_updates_dropped", "Updates dropped over a person's backlog bound.", registry=r
        )
        self.handling = Histogram(
            "paket_update_handling_seconds",
            "Time to handle one update.",
            buckets=HANDLING_BUCKETS,
            registry=r,
        )
        self.inbox_depth = Gauge(
            "paket_inbox_depth", "Updates stored and not yet handled.", registry=r
        )
        self.outbox_depth = Gauge(
            "paket_outbox_depth", "Messages queued in the outbox and not yet sent.", registry=r
        )
        self.sends = Counter("paket_sends", "Messages sent to Telegram.", registry=r)
        self.send_429 = Counter(
            "paket_send_429", "Sends Telegram refused with 429 Too Many Requests.", registry=r
        )
        self.blocked = Counter(
            "paket_blocked_people", "People found to have blocked the bot.", registry=r
        )
        self.webhook_refused = Counter(
            "paket_webhook_refused",
            "Webhook requests refused for a missing or wrong secret token.",
            registry=r,
        )

    def set_depths(self, depths: QueueDepths) -> None:
        if depths.inbox is not None:
            self.inbox_depth.set(depths.inbox)
        if depths.outbox is not None:
            self.outbox_depth.set(depths.outbox)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        """One sample's current value (0 when absent): for tests and `paket-bot` diagnostics."""
        found = self.registry.get_sample_value(name, labels or {})
        return found if found is not None else 0.0


METRICS = Metrics()


# -- what the rest of the bot calls --------------------------------------------------------------


def updates_received(count: int = 1) -> None:
    """Call with the number of updates newly written to the inbox (a re-delivery is not new)."""
    if count > 0:
        METRICS.received.inc(count)


def update_handled(seconds: float) -> None:
    METRICS.handled.inc()
    METRICS.handling.observe(max(seconds, 0.0))


def update_failed(seconds: float | None = None) -> None:
    """An update set aside as failed; its last attempt's time counts as handling latency."""
    METRICS.failed.inc()
    if seconds is not None:
        METRICS.handling.observe(max(seconds, 0.0))


def updates_dropped(count: int = 1) -> None:
    if count > 0:
        METRICS.dropped.inc(count)


def message_sent(count: int = 1) -> None:
    if count > 0:
        METRICS.sends.inc(count)


def send_throttled() -> None:
    """Telegram answered 429 to one send."""
    METRICS.send_429.inc()


def person_blocked(count: int = 1) -> None:
    if count > 0:
        METRICS.blocked.inc(count)
