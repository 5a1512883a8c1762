"""A producer started on first use: the API starts while the broker is down, and answers 503
until it is back, instead of refusing to start."""

import asyncio
import logging
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

MAX_BATCH_BYTES = 512 * 1024


class LazyProducer:
    def __init__(self, bootstrap: str, *, timeout_seconds: float, client_id: str) -> None:
        self._bootstrap = bootstrap
        self._timeout = timeout_seconds
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    @property
    def timeout_seconds(self) -> float:
        return self._timeout

    async def started(self) -> AIOKafkaProducer:
        """The running producer; raises `KafkaError` or `TimeoutError` while no broker answers."""
        if self._producer is not None:
            return self._producer
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    client_id=self._client_id,
                    # Acknowledged only once every in-sync replica has it.
                    acks="all",
                    # Our event ids make a resent message harmless; tansu, the test broker,
                    # has no idempotent producer.
                    enable_idempotence=False,
                    linger_ms=2,
                    max_batch_size=MAX_BATCH_BYTES,
                    request_timeout_ms=int(self._timeout * 1000),
                )
                try:
                    async with asyncio.timeout(self._timeout):
                        await producer.start()
                except (KafkaError, TimeoutError, OSError):
                    await producer.stop()
                    raise
                self._producer = producer
        return self._producer

    async def check(self) -> None:
        """Returns when a broker answers a metadata request."""
        producer = await self.started()
        await producer.client.fetch_all_metadata()

    async def close(self) -> None:
        """Sends what is buffered, then stops."""
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


async def opened_producer(
    bootstrap: str, *, timeout_seconds: float, client_id: str
) -> AsyncIterator[LazyProducer]:
    """The producer as a resource: nothing connects until it is first used; closing it sends
    what is buffered."""
    producer = LazyProducer(bootstrap, timeout_seconds=timeout_seconds, client_id=client_id)
    try:
        yield producer
    finally:
        await producer.close()
