"""The use cases over their ports: one typed function, so mypy checks every construction."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from tracking.application.answer_cache import AnswerCache
from tracking.application.commands.admit_request import AdmitRequestHandler
from tracking.application.commands.apply_retention import ApplyRetentionHandler, RetentionPolicy
from tracking.application.commands.calculate_metrics import CalculateMetricsHandler
from tracking.application.commands.deactivate_client import DeactivateClientHandler
from tracking.application.commands.ensure_admin import EnsureAdminHandler
from tracking.application.commands.erase_user import EraseUserHandler
from tracking.application.commands.issue_access_token import IssueAccessTokenHandler
from tracking.application.commands.lift_suppression import LiftSuppressionHandler
from tracking.application.commands.record_events import RecordEventsHandler
from tracking.application.commands.register_client import ClientDefaults, RegisterClientHandler
from tracking.application.commands.rotate_api_key import RotateApiKeyHandler
from tracking.application.commands.store_queued_events import StoreQueuedEventsHandler
from tracking.application.commands.update_client import UpdateClientHandler
from tracking.application.handlers import Handlers
from tracking.application.metrics_policy import MetricsPolicy
from tracking.application.ports import (
    ClientChanges,
    ClientReadModel,
    Clock,
    DependencyCheck,
    ErasureLogReadModel,
    ErasureStore,
    EventFeed,
    EventJournal,
    EventReadModel,
    EventWriter,
    IdGenerator,
    MetricsReadModel,
    MetricsStore,
    RateLimiter,
    StatsReadModel,
    TokenCodec,
    UnitOfWorkFactory,
    UsageReadModel,
    UserDataReadModel,
)
from tracking.application.queries.authenticate import AuthenticateHandler
from tracking.application.queries.daily_stats import DailyStatsHandler
from tracking.application.queries.daily_usage import DailyUsageHandler
from tracking.application.queries.export_user import ExportUserHandler
from tracking.application.queries.get_client import GetClientHandler
from tracking.application.queries.list_clients import ListClientsHandler
from tracking.application.queries.list_erasures import ListErasuresHandler
from tracking.application.queries.list_events import ListEventsHandler
from tracking.application.queries.list_metric_windows import ListMetricWindowsHandler
from tracking.application.queries.list_metrics import ListMetricsHandler
from tracking.application.queries.readiness import ReadinessHandler
from tracking.application.queries.stats_series import StatsSeriesHandler
from tracking.application.queries.stream_events import StreamEventsHandler, StreamLimits
from tracking.application.queries.top_clients import TopClientsHandler


@dataclass(frozen=True, slots=True)
class Limits:
    """`auth_failures_per_minute`: per source address; None for no such limit."""

    enabled: bool = True
    auth_failures_per_minute: int | None = None


def build_handlers(
    *,
    uow: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    writer: EventWriter,
    store_writer: EventWriter,
    events: EventReadModel,
    clients: ClientReadModel,
    metrics: MetricsStore,
    metrics_reads: MetricsReadModel,
    tokens: TokenCodec,
    checks: Sequence[DependencyCheck],
    policy: MetricsPolicy,
    event_max_age: timedelta,
    changes: ClientChanges,
    limiter: RateLimiter,
    limits: Limits,
    usage: UsageReadModel,
    stats: StatsReadModel,
    stats_cache: AnswerCache,
    usage_cache: AnswerCache,
    erasure: ErasureStore,
    erasure_log: ErasureLogReadModel,
    user_data: UserDataReadModel,
    feed: EventFeed,
    journal: EventJournal,
    stream_limits: StreamLimits,
    client_defaults: ClientDefaults | None = None,
    retention: RetentionPolicy | None = None,
) -> Handlers:
    """`writer` takes what clients send (the database, or Kafka in front of it);
    `store_writer` is always the database: what the Kafka consumer stores through, and what
    an import of history writes to (its old events would be refused by the consumer).
    `changes` tells every process of a committed client change; `client_defaults` are the
    limits of a client registered without any (by default, the domain's)."""
    defaults = client_defaults or ClientDefaults()
    retention = retention or RetentionPolicy(backfill=policy.backfill)
    return Handlers(
        admit_request=AdmitRequestHandler(limiter, enabled=limits.enabled),
        record_events=RecordEventsHandler(writer, clock, ids, event_max_age, stats_cache),
        import_events=RecordEventsHandler(store_writer, clock, ids, None, stats_cache),
        store_queued_events=StoreQueuedEventsHandler(
            store_writer, clients, clock, event_max_age, stats_cache
        ),
        register_client=RegisterClientHandler(uow, clock, ids, defaults),
        rotate_api_key=RotateApiKeyHandler(uow, changes),
        deactivate_client=DeactivateClientHandler(uow, changes),
        update_client=UpdateClientHandler(uow, changes),
        ensure_admin=EnsureAdminHandler(uow, clock, ids, changes, defaults),
        issue_access_token=IssueAccessTokenHandler(tokens),
        calculate_metrics=CalculateMetricsHandler(metrics, clock, policy),
        apply_retention=ApplyRetentionHandler(uow, clients, clock, stats_cache, retention),
        erase_user=EraseUserHandler(
            uow, erasure, clients, clock=clock, ids=ids, window_size=policy.size, stats=stats_cache
        ),
        lift_suppression=LiftSuppressionHandler(uow),
        authenticate=AuthenticateHandler(
            clients, tokens, limiter, clock, failures_per_minute=limits.auth_failures_per_minute
        ),
        list_events=ListEventsHandler(events),
        stream_events=StreamEventsHandler(feed, journal, clock, stream_limits),
        get_client=GetClientHandler(clients),
        list_clients=ListClientsHandler(clients),
        list_metrics=ListMetricsHandler(metrics_reads, policy.size),
        list_metric_windows=ListMetricWindowsHandler(metrics_reads, policy, clock),
        daily_usage=DailyUsageHandler(usage, usage_cache, clock),
        top_clients=TopClientsHandler(usage, usage_cache, clock),
        daily_stats=DailyStatsHandler(stats, stats_cache, clock),
        stats_series=StatsSeriesHandler(stats, stats_cache, clock),
        export_user=ExportUserHandler(user_data),
        list_erasures=ListErasuresHandler(erasure_log),
        readiness=ReadinessHandler(checks),
    )
