"""Dead letters: a message that cannot be stored goes, unchanged, to `<topic>.dlq`, with
headers that say why and where it came from."""

import asyncio
from collections.abc import Sequence

from tracking.adapters.kafka.producer import LazyProducer
from tracking.entrypoints.consumer.batch import DeadLetter

HEADER_PREFIX = "tracking."


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


def headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    message = letter.message
    named = {
        "reason": letter.reason,
        "error-code": letter.code,
        "error-detail": letter.detail[:1000],
        "original-topic": message.topic,
        "original-partition": str(message.partition),
        "original-offset": str(message.offset),
        "original-timestamp": str(message.timestamp_ms),
    }
    return [(HEADER_PREFIX + name, value.encode()) for name, value in named.items()]


class DeadLetterPublisher:
    def __init__(self, producer: LazyProducer) -> None:
        self._producer = producer

    async def publish(self, letters: Sequence[DeadLetter]) -> None:
        """Returns once the broker acknowledged every letter (`acks=all`); raises otherwise.
        A retry after a failure may publish some letters twice: the headers name each
        original offset, so a reader can tell."""
        async with asyncio.timeout(self._producer.timeout_seconds):
            producer = await self._producer.started()
            sent = [
                await producer.send(
                    dead_letter_topic(letter.message.topic),
                    value=letter.message.value,
                    key=letter.message.key,
                    headers=headers(letter),
                )
                for letter in letters
            ]
            await asyncio.gather(*sent)
