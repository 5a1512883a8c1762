"""A batch decoded item by item: a malformed item is rejected with its index, the rest go on."""

import msgspec

from tracking.application.commands.record_events import (
    ItemResult,
    NewEvent,
    RecordedEvents,
    Rejected,
)
from tracking.domain.errors import InvalidInput, TrackingError
from tracking.entrypoints.http.body import field_error, not_utf8
from tracking.entrypoints.http.schemas import EventIn, ItemError, ItemOut


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
        self._rejected: list[ItemOut] = []
        for index, raw in enumerate(items):
            try:
                item = msgspec.json.decode(raw, type=EventIn)
            except msgspec.ValidationError as error:
                problem = field_error(error, root="event")
                rejection = InvalidInput("invalid_event", problem.message, errors=[problem])
                self._reject(index, rejection)
                continue
            except UnicodeDecodeError as error:
                self._reject(index, not_utf8(error, "the event"))
                continue
            self.events.append(new_event(item))
            self._positions.append(index)

    def _reject(self, index: int, error: InvalidInput) -> None:
        self._rejected.append(
            ItemOut(index=index, id=None, status="rejected", error=item_error(error))
        )

    def results(self, recorded: RecordedEvents) -> list[ItemOut]:
        """Every item of the request, in its order, with its index in the request."""
        results = [self._out(result) for result in recorded.results]
        results.extend(self._rejected)
        results.sort(key=lambda result: result.index)
        return results

    def _out(self, result: ItemResult) -> ItemOut:
        index = self._positions[result.index]
        if isinstance(result, Rejected):
            return ItemOut(
                index=index, id=result.id, status="rejected", error=item_error(result.error)
            )
        return ItemOut(index=index, id=result.id, status=result.status)


def item_error(error: TrackingError) -> ItemError:
    """A rejected item's error, as the batch answer shows it: its code, the field at fault and
    what is wrong with it."""
    if error.errors:
        return ItemError(
            code=error.code, field=error.errors[0].field, message=error.errors[0].message
        )
    return ItemError(code=error.code, field="event", message=error.detail)
