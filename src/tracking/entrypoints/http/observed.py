"""Every HTTP request counted and timed, by route template (`/api/clients/{client_id}`, never
the raw path: a scan of random paths must not make a series each), method and status.

It wraps the whole app, outside Litestar's router, since route middleware never sees a path
that matched no route (404) or no method (405); those share one label, `unmatched`. A request
is counted before its last body chunk goes out, so a client that has its answer finds it
counted by a scrape that follows."""

import time
from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry()
"""The API's own metrics, apart from the adapters' (which the consumer serves too)."""

REQUESTS = Counter(
    "tracking_http_requests",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
    registry=REGISTRY,
)
DURATION = Histogram(
    "tracking_http_request_duration_seconds",
    "Time from a request's arrival to its last response chunk, by route template",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Any other method (a client may send any word) is counted as `other`."""

_Observers = tuple[Counter, Histogram]


class ObservedRequests:
    """A pure ASGI app around `app`."""

    def __init__(
        self, app: ASGIApp, record: Callable[[HTTPScope, int, float], None] | None = None
    ) -> None:
        """`record`: told of every answered request too (the request log)."""
        self._app = app
        self._record = record
        # Bound once per label set: looking a labelled child up costs more than counting.
        # Bounded: routes are the app's, methods the few above, statuses three digits.
        self._observers: dict[tuple[str, str, int], _Observers] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        http = scope
        started = time.perf_counter()
        status = 500  # what the server answers for an app that fails before it answers
        observed = False

        async def observed_send(message: Message) -> None:
            nonlocal status, observed
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                observed = True
                self.observe(http, status, time.perf_counter() - started)
            await send(message)

        try:
            await self._app(scope, receive, observed_send)
        finally:
            if not observed:
                self.observe(http, status, time.perf_counter() - started)

    def observe(self, scope: HTTPScope, status: int, seconds: float) -> None:
        """Also called by a way in that answers beside `app` (single_event.py)."""
        # Litestar's router puts the matched route's template in the scope.
        route = scope.get("path_template") or UNMATCHED
        method = scope["method"]
        key = (route, method if method in _METHODS else "other", status)
        observers = self._observers.get(key)
        if observers is None:
            observers = (REQUESTS.labels(*key[:2], str(status)), DURATION.labels(route))
            self._observers[key] = observers
        observers[0].inc()
        observers[1].observe(seconds)
        if self._record is not None:
            self._record(scope, status, seconds)
