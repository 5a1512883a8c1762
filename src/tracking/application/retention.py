"""What an application of retention removed (or, in a dry run, would remove)."""

from datetime import datetime
from uuid import UUID

import msgspec


class ClientRetention(msgspec.Struct, frozen=True, kw_only=True):
    """A client with a retention: its events that occurred before `cutoff` (`now` less its
    days) removed (in a dry run: that would be), and its stale marks of windows starting
    before `cutoff`, whose recomputation would replace their rows with a part of them."""

    client_id: UUID
    name: str
    retention_days: int
    cutoff: datetime
    events_removed: int
    stale_marks_removed: int


class MetricsRetention(msgspec.Struct, frozen=True, kw_only=True):
    """Metric rows of windows that ended by `cutoff` removed; the run log's windows (and
    their stale marks) that ended by `run_log_cutoff`, the earlier of `cutoff` and the
    metrics backfill's start."""

    retention_days: int
    cutoff: datetime
    rows_removed: int
    run_log_cutoff: datetime
    windows_removed: int
    stale_marks_removed: int


class DroppedMonth(msgspec.Struct, frozen=True, kw_only=True):
    """A UTC month whose events all went at once (PostgreSQL: its partition dropped),
    because each client with events in it keeps events for less time than has passed since
    the month ended."""

    start: datetime
    events: int


class RetentionReport(msgspec.Struct, frozen=True, kw_only=True):
    dry_run: bool
    now: datetime
    clients: list[ClientRetention]
    """Every client with a retention, whether anything of it was removed or not."""
    kept_for_ever: int
    """Clients without a retention: nothing of theirs is removed."""
    metrics: MetricsRetention | None
    """None: TRACKING_METRICS_RETENTION_DAYS is not set, metric rows are kept for ever."""
    batches: int
    """Transactions that removed rows or dropped a month (none in a dry run)."""
    months_dropped: list[DroppedMonth] = msgspec.field(default_factory=list)
    """Included in the clients' `events_removed`."""
    keys_trimmed: int = 0
    """Keys of events of dropped months removed after them (PostgreSQL's `event_keys`)."""

    @property
    def events_removed(self) -> int:
        return sum(client.events_removed for client in self.clients)

    @property
    def metric_rows_removed(self) -> int:
        return 0 if self.metrics is None else self.metrics.rows_removed
