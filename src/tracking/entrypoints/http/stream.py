"""The live stream over Server-Sent Events, and the short-lived token a browser opens it with
(an `EventSource` cannot send headers)."""

import weakref
from collections.abc import AsyncIterator
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, HeaderParameter, QueryParameter
from litestar.response import Stream

from tracking.application.commands.issue_access_token import IssueAccessToken
from tracking.application.handlers import Handlers
from tracking.application.queries.stream_events import (
    Closing,
    Delivered,
    Lagged,
    Quiet,
    Reset,
    StreamEvents,
    StreamEventsHandler,
    StreamMessage,
)
from tracking.application.stream import Positioned, Published
from tracking.domain.errors import InvalidInput
from tracking.entrypoints.http.auth import AuthenticatedRequest
from tracking.entrypoints.http.listing import ClientId, UserId
from tracking.entrypoints.http.openapi import documented
from tracking.entrypoints.http.schemas import TokenOut

MAX_DIGITS = 18
"""A position fits a bigint."""
RETRY_MS = 1000
"""How soon a browser reconnects when a stream ends (`retry:`)."""
_ENCODE = msgspec.json.Encoder().encode

LastEventId = Annotated[
    str | None,
    HeaderParameter(
        name="Last-Event-ID",
        description="The `id:` of the last event received: the stream resumes after it.",
    ),
]
LastEventIdQuery = Annotated[
    str | None,
    QueryParameter(
        name="last_event_id",
        description="As the Last-Event-ID header, for a first connection that resumes.",
    ),
]


class StreamController(Controller):
    path = "/api"
    tags = ("stream",)

    @get(
        "/events/stream",
        summary="Stream events live (Server-Sent Events)",
        description=StreamEventsHandler.__doc__,
        responses=documented(400, 401, 403, 429),
        media_type="text/event-stream",
    )
    async def stream(
        self,
        *,
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
        user_id: UserId = None,
        action: FromQuery[str | None] = None,
        client_id: ClientId = None,
        last_event_id: LastEventId = None,
        resume_from: LastEventIdQuery = None,
    ) -> Stream:
        query = StreamEvents(
            actor=request.user,
            client_id=client_id,
            user_id=user_id,
            action=action,
            after=_position(last_event_id if last_event_id is not None else resume_from),
        )
        messages = handlers.stream_events.open(query)
        return Stream(
            _encoded(messages),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @post(
        "/auth/stream-token",
        status_code=200,
        summary="A token that opens the live stream, for a minute",
        description="Good only for `GET /api/events/stream?token=...`, and only for a minute:"
        " what a browser's EventSource (which cannot send headers) opens the stream with.",
        responses=documented(401),
    )
    async def stream_token(
        self, request: AuthenticatedRequest, handlers: NamedDependency[Handlers]
    ) -> TokenOut:
        issued = await handlers.issue_access_token(
            IssueAccessToken(actor=request.user, purpose="stream")
        )
        return TokenOut(
            access_token=issued.access_token,
            token_type="Bearer",  # noqa: S106 - the scheme's name
            expires_in=issued.expires_in,
        )


def _position(text: str | None) -> int | None:
    if text is None or text == "":
        return None
    if not text.isdigit() or len(text) > MAX_DIGITS:
        raise InvalidInput(
            "invalid_last_event_id", f"Last-Event-ID is an event's id from this stream: {text!r}"
        )
    return int(text)


_FRAMES: "weakref.WeakKeyDictionary[Positioned, bytes]" = weakref.WeakKeyDictionary()
"""Each published event's SSE message, encoded once for all the subscribers that get it."""


_CHUNKS: "weakref.WeakKeyDictionary[Published, bytes]" = weakref.WeakKeyDictionary()
"""Each published batch's messages, joined once for all the subscribers it goes to whole."""


def _chunk(published: Published) -> bytes:
    chunk = _CHUNKS.get(published)
    if chunk is None:
        chunk = b"".join(_frame(e) for e in published)
        _CHUNKS[published] = chunk
    return chunk


def _frame(event: Positioned) -> bytes:
    frame = _FRAMES.get(event)
    if frame is None:
        frame = b"id: %d\ndata: %s\n\n" % (event.position, _ENCODE(event.event))
        _FRAMES[event] = frame
    return frame


async def _encoded(messages: AsyncIterator[StreamMessage]) -> AsyncIterator[bytes]:
    """The wire form: what one message brings goes out as one chunk (a replayed page, or a
    batch as the feed joined it), each event one SSE message with its position as id."""
    yield f"retry: {RETRY_MS}\n: stream open\n\n".encode()
    async for message in messages:
        match message:
            case Delivered(events=Published() as published):
                yield _chunk(published)
            case Delivered(events=events):
                yield b"".join(_frame(e) for e in events)
            case Reset(resumed_after=resumed_after):
                data = _ENCODE({"resumed_after": resumed_after})
                yield b"event: reset\nid: %d\ndata: %s\n\n" % (resumed_after, data)
            case Lagged(position=position):
                yield b"event: lagged\ndata: %s\n\n" % _ENCODE({"last_event_id": position})
                return
            case Closing():
                yield b"retry: %d\n: the server is stopping: reconnect\n\n" % RETRY_MS
                return
            case Quiet():
                yield b": keep-alive\n\n"
