"""ApplyRetention: remove every client's events past its retention, and the metric rows past
the installation's, a batch per transaction."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from tracking.application.answer_cache import AnswerCache
from tracking.application.errors import Forbidden
from tracking.application.ports import ClientReadModel, Clock, EventMonth, UnitOfWorkFactory
from tracking.application.principal import Principal
from tracking.application.retention import (
    ClientRetention,
    DroppedMonth,
    MetricsRetention,
    RetentionReport,
)
from tracking.application.views import ClientView
from tracking.domain.clients import retention_days_of
from tracking.domain.errors import FieldError, InvalidInput
from tracking.domain.retention import expired_whole, retention_cutoff

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


class ApplyRetentionHandler:
    """Only an admin (the operator) applies retention. An event is past its client's
    retention when `occurred_at < now - retention_days`; a metric row when its window ended
    at or before `now - TRACKING_METRICS_RETENTION_DAYS`. Rows go a batch at a time, oldest
    first, each batch its own transaction. A UTC month whose every event is expired (each
    client with events in it keeps events for less time than has passed since it ended)
    goes whole first, at once. After each batch or month, the stats answers about the days
    it removed events of are dropped, so they are exact again.

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
        cutoffs = {client.id: retention_cutoff(client.retention_days, now) for client in everyone}
        await self._drop_whole_months(run, cutoffs)
        trimmed = 0 if run.dry_run else await self._trim_keys(run)
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
            months_dropped=run.months,
            keys_trimmed=trimmed,
        )

    async def _drop_whole_months(self, run: "_Run", cutoffs: dict[UUID, datetime | None]) -> None:
        """The months whose every event is expired go whole, before any row is deleted one
        by one. A month that cannot go now (a lock not granted in time, another client's
        events come in) is left to the row deletes."""
        latest = max((cutoff for cutoff in cutoffs.values() if cutoff is not None), default=None)
        if latest is None:
            return
        async with self._uow() as uow:
            months = await uow.retention.event_months(latest)
        for month in months:
            if not expired_whole(month.end, month.events.keys(), cutoffs):
                continue
            dropped: EventMonth | None = month
            if not run.dry_run:
                async with self._uow() as uow:
                    dropped = await uow.retention.drop_event_month(month)
                    if dropped is not None:
                        await uow.commit()
            if dropped is not None:
                run.dropped(dropped)
                for client_id in () if run.dry_run else dropped.events:
                    await self._answers.forget_removed(client_id, dropped.start, dropped.end)

    async def _trim_keys(self, run: "_Run") -> int:
        """The keys of dropped months' events, a batch per transaction (those of an earlier
        run cut short included)."""
        trimmed = 0
        while True:
            async with self._uow() as uow:
                batch = await uow.retention.trim_event_keys(self._policy.batch_rows)
                await uow.commit()
            trimmed += batch.removed
            run.batches += 1 if batch.removed else 0
            if batch.done:
                return trimmed

    async def _client(self, run: "_Run", client: ClientView, days: int) -> ClientRetention:
        cutoff = run.now - timedelta(days=days)
        if run.dry_run:
            async with self._uow() as uow:
                events = await uow.retention.count_events_before(client.id, cutoff)
                marks = await uow.retention.count_stale_marks_before(client.id, cutoff)
            events -= run.in_months.get(client.id, 0)  # counted as dropped with their month
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
            events_removed=events + run.in_months.get(client.id, 0),
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
    """One application of retention: when it judges by, how many batches it took, the
    months it dropped whole and their events by client."""

    now: datetime
    dry_run: bool
    batches: int = 0
    months: list[DroppedMonth] = field(default_factory=list)
    in_months: dict[UUID, int] = field(default_factory=dict)

    def dropped(self, month: EventMonth) -> None:
        self.batches += 0 if self.dry_run else 1
        self.months.append(DroppedMonth(start=month.start, events=sum(month.events.values())))
        for client_id, count in month.events.items():
            self.in_months[client_id] = self.in_months.get(client_id, 0) + count


def _check(now: datetime | None) -> None:
    if now is not None and now.tzinfo is None:
        raise InvalidInput(
            "invalid_time",
            "now must carry a UTC offset",
            errors=[FieldError(field="now", message="must carry a UTC offset")],
        )
