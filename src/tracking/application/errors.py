"""The categories a use case fails with beyond a broken rule. Every error is a `TrackingError`
(`domain/errors.py`): one shape, read alike by the HTTP map and the consumer's policy."""

from tracking.domain.errors import Category, TrackingError
from tracking.domain.limits import Admission


class NotFound(TrackingError):
    category = Category.NOT_FOUND


class Conflict(TrackingError):
    category = Category.CONFLICT


class Forbidden(TrackingError):
    category = Category.FORBIDDEN


class Unauthenticated(TrackingError):
    category = Category.UNAUTHENTICATED


class InternalError(TrackingError):
    """Something failed that no rule or outage explains: a bug. Said once, with its cause."""

    category = Category.INTERNAL

    @classmethod
    def of(cls, error: BaseException) -> "InternalError":
        return cls("internal_error", f"{type(error).__name__}: {error}"[:1000])


class Unavailable(TrackingError):
    """A dependency is down; the caller may retry after `retry_after` seconds."""

    category = Category.UNAVAILABLE

    def __init__(self, code: str, detail: str, *, retry_after: int = 1) -> None:
        super().__init__(code, detail)
        self.retry_after = retry_after


class RateLimited(TrackingError):
    """A limit refused the request; `admission` says which and when its window ends."""

    category = Category.RATE_LIMITED

    def __init__(self, code: str, detail: str, *, admission: Admission) -> None:
        super().__init__(code, detail)
        self.admission = admission
        refused = admission.refused_by
        self.retry_after = refused.reset_seconds if refused is not None else 1


class TooManyStreams(TrackingError):
    """A client already has as many live streams open as it may."""

    category = Category.RATE_LIMITED
