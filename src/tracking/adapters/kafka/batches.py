"""One fetched batch: decoded here (the wire format is this adapter's), stored through the
`StoreQueuedEvents` command, and what it rejects set aside as dead letters."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from tracking.adapters.kafka.dead_letters import RETRIED, DeadLetter
from tracking.adapters.kafka.messages import Message, queued_event
from tracking.application.commands.record_events import Rejected
from tracking.application.commands.store_queued_events import (
    QueuedEvent,
    StoreQueuedEvents,
    StoreQueuedEventsHandler,
)
from tracking.domain.errors import TrackingError


@dataclass
class BatchOutcome:
    stored: int = 0
    duplicates: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)

    def __add__(self, other: "BatchOutcome") -> "BatchOutcome":
        """The outcome of a batch stored in two parts."""
        return BatchOutcome(
            stored=self.stored + other.stored,
            duplicates=self.duplicates + other.duplicates,
            dead_letters=sorted(
                [*self.dead_letters, *other.dead_letters],
                key=lambda d: (d.message.partition, d.message.offset),
            ),
        )


async def store_batch(store: StoreQueuedEventsHandler, messages: Sequence[Message]) -> BatchOutcome:
    """A message that carries no event, or whose event is rejected for good, becomes a dead
    letter; a rejection the policy retries (`RETRIED`) fails the whole batch, to be stored
    again. Safe to repeat with the same messages: each event is stored once."""
    outcome = BatchOutcome()
    events: list[QueuedEvent] = []
    origins: list[Message] = []
    for message in messages:
        try:
            events.append(queued_event(message))
        except TrackingError as error:
            outcome.dead_letters.append(DeadLetter(message=message, error=error))
        else:
            origins.append(message)
    recorded = await store(StoreQueuedEvents(events=events))
    for result in recorded.results:
        if isinstance(result, Rejected):
            if result.error.category in RETRIED:
                raise result.error
            outcome.dead_letters.append(
                DeadLetter(message=origins[result.index], error=result.error)
            )
    outcome.stored = recorded.count("stored")
    outcome.duplicates = recorded.count("duplicate")
    outcome.dead_letters.sort(key=lambda d: (d.message.partition, d.message.offset))
    return outcome
