"""Every authenticated `/api` request into the request log, as it is answered: called by
`ObservedRequests`, which has its status and duration already. It costs an append (a couple
of microseconds; `bench/request_log.py` measures it): writing is the log's own task."""

from litestar.types import HTTPScope

from tracking.application.ports import RequestLog
from tracking.application.principal import Principal
from tracking.entrypoints.http.request_id import request_id_of


class RequestRecorder:
    """`log` is set while the app runs (its lifespan opens it); None records nothing."""

    def __init__(self) -> None:
        self.log: RequestLog | None = None

    def __call__(self, scope: HTTPScope, status: int, seconds: float) -> None:
        log = self.log
        if log is None:
            return
        # Set by the authentication of /api routes only, and only once it succeeded: a
        # request refused for its credential is the auth-failure limit's, not a client's.
        principal = scope.get("user")
        route = scope.get("path_template")
        if not isinstance(principal, Principal) or route is None:
            return
        method = scope["method"]
        log.record(
            principal.client_id, method, route, status, seconds, request_id=request_id_of(scope)
        )
