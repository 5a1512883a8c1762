"""The headers every answer carries, whichever way it took: its request id and, when a limit
governed the request, where the client stands."""

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from tracking.entrypoints.http.limits import remembered_headers
from tracking.entrypoints.http.request_id import request_id_of

Headers = list[tuple[bytes, bytes]]


def answer_headers(scope: Scope) -> Headers:
    """Appended as raw pairs: our names are never set by anything else."""
    return [(b"x-request-id", request_id_of(scope).encode()), *remembered_headers(scope)]


class AnswerHeaders:
    """A pure ASGI app around `app`: it sees every answer, a 404 for an unknown path and the
    problem of an error included."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *answer_headers(scope)]
            await send(message)

        await self._app(scope, receive, stamped)
