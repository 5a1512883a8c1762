"""Every response carries X-Request-ID: the caller's, when it is sane, otherwise a new one."""

import re
import uuid

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_STATE_KEY = "tracking.request_id"


def request_id_of(scope: Scope) -> str:
    """Decided once per request, so the header and a problem's body always agree."""
    state = scope["state"]
    request_id = state.get(_STATE_KEY)
    if request_id is None:
        given = next((v for k, v in scope.get("headers", ()) if k == b"x-request-id"), b"")
        text = given.decode("latin-1")
        request_id = text if _SANE.fullmatch(text) else uuid.uuid4().hex
        state[_STATE_KEY] = request_id
    return str(request_id)


async def add_request_id(message: Message, scope: Scope) -> None:
    """A `before_send` hook: it sees every answer, including a 404 for an unknown path."""
    if message["type"] == "http.response.start":
        MutableScopeHeaders.from_message(message)[HEADER] = request_id_of(scope)
