"""Dead letters: a message that cannot be stored goes, unchanged, to `<topic>.dlq`, with
headers that say why and where it came from."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from tracking.adapters.kafka.messages import Message
from tracking.adapters.kafka.producer import LazyProducer
from tracking.domain.errors import Category, TrackingError

HEADER_PREFIX = "tracking."
RETRIED = frozenset({Category.UNAVAILABLE, Category.RATE_LIMITED})
"""The consumer's policy, read from an error's category: an outage (these) is retried with the
whole batch, with backoff, for as long as it lasts (nothing is wrong with the messages); a
rule a message breaks dead-letters that message; anything else (`is_unexpected`) is a bug:
the batch is retried a bounded number of times, then split until the message that fails is
found, and that one is dead-lettered as `internal_error`, so no partition stalls on it."""
# The `tracking.reason` header, coarser than the error code: what a reader of the topic acts on.
_REASONS = {
    "invalid_json": "undecodable",
    "unknown_client": "unknown_client",
    "user_suppressed": "user_suppressed",
    "internal_error": "internal_error",
}


def is_unexpected(error: BaseException) -> bool:
    """Not one of our errors: no rule and no outage explains it."""
    return not isinstance(error, TrackingError) or error.category is Category.INTERNAL


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message: Message
    error: TrackingError

    @property
    def reason(self) -> str:
        """`undecodable`, `unknown_client`, `user_suppressed` (its user was erased with
        suppression), `internal_error` or `invalid_event`."""
        return _REASONS.get(self.error.code, "invalid_event")


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


def headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    message = letter.message
    named = {
        "reason": letter.reason,
        "error-code": letter.error.code,
        "error-detail": letter.error.detail[:1000],
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
