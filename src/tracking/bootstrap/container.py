"""The container: every adapter and resource of an installation, built from its settings.

Resources (the database, its engine, the Kafka producer) are opened on first use and closed
by `shutdown_resources()`, in the event loop that opened them."""

import secrets
from collections.abc import Callable
from datetime import timedelta

from aiokafka import AIOKafkaConsumer
from dependency_injector import containers, providers
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.group_commit import GroupCommitEventWriter, UnitOfWorkEventStore
from tracking.adapters.jwt_tokens import PyJwtTokenCodec
from tracking.adapters.kafka.consumer import KafkaEventConsumer
from tracking.adapters.kafka.dead_letters import DeadLetterPublisher
from tracking.adapters.kafka.producer import opened_producer
from tracking.adapters.kafka.publisher import KafkaCheck, KafkaEventWriter
from tracking.adapters.kafka.stats import ConsumerCheck, ConsumerStats
from tracking.adapters.memory.metrics import InMemoryMetricsReadModel, InMemoryMetricsStore
from tracking.adapters.memory.privacy import (
    InMemoryErasureLogReadModel,
    InMemoryErasureStore,
    InMemoryUserDataReadModel,
)
from tracking.adapters.memory.read_models import InMemoryClientReadModel, InMemoryEventReadModel
from tracking.adapters.memory.stats_reads import InMemoryStatsReadModel
from tracking.adapters.memory.store import InMemoryStore, InMemoryStoreCheck
from tracking.adapters.memory.stream import InMemoryEventJournal
from tracking.adapters.memory.unit_of_work import InMemoryUnitOfWork
from tracking.adapters.memory.usage import InMemoryRequestLogStore, InMemoryUsageReadModel
from tracking.adapters.outages import exposition as outage_exposition
from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.clients import PostgresClientReadModel
from tracking.adapters.postgres.database import PostgresCheck
from tracking.adapters.postgres.event_partitions import (
    PostgresEventPartitions,
    running_event_partitions,
)
from tracking.adapters.postgres.events import PostgresEventReadModel, PostgresEventStore
from tracking.adapters.postgres.journal import PostgresEventJournal
from tracking.adapters.postgres.metrics import PostgresMetricsStore
from tracking.adapters.postgres.metrics_reads import PostgresMetricsReadModel
from tracking.adapters.postgres.principal_cache import PrincipalCache
from tracking.adapters.postgres.privacy import (
    PostgresErasureLogReadModel,
    PostgresErasureStore,
    PostgresUserDataReadModel,
    user_hash_key,
)
from tracking.adapters.postgres.request_log import PostgresRequestLogStore
from tracking.adapters.postgres.stats_reads import PostgresStatsReadModel
from tracking.adapters.postgres.unit_of_work import PostgresUnitOfWork
from tracking.adapters.postgres.usage_reads import PostgresUsageReadModel
from tracking.adapters.prometheus import REGISTRY as ADAPTER_METRICS
from tracking.adapters.request_log import INTERVAL_SECONDS, running_request_log
from tracking.adapters.system import SystemClock, UuidV7Generator
from tracking.application.answer_cache import AnswerCache
from tracking.application.commands.apply_retention import RetentionPolicy
from tracking.application.commands.register_client import ClientDefaults
from tracking.application.commands.store_queued_events import StoreQueuedEventsHandler
from tracking.application.handlers import Handlers
from tracking.application.metrics_policy import MetricsPolicy
from tracking.application.ports import DependencyCheck, UnitOfWorkFactory
from tracking.application.queries.readiness import ReadinessHandler
from tracking.application.queries.stream_events import StreamLimits
from tracking.bootstrap import shared_state
from tracking.bootstrap.handlers import Limits, build_handlers
from tracking.bootstrap.storage import opened_engine, reachable_database, ready_database
from tracking.domain.privacy import UserHashKey
from tracking.domain.windows import WindowSize
from tracking.settings import Settings


def _jwt_secret(settings: Settings) -> str:
    """Without a configured secret, tokens are signed with one made for this process only."""
    return settings.jwt_secret or secrets.token_urlsafe(48)


def _storage(settings: Settings) -> str:
    return "memory" if settings.storage_kind == "memory" else "postgres"


def _metrics_policy(settings: Settings) -> MetricsPolicy:
    return MetricsPolicy(
        size=WindowSize(settings.metrics_window_hours),
        grace=timedelta(seconds=settings.metrics_grace_seconds),
        backfill=timedelta(days=settings.metrics_backfill_days),
        max_windows=settings.metrics_max_windows,
    )


