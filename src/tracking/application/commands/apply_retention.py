"""ApplyRetention: remove every client's events past its retention, and the metric rows past
the installation's, a batch per transaction."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from tracking.application.answer_cache import AnswerCache
from tracking.application.errors import Forbidden
from tracking.application.ports import ClientReadModel, Clock, UnitOfWorkFactory
from tracking.application.principal import Principal
from tracking.application.views import ClientView
from tracking.domain.clients import retention_days_of
from tracking.domain.errors import FieldError, InvalidInput

DEFAULT_BATCH_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """`metrics_days`: how long metric rows are kept (None: for ever); `batch_rows`: rows
    removed per transaction; `backfill`: how far back a metrics run computes windows never
    computed (the metrics policy's), within which the run log is kept whatever
    `metrics_days` says, so that no window is computed again."""

    metrics_days: int | None = None
    batch_rows: int = DEFAULT_BATCH_ROWS
    backfill: timedelta = timedelta(days=30)

    def __post_init__(self) -> None:
        retention_days_of(self.metrics_days)
        if self.batch_rows < 1:
            raise ValueError("batch_rows must be at least 1")


class ApplyRetention(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    now: datetime | None = None
    dry_run: bool = False


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
    """Transactions that removed rows (none in a dry run)."""

    @property
    def events_removed(self) -> int:
        return sum(client.events_removed for client in self.clients)

    @property
    def metric_rows_removed(self) -> int:
        return 0 if self.metrics is None else self.metrics.rows_removed


class ApplyRetentionHandler:
    """Only an admin (the operator) applies retention. An event is past its client's
    retention when `occurred_at < now - retention_days`; a metric row when its window ended
    at or before `now - TRACKING_METRICS_RETENTION_DAYS`. Rows go a batch at a time, oldest
    first, each batch its own transaction. After each batch, the stats answers about the
    days it removed events of are dropped, so they are exact again.

    The metrics of windows whose events are removed stay as they are, and are not marked
    stale: they are facts of their time, and recomputing them from what is left would
    replace them with a part (the client's stale marks of such windows are removed for that
    reason). A dry run counts what would be removed and removes nothing."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clients: ClientReadModel,
        clock: Clock,
        answers: AnswerCache,
        policy: RetentionPolicy,
    ) -> None:
        self._uow = uow
        self._clients = clients
        self._clock = clock
        self._answers = answers
        self._policy = policy

    async def __call__(self, command: ApplyRetention) -> RetentionReport:
        if not command.actor.is_admin:
            raise Forbidden("admin_required", "only an admin may apply retention")
        _check(command.now)
        now = command.now or self._clock.now()
        run = _Run(now=now, dry_run=command.dry_run)
        everyone = await self._clients.list_all()
        clients = [
            await self._client(run, client, client.retention_days)
            for client in everyone
            if client.retention_days is not None
        ]
        metrics = await self._metrics(run, self._policy.metrics_days)
        return RetentionReport(
            dry_run=command.dry_run,
            now=now,
            clients=clients,
            kept_for_ever=len(everyone) - len(clients),
            metrics=metrics,
            batches=run.batches,
        )

    async def _client(self, run: "_Run", client: ClientView, days: int) -> ClientRetention:
        cutoff = run.now - timedelta(days=days)
        if run.dry_run:
            async with self._uow() as uow:
                events = await uow.retention.count_events_before(client.id, cutoff)
                marks = await uow.retention.count_stale_marks_before(client.id, cutoff)
        else:
            events = await self._remove_events(run, client.id, cutoff)
            async with self._uow() as uow:
                marks = await uow.retention.delete_stale_marks_before(client.id, cutoff)
                await uow.commit()
        return ClientRetention(
            client_id=client.id,
            name=client.name,
            retention_days=days,
            cutoff=cutoff,
            events_removed=events,
            stale_marks_removed=marks,
        )

    async def _remove_events(self, run: "_Run", client_id: UUID, cutoff: datetime) -> int:
        """Batch after batch until one finds fewer rows than it may take."""
        removed, limit = 0, self._policy.batch_rows
        while True:
            async with self._uow() as uow:
                batch = await uow.retention.delete_events_before(client_id, cutoff, limit)
                await uow.commit()
            removed += batch.count
            if batch.first is not None and batch.last is not None:
                run.batches += 1
                await self._answers.forget_removed(client_id, batch.first, batch.last)
            if batch.count < limit:
                return removed

    async def _metrics(self, run: "_Run", days: int | None) -> MetricsRetention | None:
        if days is None:
            return None
        cutoff = run.now - timedelta(days=days)
        run_log_cutoff = min(cutoff, run.now - self._policy.backfill)
        if run.dry_run:
            async with self._uow() as uow:
                rows = await uow.retention.count_metric_rows_ended_by(cutoff)
                log = await uow.retention.count_run_log_ended_by(run_log_cutoff)
        else:
            rows = await self._remove_metric_rows(run, cutoff)
            async with self._uow() as uow:
                log = await uow.retention.delete_run_log_ended_by(run_log_cutoff)
                await uow.commit()
        return MetricsRetention(
            retention_days=days,
            cutoff=cutoff,
            rows_removed=rows,
            run_log_cutoff=run_log_cutoff,
            windows_removed=log.windows,
            stale_marks_removed=log.stale_marks,
        )

    async def _remove_metric_rows(self, run: "_Run", cutoff: datetime) -> int:
        removed, limit = 0, self._policy.batch_rows
        while True:
            async with self._uow() as uow:
                count = await uow.retention.delete_metric_rows_ended_by(cutoff, limit)
                await uow.commit()
            removed += count
            run.batches += 1 if count else 0
            if count < limit:
                return removed


@dataclass(slots=True)
class _Run:
    """One application of retention: when it judges by, and how many batches it took."""

    now: datetime
    dry_run: bool
    batches: int = 0


def _check(now: datetime | None) -> None:
    if now is not None and now.tzinfo is None:
        raise InvalidInput(
            "invalid_time",
            "now must carry a UTC offset",
            errors=[FieldError(field="now", message="must carry a UTC offset")],
        )
