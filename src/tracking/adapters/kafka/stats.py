"""What the consumer reports: Prometheus metrics, and the state readiness is judged by."""

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from tracking.application.ports import DependencyCheck


class NotInGroupError(Exception):
    """The consumer has not joined its group yet (or is rejoining)."""


class RetryingError(Exception):
    """A step of the current batch failed and is being retried; fetching is paused."""


@dataclass
class ConsumerStats:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    in_group: bool = False
    retrying: str | None = None
    """The step being retried (`store`, `dead_letters`, `commit`), while it is."""

    def __post_init__(self) -> None:
        r = self.registry
        self.consumed = Counter(
            "tracking_consumer_messages", "Messages fetched from the topic", registry=r
        )
        self.stored = Counter("tracking_consumer_events_stored", "Events stored", registry=r)
        self.duplicates = Counter(
            "tracking_consumer_events_duplicate",
            "Events already stored (a redelivery, or a repeated id)",
            registry=r,
        )
        self.dead_letters = Counter(
            "tracking_consumer_dead_letters",
            "Messages sent to the dead-letter topic",
            ["reason"],
            registry=r,
        )
        self.retries = Counter(
            "tracking_consumer_retries", "Failed attempts of a batch step", ["step"], registry=r
        )
        self.splits = Counter(
            "tracking_consumer_batch_splits",
            "Batches split in halves to find a message that fails unexpectedly",
            registry=r,
        )
        self.batch_seconds = Histogram(
            "tracking_consumer_batch_seconds",
            "From fetch to committed offsets, per batch",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.assigned = Gauge(
            "tracking_consumer_assigned_partitions", "Partitions this member consumes", registry=r
        )
        self.lag = Gauge(
            "tracking_consumer_lag",
            "Messages in the partition after the last committed offset",
            ["topic", "partition"],
            registry=r,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class ConsumerCheck(DependencyCheck):
    name = "consumer"
    required = True

    def __init__(self, stats: ConsumerStats) -> None:
        self._stats = stats

    async def check(self) -> None:
        if self._stats.retrying is not None:
            raise RetryingError(self._stats.retrying)
        if not self._stats.in_group:
            raise NotInGroupError
