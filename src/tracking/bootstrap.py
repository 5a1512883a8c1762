"""The composition root: settings in, handlers out. The only module that names adapters."""

import secrets
from datetime import timedelta

from dependency_injector import containers, providers

from tracking.adapters.event_writers import GroupCommitEventWriter
from tracking.adapters.jwt_tokens import PyJwtTokenCodec
from tracking.adapters.kafka.producer import LazyProducer
from tracking.adapters.kafka.publisher import KafkaCheck, KafkaEventWriter
from tracking.adapters.memory.metrics import InMemoryMetricsReadModel, InMemoryMetricsStore
from tracking.adapters.memory.read_models import InMemoryClientReadModel, InMemoryEventReadModel
from tracking.adapters.memory.store import InMemoryStore, InMemoryStoreCheck
from tracking.adapters.memory.unit_of_work import InMemoryUnitOfWork
from tracking.adapters.postgres.database import create_engine
from tracking.adapters.postgres.metrics import PostgresMetricsReadModel, PostgresMetricsStore
from tracking.adapters.postgres.principal_cache import PrincipalCache
from tracking.adapters.postgres.read_models import (
    PostgresCheck,
    PostgresClientReadModel,
    PostgresEventReadModel,
)
from tracking.adapters.postgres.unit_of_work import PostgresUnitOfWork
from tracking.adapters.system import SystemClock, UuidV7Generator
from tracking.application.commands.calculate_metrics import (
    CalculateMetricsHandler,
)
from tracking.application.commands.deactivate_client import DeactivateClientHandler
from tracking.application.commands.ensure_admin import EnsureAdminHandler
from tracking.application.commands.issue_access_token import IssueAccessTokenHandler
from tracking.application.commands.record_events import RecordEventsHandler
from tracking.application.commands.register_client import RegisterClientHandler
from tracking.application.commands.rotate_api_key import RotateApiKeyHandler
from tracking.application.metrics_policy import MetricsPolicy
from tracking.application.ports import DependencyCheck
from tracking.application.queries.active_clients import ActiveClientsHandler
from tracking.application.queries.authenticate import AuthenticateHandler
from tracking.application.queries.get_client import GetClientHandler
from tracking.application.queries.list_clients import ListClientsHandler
from tracking.application.queries.list_events import ListEventsHandler
from tracking.application.queries.list_metric_windows import ListMetricWindowsHandler
from tracking.application.queries.list_metrics import ListMetricsHandler
from tracking.application.queries.readiness import ReadinessHandler
from tracking.domain.windows import WindowSize
from tracking.settings import Settings


def jwt_secret(settings: Settings) -> str:
    """Without a configured secret, tokens are signed with one made for this process only."""
    return settings.jwt_secret or secrets.token_urlsafe(48)


def _storage(settings: Settings) -> str:
    """What the container builds: the embedded server is a Postgres whose URL the entrypoint
    put into the settings when it started it."""
    if settings.storage_kind == "memory":
        return "memory"
    if settings.database_url is None:
        raise ValueError("Postgres storage without a database URL: start the embedded one first")
    return "postgres"


def _metrics_policy(settings: Settings) -> MetricsPolicy:
    return MetricsPolicy(
        size=WindowSize(settings.metrics_window_hours),
        grace=timedelta(seconds=settings.metrics_grace_seconds),
        backfill=timedelta(days=settings.metrics_backfill_days),
        max_windows=settings.metrics_max_windows,
    )


def _seconds(milliseconds: float) -> float:
    return milliseconds / 1000