def _seconds(milliseconds: float) -> float:
    return milliseconds / 1000


def _all(*groups: list[DependencyCheck]) -> list[DependencyCheck]:
    return [check for group in groups for check in group]


def _limits(settings: Settings) -> Limits:
    """`TRACKING_RATE_LIMITS=false` turns every limit off, the one on failures included."""
    failures = settings.auth_failures_per_minute if settings.rate_limits else 0
    return Limits(enabled=settings.rate_limits, auth_failures_per_minute=failures or None)


def _client_defaults(settings: Settings) -> ClientDefaults:
    return ClientDefaults(
        rate_limit_per_minute=settings.rate_limit_per_minute,
        events_per_minute=settings.events_per_minute,
    )


def _retention_policy(settings: Settings) -> RetentionPolicy:
    return RetentionPolicy(
        metrics_days=settings.metrics_retention_days,
        batch_rows=settings.retention_batch_rows,
        backfill=timedelta(days=settings.metrics_backfill_days),
    )


SETTLED_ANSWER_SECONDS = 24 * 3600.0
"""How long a settled stats answer is kept: a late event drops it sooner."""


def _stream_limits(settings: Settings) -> StreamLimits:
    return StreamLimits(
        capacity=settings.stream_buffer_events,
        heartbeat_seconds=settings.stream_heartbeat_seconds,
        per_client=settings.stream_max_per_client,
        replay=timedelta(hours=settings.stream_replay_hours),
    )


def _settled_answer_seconds(redis: Redis | None, settings: Settings) -> float:
    """A cache in this process alone, beside a database other processes write to (workers,
    the consumer, other replicas), would never hear of their late events: settled answers
    are then kept no longer than open ones."""
    if redis is None and settings.storage_kind != "memory":
        return float(settings.analytics_open_ttl_seconds)
    return SETTLED_ANSWER_SECONDS


def _answer_guard_seconds(settings: Settings) -> float:
    """How long a late event's mark outlives it: longer than any stats query may run."""
    timeout = settings.db_statement_timeout_ms / 1000
    return 3600.0 if not timeout else max(60.0, 2 * timeout)


def _memory_uow(store: InMemoryStore) -> UnitOfWorkFactory:
    return lambda: InMemoryUnitOfWork(store)


def _postgres_uow(
    engine: AsyncEngine, cache: PrincipalCache, user_hashes: UserHashKey
) -> UnitOfWorkFactory:
    return lambda: PostgresUnitOfWork(engine, cache, user_hashes)


def _configured_hash_key(settings: Settings) -> bytes | None:
    return None if settings.user_hash_key is None else settings.user_hash_key.encode()


def _memory_hash_key(settings: Settings) -> UserHashKey:
    """The configured key, else one made for this process (its memory store)."""
    configured = _configured_hash_key(settings)
    return UserHashKey.random() if configured is None else UserHashKey(configured)


def _store_queued(handlers: Handlers) -> StoreQueuedEventsHandler:
    return handlers.store_queued_events


