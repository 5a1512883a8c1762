"""RecordEvents: store a client's events exactly once, item by item."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import msgspec

from tracking.application.answer_cache import AnswerCache
from tracking.application.ports import Clock, EventWriter, IdGenerator, Queued, Stored
from tracking.domain.errors import TrackingError
from tracking.domain.events import NO_METADATA, Event, check_metadata_depth
from tracking.domain.privacy import UserSuppressed
from tracking.domain.retention import check_retained

RecordedStatus = Literal["stored", "duplicate", "accepted"]
ItemStatus = RecordedStatus | Literal["rejected"]


class NewEvent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: UUID | None = None
    user_id: str | int
    action: str
    occurred_at: str | datetime | None = None
    """RFC 3339 text as the sender wrote it (the domain reads it), or a datetime."""
    metadata: dict[str, Any] | None = None


class RecordEvents(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    client_id: UUID
    events: Sequence[NewEvent]
    retention_days: int | None = None
    """The client's retention, read with its credential: older events are refused."""


class Recorded(msgspec.Struct, frozen=True, kw_only=True):
    """`stored`; `duplicate` (stored before, or earlier in the same batch); or `accepted` by
    a queue whose consumer stores it exactly once."""

    index: int
    id: UUID
    status: RecordedStatus


class Rejected(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    id: UUID | None
    error: TrackingError
    status: Literal["rejected"] = "rejected"


ItemResult = Recorded | Rejected


@dataclass(frozen=True, slots=True)
class RecordedEvents:
    results: list[ItemResult]

    def count(self, status: ItemStatus) -> int:
        return sum(1 for result in self.results if result.status == status)


class RecordEventsHandler:
    """Each item is `stored`, `duplicate` (its id was already stored for this client, or came
    earlier in the same batch) or `rejected` with the broken rule (`user_suppressed` when its
    user was erased with suppression). Valid items are stored even
    when others are rejected, in one transaction: the answer comes after the commit.

    When the writer hands events to a queue instead (Kafka ingest), valid items are `accepted`:
    durable in the queue, and stored exactly once by its consumer.

    Live ingest takes events at most `max_age` old; the import of history (`max_age` None)
    takes any time from the Unix epoch on; neither takes an event older than the client's
    retention (`occurred_at_past_retention`): the next retention run would remove it. After
    the commit, the cached stats that late events change are dropped."""

    def __init__(
        self,
        writer: EventWriter,
        clock: Clock,
        ids: IdGenerator,
        max_age: timedelta | None,
        stats: AnswerCache,
    ) -> None:
        self._writer = writer
        self._clock = clock
        self._ids = ids
        self._max_age = max_age
        self._stats = stats

    async def __call__(self, command: RecordEvents) -> RecordedEvents:
        received_at = self._clock.now()
        batch = CheckedBatch()
        for index, item in enumerate(command.events):
            try:
                check_metadata_depth(item.metadata)
                event = Event.record(
                    id=item.id or self._ids.new_id(),
                    client_id=command.client_id,
                    user_id=item.user_id,
                    action=item.action,
                    occurred_at=item.occurred_at,
                    received_at=received_at,
                    metadata=NO_METADATA
                    if item.metadata is None
                    else msgspec.json.encode(item.metadata).decode(),
                    max_age=self._max_age,
                )
                check_retained(event.occurred_at, command.retention_days, received_at)
            except TrackingError as error:
                batch.reject(index, item.id, error)
            else:
                batch.accept(index, event)
        results = await batch.written(self._writer)
        await self._stats.forget_late(batch.stored(), self._clock.now())
        return RecordedEvents(results=results)


@dataclass
class CheckedBatch:
    """Items checked one by one: each rejected with its error, or accepted once per key."""

    results: list[ItemResult] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    """The accepted events, each once; `_positions[i]` is where `events[i]`'s result is."""
    _positions: list[int] = field(default_factory=list)
    _seen: set[tuple[int, int]] = field(default_factory=set)

    def reject(self, index: int, id_: UUID | None, error: TrackingError) -> None:
        self.results.append(Rejected(index=index, id=id_, error=error))

    def accept(self, index: int, event: Event) -> None:
        # The ids' integers: hashed in C, where a UUID's own hash is a Python call.
        key = (event.client_id.int, event.id.int)
        if key in self._seen:
            self.results.append(Recorded(index=index, id=event.id, status="duplicate"))
            return
        self._seen.add(key)
        self._positions.append(len(self.results))
        self.events.append(event)
        self.results.append(Recorded(index=index, id=event.id, status="stored"))

    async def written(self, writer: EventWriter) -> list[ItemResult]:
        """Writes the accepted events, then says of each what became of it: stored, a
        duplicate of one stored before, or accepted by a queue."""
        if not self.events:
            return self.results
        match await writer.write(self.events):
            case Queued():
                for position in self._positions:
                    self._settle(position, "accepted")
            case Stored(duplicates=stored_before, suppressed=suppressed) if (
                stored_before or suppressed
            ):
                for position, event in zip(self._positions, self.events, strict=True):
                    key = (event.client_id, event.id)
                    if key in suppressed:
                        self._refuse(position, UserSuppressed())
                    elif key in stored_before:
                        self._settle(position, "duplicate")
        return self.results

    def stored(self) -> list[tuple[UUID, datetime]]:
        """Whose and when, of each event this write stored (once written): not duplicates,
        nor queued ones."""
        return [
            (event.client_id, event.occurred_at)
            for position, event in zip(self._positions, self.events, strict=True)
            if self.results[position].status == "stored"
        ]

    def _settle(self, position: int, status: RecordedStatus) -> None:
        result = self.results[position]
        assert isinstance(result, Recorded)  # noqa: S101 - positions point at recorded ones
        self.results[position] = Recorded(index=result.index, id=result.id, status=status)

    def _refuse(self, position: int, error: TrackingError) -> None:
        result = self.results[position]
        self.results[position] = Rejected(index=result.index, id=result.id, error=error)
