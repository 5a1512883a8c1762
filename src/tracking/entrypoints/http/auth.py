"""Authentication for every `/api` route: a Bearer JWT or an X-API-Key, resolved to a principal."""

from typing import Any
from urllib.parse import parse_qs

from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from tracking.application.commands.admit_request import AdmitRequest
from tracking.application.errors import Unauthenticated
from tracking.application.handlers import Handlers
from tracking.application.log_context import add_log_fields
from tracking.application.principal import Principal
from tracking.application.queries.authenticate import Authenticate
from tracking.entrypoints.http.limits import remember, source_address

STREAM_ROUTE = "/api/events/stream"


class ApiAuthentication(ASGIMiddleware):
    """Everything under /api needs a credential, so a new route cannot be left open by
    forgetting to ask for the principal. It runs before the body is read."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path = scope["path"]
        if path == "/api" or path.startswith("/api/"):
            handlers: Handlers = scope["litestar_app"].state.handlers
            principal = await authenticate(scope, handlers)
            # One decision, before the body is read. A single event is counted against the
            # events quota here too, so that route costs one round trip to Redis, not two.
            single = scope.get("method") == "POST" and path.rstrip("/") == "/api/event"
            await admit(scope, handlers, principal, events=1 if single else 0)
        await next_app(scope, receive, send)


async def authenticate(scope: Scope, handlers: Handlers) -> Principal:
    """The caller's principal, put in the scope (`request.user`) and the log's fields."""
    api_key, authorization = _credentials(scope)
    query = Authenticate(
        api_key=api_key,
        bearer_token=_bearer(authorization),
        stream_token=_stream_token(scope) if api_key is None and authorization is None else None,
        source=source_address(scope, scope["litestar_app"].state.trusted_proxies),
    )
    principal = await handlers.authenticate(query)
    scope["user"] = principal
    add_log_fields(client=principal.client_id)
    return principal


async def admit(scope: Scope, handlers: Handlers, principal: Principal, *, events: int) -> None:
    """The request counted against the caller's limits (RateLimited when over one), the
    decision kept for the answer's headers."""
    admission = await handlers.admit_request(AdmitRequest(actor=principal, events=events))
    if admission is not None:
        remember(scope, admission)


def _credentials(scope: Scope) -> tuple[str | None, str | None]:
    """The X-API-Key and Authorization headers, each at most once: with two of either, a proxy
    reading the last and we reading the first would disagree about who the caller is. Two
    may also arrive joined by a comma (as HTTP allows a proxy to join repeated fields), which
    no key or token of ours contains."""
    api_key = authorization = None
    for name, value in scope["headers"]:
        if name == b"x-api-key":
            if api_key is not None or b"," in value:
                raise _repeated("X-API-Key")
            api_key = value.decode("latin-1")
        elif name == b"authorization":
            if authorization is not None or b"," in value:
                raise _repeated("Authorization")
            authorization = value.decode("latin-1")
    return api_key, authorization


def _stream_token(scope: Scope) -> str | None:
    """The live stream's `?token=` (a browser's EventSource sends no headers); no other route
    reads one, and a token in a URL is good only there and for a minute."""
    if scope["path"] != STREAM_ROUTE:
        return None
    tokens = parse_qs(scope["query_string"].decode("latin-1")).get("token")
    if not tokens:
        return None
    if len(tokens) > 1:
        raise Unauthenticated("ambiguous_credentials", "send the token parameter once, not twice")
    return tokens[0]


def _repeated(header: str) -> Unauthenticated:
    return Unauthenticated("ambiguous_credentials", f"send the {header} header once, not twice")


def _bearer(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("invalid_authorization", "Authorization must be 'Bearer <token>'")
    return token.strip()


AuthenticatedRequest = Request[Principal, None, Any]
"""A request under /api: `request.user` is the caller's principal. (Taken from the request
rather than injected: Litestar resolves two dependencies of one route in a task group, and
that measured a tenth of the cost of a whole ingest request.)"""
