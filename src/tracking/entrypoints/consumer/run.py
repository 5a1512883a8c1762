"""Runs the consumer the container composed, with its health port, in one event loop, until
SIGINT or SIGTERM; then closes the container's resources."""

import asyncio
import logging
import signal
import socket
from collections.abc import Callable

from tracking.bootstrap import Container, resolved, shut_down
from tracking.entrypoints.consumer.health import create_health_app, health_server

log = logging.getLogger(__name__)


class ConsumerService:
    def __init__(self, container: Container, *, health_socket: socket.socket | None = None) -> None:
        """`health_socket`: the health port, bound already (else bound when serving)."""
        self._container = container
        self._health_socket = health_socket
        self._stop_requested = False
        self._stop_consumer: Callable[[], None] = lambda: None
        self.stats = container.consumer_stats()

    def stop(self) -> None:
        """Stop fetching; the batches in hand are finished and committed first."""
        self._stop_requested = True
        self._stop_consumer()

    async def run(self, *, handle_signals: bool = True) -> None:
        """Until `stop()`, or SIGINT/SIGTERM when `handle_signals`."""
        container = self._container
        settings = container.settings()
        try:
            await resolved(container.event_partitions())
            consumer = await resolved(container.kafka_consumer())
            readiness = await resolved(container.consumer_readiness())
            self._stop_consumer = consumer.stop
            if self._stop_requested:
                consumer.stop()
            if handle_signals:
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, self.stop)
            server = None
            serving: asyncio.Task[None] | None = None
            if settings.consumer_port:
                outages = container.outages()
                app = create_health_app(readiness, lambda: self.stats.exposition() + outages())
                server = health_server(
                    app, settings.http_host, settings.consumer_port, access_log=settings.access_log
                )
                sockets = None if self._health_socket is None else [self._health_socket]
                serving = asyncio.create_task(server.serve(sockets=sockets))
            log.info("consuming %s as group %s", settings.kafka_topic, settings.kafka_group)
            try:
                await consumer.run()
            finally:
                if server is not None and serving is not None:
                    server.should_exit = True
                    await serving
        finally:
            await shut_down(container)
        log.info("stopped")