def _kafka_consumers(settings: Settings) -> Callable[[], AIOKafkaConsumer]:
    """A new consumer each time the consume loop (re)starts."""
    return lambda: AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=settings.kafka_group,
        client_id="tracking-consumer",
        # Offsets are committed by hand, after the events are stored.
        enable_auto_commit=False,
        # A new group starts at the beginning of the topic: nothing published is skipped.
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=max(100, settings.kafka_session_timeout_ms // 3),
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UuidV7Generator)
    metrics_policy = providers.Singleton(_metrics_policy, settings)
    window_size = metrics_policy.provided.size
    storage = providers.Callable(_storage, settings)

    # The database: reachable (the embedded one started), then at the schema's head.
    database = providers.Resource(reachable_database, settings)
    ready = providers.Resource(ready_database, database, settings)
    engine = providers.Resource(opened_engine, ready, settings)
    schema = providers.Singleton(migrations.AlembicSchema, database)
    migration_history = providers.Callable(migrations.history)

    store = providers.Singleton(
        InMemoryStore, user_hash_key=providers.Callable(_memory_hash_key, settings)
    )
    principal_cache = providers.Singleton(
        PrincipalCache, ttl_seconds=settings.provided.auth_cache_seconds
    )
    # The user-hash key: configured, else the database's (made once, shared by every process).
    user_hashes = providers.Resource(
        user_hash_key, engine, providers.Callable(_configured_hash_key, settings)
    )
    uow = providers.Selector(
        storage,
        memory=providers.Singleton(_memory_uow, store),
        postgres=providers.Singleton(_postgres_uow, engine, principal_cache, user_hashes),
    )
    event_reads = providers.Selector(
        storage,
        memory=providers.Singleton(InMemoryEventReadModel, store=store),
        postgres=providers.Singleton(PostgresEventReadModel, engine=engine),
    )
    event_journal = providers.Selector(
        storage,
        memory=providers.Singleton(InMemoryEventJournal, store=store),
        postgres=providers.Singleton(PostgresEventJournal, engine=engine),
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
    stats_reads = providers.Selector(
        storage,
        memory=providers.Singleton(InMemoryStatsReadModel, store=store),
        postgres=providers.Singleton(PostgresStatsReadModel, engine=engine),
    )
    erasure = providers.Selector(
        storage,
        memory=providers.Singleton(InMemoryErasureStore, store=store),
        postgres=providers.Singleton(PostgresErasureStore, engine=engine, key=user_hashes),
    )
    erasure_log = providers.Selector(
        storage,
        memory=providers.Singleton(InMemoryErasureLogReadModel, store=store),
        postgres=providers.Singleton(PostgresErasureLogReadModel, engine=engine),
    )
    user_data = providers.Selector(
        storage,
        memory=providers.Singleton(InMemoryUserDataReadModel, store=store),
        postgres=providers.Singleton(PostgresUserDataReadModel, engine=engine),
    )
    request_log_store = providers.Selector(
        storage,
        memory=providers.Singleton(InMemoryRequestLogStore, store=store),
        postgres=providers.Singleton(PostgresRequestLogStore, engine=engine),
    )
    event_partitions = providers.Resource(
        running_event_partitions,
        providers.Selector(
            storage,
            memory=providers.Object(None),
            postgres=providers.Singleton(
                PostgresEventPartitions,
                engine,
                clock,
                months_ahead=settings.provided.event_partition_months_ahead,
            ),
        ),
    )
    """The events' coming months' partitions, made at once and then every hour (None on
    memory storage): opened by `serve` and `consume` as they start."""
    usage_reads = providers.Selector(
        storage,
        memory=providers.Singleton(InMemoryUsageReadModel, store=store),
        postgres=providers.Singleton(PostgresUsageReadModel, engine=engine),
    )
    storage_checks = providers.Selector(
        storage,
        memory=providers.List(providers.Singleton(InMemoryStoreCheck, store=store)),
        postgres=providers.List(providers.Singleton(PostgresCheck, engine=engine)),
    )

    # One producer per process: Kafka-backed ingest and the consumer's dead letters.
    kafka_producer = providers.Resource(
        opened_producer,
        bootstrap=settings.provided.kafka_bootstrap,
        timeout_seconds=providers.Callable(_seconds, settings.provided.kafka_send_timeout_ms),
        client_id="tracking",
    )
    kafka_checks = providers.Selector(
        settings.provided.ingest_mode,
        direct=providers.List(),
        kafka=providers.List(providers.Singleton(KafkaCheck, producer=kafka_producer)),
    )

    jwt_secret = providers.Singleton(_jwt_secret, settings)
    tokens = providers.Singleton(
        PyJwtTokenCodec,
        secret=jwt_secret,
        issuer=settings.provided.jwt_issuer,
        audience=settings.provided.jwt_audience,
        ttl=providers.Callable(timedelta, seconds=settings.provided.jwt_ttl_seconds),
        clock=clock,
    )
    # Shared state: Redis (configured, or embedded beside the embedded database), else none.
    redis_url = providers.Resource(shared_state.reachable_redis, settings)
    redis = providers.Resource(shared_state.opened_redis, redis_url, settings)
    redis_subscriber = providers.Resource(shared_state.opened_subscriber, redis_url, settings)
    event_feed = providers.Resource(
        shared_state.event_feed, redis, redis_subscriber, settings.provided.stream_gather_ms
    )
    """Committed events told to the live streams of every process (Redis), or of this one."""
    event_store = providers.Selector(
        storage,
        memory=providers.Singleton(UnitOfWorkEventStore, uow),
        postgres=providers.Singleton(PostgresEventStore, engine, user_hashes),
    )
    store_writer = providers.Singleton(
        GroupCommitEventWriter,
        uow=uow,
        store=event_store,
        clock=clock,
        window_size=window_size,
        feed=event_feed,
        max_events=settings.provided.group_commit_max_events,
        max_wait=providers.Callable(_seconds, settings.provided.group_commit_wait_ms),
        max_flushes=settings.provided.group_commit_flushes,
    )
    """Where stored events go: always the database, whatever the ingest mode."""
    event_writer = providers.Selector(
        settings.provided.ingest_mode,
        direct=store_writer,
        kafka=providers.Singleton(
            KafkaEventWriter, producer=kafka_producer, topic=settings.provided.kafka_topic
        ),
    )

    rate_limiter = providers.Singleton(shared_state.rate_limiter, redis, settings)
    cache = providers.Singleton(shared_state.cache, redis, settings)
    """The answers cache, for the queries that will keep answers (analytics)."""
    settled_ttl = providers.Callable(_settled_answer_seconds, redis, settings)
    answer_guard = providers.Callable(_answer_guard_seconds, settings)
    stats_cache = providers.Singleton(
        AnswerCache,
        cache,
        namespace="stats",
        open_ttl=settings.provided.analytics_open_ttl_seconds,
        settled_ttl=settled_ttl,
        guard_seconds=answer_guard,
    )
    usage_cache = providers.Singleton(
        AnswerCache,
        cache,
        namespace="usage",
        open_ttl=settings.provided.analytics_open_ttl_seconds,
        settled_ttl=settled_ttl,
        guard_seconds=answer_guard,
    )
    request_log_interval = providers.Object(INTERVAL_SECONDS)
    """Seconds between two writes of the request log (tests make it short)."""
    request_log = providers.Resource(
        running_request_log,
        store=request_log_store,
        clock=clock,
        ids=ids,
        answers=usage_cache,
        enabled=settings.provided.request_log,
        max_rows=settings.provided.request_log_buffer,
        retention_days=settings.provided.request_log_days,
        interval=request_log_interval,
    )
    """This process's request log, its writer running (None when it is off): opened by the
    API's lifespan, which records every authenticated request into it."""
    client_changes = providers.Resource(
        shared_state.client_changes,
        redis,
        redis_subscriber,
        forget=principal_cache.provided.forget,
        forget_all=principal_cache.provided.forget_all,
    )
    redis_checks = providers.Callable(shared_state.redis_checks, redis)

    handlers = providers.Singleton(
        build_handlers,
        uow=uow,
        clock=clock,
        ids=ids,
        writer=event_writer,
        store_writer=store_writer,
        events=event_reads,
        clients=client_reads,
        metrics=metrics_store,
        metrics_reads=metrics_reads,
        tokens=tokens,
        checks=providers.Callable(_all, storage_checks, kafka_checks, redis_checks),
        policy=metrics_policy,
        event_max_age=providers.Callable(timedelta, days=settings.provided.event_max_age_days),
        changes=client_changes,
        limiter=rate_limiter,
        limits=providers.Callable(_limits, settings),
        usage=usage_reads,
        stats=stats_reads,
        stats_cache=stats_cache,
        usage_cache=usage_cache,
        client_defaults=providers.Callable(_client_defaults, settings),
        erasure=erasure,
        erasure_log=erasure_log,
        user_data=user_data,
        retention=providers.Callable(_retention_policy, settings),
        feed=event_feed,
        journal=event_journal,
        stream_limits=providers.Callable(_stream_limits, settings),
    )

    # The Kafka consumer (`tracking consume`), with its own readiness.
    outages = providers.Object(outage_exposition)
    """Prometheus text of this process's dependency outages (every process serves it)."""
    metrics_registry = providers.Object(ADAPTER_METRICS)
    """This process's metrics of the adapters, which the API serves with its own."""
    consumer_stats = providers.Singleton(ConsumerStats)
    consumer_readiness = providers.Singleton(
        ReadinessHandler,
        checks=providers.Callable(
            _all,
            storage_checks,
            redis_checks,
            providers.List(providers.Singleton(ConsumerCheck, consumer_stats)),
        ),
    )
    kafka_consumer = providers.Singleton(
        KafkaEventConsumer,
        new_consumer=providers.Callable(_kafka_consumers, settings),
        topic=settings.provided.kafka_topic,
        store=providers.Callable(_store_queued, handlers),
        dead_letters=providers.Singleton(DeadLetterPublisher, kafka_producer),
        stats=consumer_stats,
        batch_max=settings.provided.kafka_batch_max,
        batch_wait_ms=settings.provided.kafka_batch_wait_ms,
        retry_max_seconds=settings.provided.kafka_retry_max_seconds,
        unexpected_retries=settings.provided.kafka_unexpected_retries,
    )
