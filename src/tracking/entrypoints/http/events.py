"""Event routes: record one, record a batch, list them back."""

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, JSONBody

from tracking.application.commands.admit_request import AdmitRequest
from tracking.application.commands.record_events import (
    RecordEvents,
    RecordEventsHandler,
    Rejected,
)
from tracking.application.handlers import Handlers
from tracking.application.principal import Principal
from tracking.application.queries.list_events import EventPage, ListEvents, ListEventsHandler
from tracking.application.views import Order
from tracking.entrypoints.http.auth import AuthenticatedRequest
from tracking.entrypoints.http.batch import DecodedBatch, new_event
from tracking.entrypoints.http.body import JsonBody
from tracking.entrypoints.http.limits import remember
from tracking.entrypoints.http.listing import (
    DEFAULT_LIMIT,
    ClientId,
    Cursor,
    From,
    Limit,
    Till,
    UserId,
    instant,
)
from tracking.entrypoints.http.openapi import documented
from tracking.entrypoints.http.schemas import (
    BatchRecorded,
    EventBatchIn,
    EventBatchSchema,
    EventIn,
    RecordedEvent,
    Status,
)

MAX_BATCH_EVENTS = 1000
MAX_BATCH_BYTES = 1024 * 1024
MAX_EVENT_BYTES = 64 * 1024
_CODES: dict[Status, int] = {"stored": 201, "duplicate": 200, "accepted": 202}


class EventBody(JsonBody[EventIn]):
    pass


class EventBatchBody(JsonBody[EventBatchIn]):
    documented = EventBatchSchema


class EventController(Controller):
    path = "/api"
    tags = ("events",)

    @post(
        "/event",
        dto=EventBody,
        return_dto=None,
        request_max_body_size=MAX_EVENT_BYTES,
        summary="Record one event",
        description="201 when stored; 200 with status `duplicate` when this id was already "
        "stored for the caller (a safe retry). With Kafka-backed ingest, 202 with status "
        "`accepted` once the broker has it: the consumer stores it exactly once.",
        responses={
            200: ResponseSpec(RecordedEvent, description="Already stored: a safe retry"),
            202: ResponseSpec(RecordedEvent, description="Queued (Kafka-backed ingest)"),
            **documented(400, 401, 413, 415, 503),
        },
    )
    async def record_one(
        self,
        data: JSONBody[EventIn],
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
    ) -> Response[RecordedEvent]:
        status, answer = await record_one(handlers, request.user, data)
        return Response(answer, status_code=status)

    @post(
        "/events",
        dto=EventBatchBody,
        return_dto=None,
        status_code=200,
        request_max_body_size=MAX_BATCH_BYTES,
        summary="Record a batch of events",
        description=f"1 to {MAX_BATCH_EVENTS} events, at most 1 MiB. Each item is answered by "
        "its index: `stored`, `duplicate` or `rejected` with the reason; valid items are stored "
        "even when others are rejected. With Kafka-backed ingest, valid items are `accepted` "
        "and the answer is 202.",
        responses={
            202: ResponseSpec(BatchRecorded, description="Queued (Kafka-backed ingest)"),
            **documented(400, 401, 413, 415, 503),
        },
    )
    async def record_batch(
        self,
        data: JSONBody[EventBatchIn],
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
    ) -> Response[BatchRecorded]:
        return await _recorded_batch(data, request, handlers, handlers.record_events)

    @post(
        "/import",
        dto=EventBatchBody,
        return_dto=None,
        status_code=200,
        request_max_body_size=MAX_BATCH_BYTES,
        summary="Import history",
        description="The batch shape and answer, for events of any time from 1970 on: history "
        "brought over from another system, older than live ingest takes "
        "(TRACKING_EVENT_MAX_AGE_DAYS). Imported events are stored directly, whatever the "
        "ingest mode, with the same deduplication; send each event's `id` so a retried import "
        "stores it once. The windows they fall in are recomputed by the next metrics run, "
        "after the newly due windows of every client.",
        responses=documented(400, 401, 413, 415, 503),
    )
    async def import_history(
        self,
        data: JSONBody[EventBatchIn],
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
    ) -> Response[BatchRecorded]:
        return await _recorded_batch(data, request, handlers, handlers.import_events)

    @get(
        "/events",
        summary="List events",
        description=ListEventsHandler.__doc__,
        responses=documented(400, 401, 403),
    )
    async def list_events(
        self,
        *,
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
        user_id: UserId = None,
        action: FromQuery[str | None] = None,
        occurred_from: From = None,
        occurred_till: Till = None,
        order: FromQuery[Order] = Order.NEWEST_FIRST,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        client_id: ClientId = None,
    ) -> EventPage:
        query = ListEvents(
            actor=request.user,
            client_id=client_id,
            user_id=user_id,
            action=action,
            occurred_from=instant(occurred_from, "from"),
            occurred_till=instant(occurred_till, "till"),
            order=order,
            limit=limit,
            cursor=cursor,
        )
        return await handlers.list_events(query)


async def record_one(
    handlers: Handlers, principal: Principal, data: EventIn
) -> tuple[int, RecordedEvent]:
    """The status and body that answer one event (this route's, and the router's bypass,
    `single_event.py`); a rejection is raised."""
    command = RecordEvents(
        client_id=principal.client_id,
        retention_days=principal.retention_days,
        events=[new_event(data)],
    )
    (result,) = (await handlers.record_events(command)).results
    if isinstance(result, Rejected):
        raise result.error
    return _CODES[result.status], RecordedEvent(id=result.id, status=result.status)


async def _recorded_batch(
    data: EventBatchIn,
    request: AuthenticatedRequest,
    handlers: Handlers,
    record: RecordEventsHandler,
) -> Response[BatchRecorded]:
    if len(data.events) > MAX_BATCH_EVENTS:
        raise HTTPException(
            status_code=413,
            detail=f"a batch holds at most {MAX_BATCH_EVENTS} events, not {len(data.events)}",
        )
    # Its request was counted on arrival; now its events, all or none, before any is stored.
    admit = AdmitRequest(actor=request.user, requests=0, events=len(data.events))
    admitted = await handlers.admit_request(admit)
    if admitted is not None:
        remember(request.scope, admitted)
    batch = DecodedBatch(data.events)
    recorded = await record(
        RecordEvents(
            client_id=request.user.client_id,
            retention_days=request.user.retention_days,
            events=batch.events,
        )
    )
    results = batch.results(recorded)
    counts = dict.fromkeys(("stored", "duplicate", "rejected", "accepted"), 0)
    for result in results:
        counts[result.status] += 1
    answer = BatchRecorded(
        stored=counts["stored"],
        duplicates=counts["duplicate"],
        rejected=counts["rejected"],
        accepted=counts["accepted"],
        results=results,
    )
    return Response(answer, status_code=202 if counts["accepted"] else 200)
