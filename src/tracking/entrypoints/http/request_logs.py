"""Every line logged while a request is handled carries its request id, method and route
(the template, `/api/clients/{client_id}`, never the path with its ids); the caller's
client id is added once authentication knows it (`auth.py`)."""

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from tracking.application.log_context import log_task_about
from tracking.entrypoints.http.request_id import request_id_of


class RequestLogContext(ASGIMiddleware):
    """The outermost of our middleware. The fields stay set after it returns, for the rest of
    the request's task: an error raised by authentication is answered (and the access line
    written) outside it."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        log_task_about(
            request_id=request_id_of(scope),
            method=scope.get("method", ""),
            route=scope.get("path_template", ""),
        )
        await next_app(scope, receive, send)
