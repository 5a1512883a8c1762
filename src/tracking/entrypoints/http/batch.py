"""A batch decoded item by item: a malformed item is rejected with its index, the rest go on."""

import msgspec

from tracking.application.commands.record_events import (
    ItemResult,
    NewEvent,
    RecordedEvents,
    Rejection,
)
from tracking.entrypoints.http.body import field_error
from tracking.entrypoints.http.schemas import EventIn


def new_event(item: EventIn) -> NewEvent:
    return NewEvent(
        id=item.id,
        user_id=item.user_id,
        action=item.action,
        occurred_at=item.occurred_at,
        metadata=item.metadata,
    )


class DecodedBatch:
    def __init__(self, items: list[msgspec.Raw]) -> None:
        self.events: list[NewEvent] = []
        self._positions: list[int] = []
        self._rejected: list[ItemResult] = []
        for index, raw in enumerate(items):
            try:
                item = msgspec.json.decode(raw, type=EventIn)
            except msgspec.ValidationError as error:
                problem = field_error(error, root="event")
                rejection = Rejection(
                    code="invalid_event", field=problem.field, message=problem.message
                )
                self._rejected.append(
                    ItemResult(index=index, id=None, status="rejected", error=rejection)
                )
                continue
            self.events.append(new_event(item))
            self._positions.append(index)

    def results(self, recorded: RecordedEvents) -> list[ItemResult]:
        """Every item of the request, in its order, with its index in the request."""
        results = [
            msgspec.structs.replace(result, index=self._positions[result.index])
            for result in recorded.results
        ]
        results.extend(self._rejected)
        results.sort(key=lambda result: result.index)
        return results
