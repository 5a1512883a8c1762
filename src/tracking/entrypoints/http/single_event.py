"""`POST /api/event` answered beside the router, not through it.

It is the route every client calls most, and Litestar's general machinery (routing, middleware
wrappers, the signature model, the DTO, the response object) cost more CPU than storing the
event does: `bench/spy.py` measured it. A request in the plain form (one JSON body of a
stated length, within the route's limit, `Content-Type: application/json`) is answered here by
the same steps and code as the route's: authentication and the rate-limit decision before the
body is read (auth.py), the body decoded as the route decodes it (body.py), recorded by the
route's own function (events.py), and any error answered by the one map of problems.py. It
adds the headers every answer carries (answer_headers.py) and observes the request
(`ObservedRequests.observe`: metrics, request log) as the router's stack does. Any other form
(chunked, another media type, a charset, a header sent twice, an empty or too large body)
goes to the router untouched, which answers it as it answers every route. The two ways are
tested to give the same answers (tests/integration/test_http_single_event.py)."""

import time
from collections.abc import Callable

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPReceiveMessage, HTTPScope, Receive, Scope, Send

from tracking.application.errors import RateLimited
from tracking.application.handlers import Handlers
from tracking.application.log_context import log_task_about
from tracking.domain.errors import Category, TrackingError
from tracking.entrypoints.http.answer_headers import answer_headers
from tracking.entrypoints.http.auth import admit, authenticate
from tracking.entrypoints.http.body import decode_json
from tracking.entrypoints.http.events import MAX_EVENT_BYTES, record_one
from tracking.entrypoints.http.limits import remember
from tracking.entrypoints.http.problems import MEDIA_TYPE, problem_of, unexpected
from tracking.entrypoints.http.request_id import request_id_of
from tracking.entrypoints.http.schemas import EventIn

ROUTE = "/api/event"
_ENCODE = msgspec.json.Encoder().encode
_JSON = (b"content-type", b"application/json")
_PROBLEM = (b"content-type", MEDIA_TYPE.encode())
_OWN_HEADERS = frozenset((b"content-type", b"content-length", b"transfer-encoding"))


Observe = Callable[[HTTPScope, int, float], None]
Answer = tuple[int, list[tuple[bytes, bytes]], bytes | None]
_UNANSWERED: Answer = (500, [], None)


class SingleEventRoute:
    """A pure ASGI app in front of the router's stack (`app`). What that stack does to each
    answer it does itself: the request counted and logged (`observe`, `ObservedRequests`'s),
    its own headers added (answer_headers.py)."""

    def __init__(self, app: ASGIApp, observe: Observe) -> None:
        self._app = app
        self._observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == ScopeType.HTTP
            and scope["path"] == ROUTE
            and scope.get("method") == "POST"
            and _plain_length(scope) is not None
        ):
            started = time.perf_counter()
            scope["path_template"] = ROUTE  # as the router sets it: metrics and the request log
            status, headers, body = _UNANSWERED
            try:
                status, headers, body = await self._answer(scope, receive)
            finally:
                # Counted before the answer goes out, as ObservedRequests counts. A client that
                # went away before it sent the whole body gets none, and a request cancelled
                # (the server stopping) none either: each counts as a 500, as a request the
                # router left unanswered does.
                self._observe(scope, status, time.perf_counter() - started)
            if body is not None:
                headers = [*headers, *answer_headers(scope), (b"content-length", b"%d" % len(body))]
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        await self._app(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive) -> Answer:
        log_task_about(request_id=request_id_of(scope), method="POST", route=ROUTE)
        handlers: Handlers = scope["litestar_app"].state.handlers
        try:
            principal = await authenticate(scope, handlers)
            await admit(scope, handlers, principal, events=1)
            body = await _body(receive)
            if body is None:
                return _UNANSWERED
            status, answer = await record_one(handlers, principal, decode_json(body, EventIn))
        except TrackingError as error:
            if error.category is Category.INTERNAL:
                return 500, [_PROBLEM], _ENCODE(unexpected(scope, error))
            if isinstance(error, RateLimited):
                remember(scope, error.admission)  # its headers, Retry-After among them
            code, problem, extra = problem_of(error, request_id_of(scope))
            headers = [_PROBLEM, *((k.lower().encode(), v.encode()) for k, v in extra.items())]
            return code, headers, _ENCODE(problem)
        except Exception as error:  # noqa: BLE001 - answered as the router answers a bug
            return 500, [_PROBLEM], _ENCODE(unexpected(scope, error))
        return status, [_JSON], _ENCODE(answer)


def _plain_length(scope: Scope) -> int | None:
    """The body's length, when the request is in the plain form this bypass takes."""
    length = None
    seen: set[bytes] = set()
    for name, value in scope["headers"]:
        if name not in _OWN_HEADERS:
            continue
        if name in seen:
            return None
        seen.add(name)
        if name == b"content-type":
            if value.lower() != b"application/json":
                return None
        elif name == b"content-length":
            length = int(value) if value.isdigit() else None
        else:
            return None  # a transfer-encoding
    if b"content-type" not in seen or length is None or not 0 < length <= MAX_EVENT_BYTES:
        return None
    return length


async def _body(receive: Receive) -> bytes | None:
    """The whole body, or None when the client disconnected first."""
    chunks = []
    while True:
        message: HTTPReceiveMessage = await receive()  # type: ignore[assignment]
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
