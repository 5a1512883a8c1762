"""Composes and runs the consumer: the consume loop, its dead-letter producer and its health
port, in one event loop, until SIGINT or SIGTERM."""

import asyncio
import logging
import signal

from aiokafka import AIOKafkaConsumer

from tracking.adapters.kafka.producer import LazyProducer
from tracking.application.queries.readiness import ReadinessHandler
from tracking.bootstrap import Container, close
from tracking.entrypoints.consumer.batch import BatchIngest
from tracking.entrypoints.consumer.dead_letters import DeadLetterPublisher
from tracking.entrypoints.consumer.health import create_health_app, health_server
from tracking.entrypoints.consumer.loop import KafkaEventConsumer
from tracking.entrypoints.consumer.stats import ConsumerCheck, ConsumerStats
from tracking.settings import Settings

log = logging.getLogger(__name__)


def _new_consumer(settings: Settings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
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


class ConsumerService:
    """The consumer with what it needs around it; `run` returns once it stopped."""

    def __init__(self, container: Container, settings: Settings) -> None:
        self._container = container
        self._settings = settings
        self.stats = ConsumerStats()
        self._dead_letter_producer = LazyProducer(
            settings.kafka_bootstrap,
            timeout_seconds=settings.kafka_send_timeout_ms / 1000,
            client_id="tracking-consumer",
        )
        self.consumer = KafkaEventConsumer(
            lambda: _new_consumer(settings),
            settings.kafka_topic,
            BatchIngest(container.store_events(), container.active_clients()),
            DeadLetterPublisher(self._dead_letter_producer),
            self.stats,
            batch_max=settings.kafka_batch_max,
            batch_wait_ms=settings.kafka_batch_wait_ms,
            retry_max_seconds=settings.kafka_retry_max_seconds,
        )

    def stop(self) -> None:
        self.consumer.stop()

    async def run(self, *, handle_signals: bool = True) -> None:
        """Until `stop()`, or SIGINT/SIGTERM when `handle_signals`; then releases the
        container's resources too."""
        settings = self._settings
        if handle_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.stop)
        server = None
        serving: asyncio.Task[None] | None = None
        if settings.consumer_port:
            checks = [*self._container.storage_checks(), ConsumerCheck(self.stats)]
            app = create_health_app(ReadinessHandler(checks), self.stats)
            server = health_server(app, settings.http_host, settings.consumer_port)
            serving = asyncio.create_task(server.serve())
        log.info("consuming %s as group %s", settings.kafka_topic, settings.kafka_group)
        try:
            await self.consumer.run()
        finally:
            if server is not None and serving is not None:
                server.should_exit = True
                await serving
            await self._dead_letter_producer.close()
            await close(self._container)
        log.info("stopped")
