"""Kafka-backed ingest: events are validated here, then published; the consumer stores them."""

import asyncio
from collections.abc import Sequence

from aiokafka.errors import KafkaError

from tracking.adapters.kafka.messages import encode_event
from tracking.adapters.kafka.producer import LazyProducer
from tracking.adapters.outages import KAFKA
from tracking.application.errors import Unavailable
from tracking.application.ports import DependencyCheck, EventWriter, Queued
from tracking.domain.events import Event


class KafkaEventWriter(EventWriter):
    """Publishes each event keyed by its user id (a user's events stay in order within a
    partition) and returns once the broker acknowledged every one of them (`acks=all`).
    A failure or a timeout is `Unavailable`: nothing was acknowledged to the caller, and a
    retry with the same ids is stored once."""

    def __init__(self, producer: LazyProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def write(self, events: Sequence[Event]) -> Queued:
        try:
            async with asyncio.timeout(self._producer.timeout_seconds):
                producer = await self._producer.started()
                sent = [
                    await producer.send(
                        self._topic, value=encode_event(event), key=event.user_id.encode()
                    )
                    for event in events
                ]
                await asyncio.gather(*sent)
        except (KafkaError, TimeoutError, OSError) as error:
            KAFKA.failed(error)
            raise Unavailable(
                "broker_unavailable", "the events could not be queued; retry", retry_after=1
            ) from None
        KAFKA.answered()
        return Queued()


class KafkaCheck(DependencyCheck):
    name = "kafka"
    required = True

    def __init__(self, producer: LazyProducer) -> None:
        self._producer = producer

    async def check(self) -> None:
        await self._producer.check()
