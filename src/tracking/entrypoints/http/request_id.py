"""Every response carries X-Request-ID: the caller's, when it is sane, otherwise a new one."""

import itertools
import os
import re
import secrets

from litestar.types import Scope

HEADER = "X-Request-ID"
_SANE = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
_STATE_KEY = "tracking.request_id"


class _NewIds:
    """32 hex digits, as a UUID's: a random prefix drawn once per process, then a count. As
    unique as random ids across processes and restarts (64 random bits each), without a call
    for randomness per request."""

    def __init__(self) -> None:
        self.restart()
        os.register_at_fork(after_in_child=self.restart)

    def restart(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._count = itertools.count()

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._count):016x}"


_new_id = _NewIds()


def request_id_of(scope: Scope) -> str:
    """Decided once per request, so the header and a problem's body always agree."""
    state = scope["state"]
    request_id: str | None = state.get(_STATE_KEY)
    if request_id is None:
        given = next((v for k, v in scope.get("headers", ()) if k == b"x-request-id"), None)
        if given is not None and _SANE.fullmatch(given):
            request_id = given.decode("ascii")
        else:
            request_id = _new_id()
        state[_STATE_KEY] = request_id
    return request_id
