"""RecordEvents: store a client's events exactly once, item by item."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from tracking.application.ports import Clock, EventKey, EventWriter, IdGenerator
from tracking.domain.errors import RuleViolation
from tracking.domain.events import Event, check_metadata_depth, received_at_of

ItemStatus = Literal["stored", "duplicate", "rejected", "accepted"]

_EMPTY_OBJECT = "{}"


class NewEvent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: UUID | None = None
    user_id: str | int
    action: str
    occurred_at: datetime | None = None
    metadata: dict[str, Any] | None = None
    received_at: datetime | None = None
    """When a queue in front of us received it (Kafka ingest); None: now."""


class RecordEvents(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    client_id: UUID
    events: Sequence[NewEvent]


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    field: str
    message: str


class ItemResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    index: int
    id: UUID | None
    status: ItemStatus
    error: Rejection | None = None


class RecordedEvents(msgspec.Struct, frozen=True, kw_only=True):
    results: list[ItemResult]

    def count(self, status: ItemStatus) -> int:
        return sum(1 for result in self.results if result.status == status)


class RecordEventsHandler:
    """Each item is `stored`, `duplicate` (its id was already stored for this client, or came
    earlier in the same batch) or `rejected` with the broken rule. Valid items are stored even
    when others are rejected, in one transaction: the answer comes after the commit.

    When the writer hands events to a queue instead (Kafka ingest), valid items are `accepted`:
    durable in the queue, and stored exactly once by its consumer."""

    def __init__(self, writer: EventWriter, clock: Clock, ids: IdGenerator) -> None:
        self._writer = writer
        self._clock = clock
        self._ids = ids

    async def __call__(self, command: RecordEvents) -> RecordedEvents:
        (recorded,) = await self.record_all([command])
        return recorded

    async def record_all(self, commands: Sequence[RecordEvents]) -> list[RecordedEvents]:
        """Several clients' events in one write, so one transaction: a Kafka batch."""
        received_at = self._clock.now()
        checked = [self._check(command, received_at) for command in commands]
        accepted = [event for _, events in checked for event in events]
        if not accepted:
            return [RecordedEvents(results=results) for results, _ in checked]
        stored = await self._writer.write(accepted)
        return [
            RecordedEvents(results=[_settled(r, command.client_id, stored) for r in results])
            for command, (results, _) in zip(commands, checked, strict=True)
        ]

    def _check(
        self, command: RecordEvents, received_at: datetime
    ) -> tuple[list[ItemResult], list[Event]]:
        results: list[ItemResult] = []
        accepted: list[Event] = []
        seen: set[UUID] = set()
        for index, item in enumerate(command.events):
            try:
                given = item.received_at
                received = received_at if given is None else received_at_of(given)
                event = self._event(command.client_id, item, received)
            except RuleViolation as violation:
                error = Rejection(
                    code=violation.code, field=violation.field, message=violation.message
                )
                results.append(ItemResult(index=index, id=item.id, status="rejected", error=error))
                continue
            if event.id in seen:
                results.append(ItemResult(index=index, id=event.id, status="duplicate"))
                continue
            seen.add(event.id)
            accepted.append(event)
            results.append(ItemResult(index=index, id=event.id, status="stored"))
        return results, accepted

    def _event(self, client_id: UUID, item: NewEvent, received_at: datetime) -> Event:
        check_metadata_depth(item.metadata)
        metadata = (
            _EMPTY_OBJECT if item.metadata is None else msgspec.json.encode(item.metadata).decode()
        )
        return Event.record(
            id=item.id or self._ids.new_id(),
            client_id=client_id,
            user_id=item.user_id,
            action=item.action,
            occurred_at=item.occurred_at,
            received_at=received_at,
            metadata=metadata,
        )


def _settled(result: ItemResult, client_id: UUID, stored: set[EventKey] | None) -> ItemResult:
    if result.status != "stored":
        return result
    if stored is None:
        return ItemResult(index=result.index, id=result.id, status="accepted")
    if (client_id, result.id) not in stored:
        return ItemResult(index=result.index, id=result.id, status="duplicate")
    return result