def _all_checks(*groups: list[DependencyCheck]) -> list[DependencyCheck]:
    return [check for group in groups for check in group]


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UuidV7Generator)

    storage = providers.Callable(_storage, settings)
    metrics_policy = providers.Singleton(_metrics_policy, settings)
    window_size = metrics_policy.provided.size

    store = providers.Singleton(InMemoryStore)
    engine = providers.Singleton(
        create_engine,
        url=settings.provided.database_url,
        pool_size=settings.provided.db_pool_size,
        max_overflow=settings.provided.db_max_overflow,
        pool_timeout=settings.provided.db_pool_timeout_seconds,
        connect_timeout=settings.provided.db_connect_timeout_seconds,
        statement_timeout_ms=settings.provided.db_statement_timeout_ms,
    )
    principal_cache = providers.Singleton(
        PrincipalCache, ttl_seconds=settings.provided.auth_cache_seconds
    )
    uow = providers.Selector(
        storage,
        memory=providers.Factory(InMemoryUnitOfWork, store=store),
        postgres=providers.Factory(PostgresUnitOfWork, engine=engine, cache=principal_cache),
    )
    event_reads = providers.Selector(
        storage,
        memory=providers.Singleton(InMemoryEventReadModel, store=store),
        postgres=providers.Singleton(PostgresEventReadModel, engine=engine),
    )
    client_reads = providers.Selector(
        storage,
        memory=providers.Singleton(InMemoryClientReadModel, store=store),
        postgres=providers.Singleton(PostgresClientReadModel, engine=engine, cache=principal_cache),
    )
    metrics_store = providers.Selector(
        storage,
        memory=providers.Singleton(InMemoryMetricsStore, store=store),
        postgres=providers.Singleton(PostgresMetricsStore, engine=engine),
    )
    metrics_reads = providers.Selector(
        storage,
        memory=providers.Singleton(InMemoryMetricsReadModel, store=store),
        postgres=providers.Singleton(PostgresMetricsReadModel, engine=engine),
    )
    storage_checks = providers.Selector(
        storage,
        memory=providers.List(providers.Singleton(InMemoryStoreCheck, store=store)),
        postgres=providers.List(providers.Singleton(PostgresCheck, engine=engine)),
    )

    kafka_producer = providers.Singleton(
        LazyProducer,
        bootstrap=settings.provided.kafka_bootstrap,
        timeout_seconds=providers.Callable(_seconds, settings.provided.kafka_send_timeout_ms),
        client_id="tracking",
    )
    kafka_checks = providers.Selector(
        settings.provided.ingest_mode,
        direct=providers.List(),
        kafka=providers.List(providers.Singleton(KafkaCheck, producer=kafka_producer)),
    )
    checks = providers.Callable(_all_checks, storage_checks, kafka_checks)

    tokens = providers.Singleton(
        PyJwtTokenCodec,
        secret=providers.Singleton(jwt_secret, settings),
        issuer=settings.provided.jwt_issuer,
        audience=settings.provided.jwt_audience,
        ttl=providers.Callable(timedelta, seconds=settings.provided.jwt_ttl_seconds),
        clock=clock,
    )

    store_writer = providers.Singleton(
        GroupCommitEventWriter,
        uow=uow.provider,
        clock=clock,
        window_size=window_size,
        max_events=settings.provided.group_commit_max_events,
        max_wait=providers.Callable(_seconds, settings.provided.group_commit_wait_ms),
        max_flushes=settings.provided.group_commit_flushes,
    )
    event_writer = providers.Selector(
        settings.provided.ingest_mode,
        direct=store_writer,
        kafka=providers.Singleton(
            KafkaEventWriter, producer=kafka_producer, topic=settings.provided.kafka_topic
        ),
    )
    record_events = providers.Singleton(
        RecordEventsHandler, writer=event_writer, clock=clock, ids=ids
    )
    store_events = providers.Singleton(
        RecordEventsHandler, writer=store_writer, clock=clock, ids=ids
    )
    """What the Kafka consumer stores through: always the database, whatever the ingest mode."""
    register_client = providers.Singleton(
        RegisterClientHandler, uow=uow.provider, clock=clock, ids=ids
    )
    rotate_api_key = providers.Singleton(RotateApiKeyHandler, uow=uow.provider)
    deactivate_client = providers.Singleton(DeactivateClientHandler, uow=uow.provider)
    ensure_admin = providers.Singleton(EnsureAdminHandler, uow=uow.provider, clock=clock, ids=ids)
    issue_access_token = providers.Singleton(IssueAccessTokenHandler, tokens=tokens)

    authenticate = providers.Singleton(AuthenticateHandler, clients=client_reads, tokens=tokens)
    list_events = providers.Singleton(ListEventsHandler, events=event_reads)
    get_client = providers.Singleton(GetClientHandler, clients=client_reads)
    list_clients = providers.Singleton(ListClientsHandler, clients=client_reads)
    readiness = providers.Singleton(ReadinessHandler, checks=checks)
    active_clients = providers.Singleton(ActiveClientsHandler, clients=client_reads)
    calculate_metrics = providers.Singleton(
        CalculateMetricsHandler, store=metrics_store, clock=clock, policy=metrics_policy
    )
    list_metrics = providers.Singleton(ListMetricsHandler, metrics=metrics_reads, size=window_size)
    list_metric_windows = providers.Singleton(
        ListMetricWindowsHandler, metrics=metrics_reads, policy=metrics_policy, clock=clock
    )


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)


async def close(container: Container) -> None:
    """Releases what the container opened: the Kafka producer and the database pool."""
    await container.kafka_producer().close()
    if _storage(container.settings()) == "postgres":
        await container.engine().dispose()
