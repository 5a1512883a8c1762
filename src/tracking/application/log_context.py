"""What the log lines being written are about: the request or the Kafka batch in hand. Every
line logged while it is handled carries these fields, whichever module logs it (the logging
set-up reads them), so a request's lines can be found by its request id, and a batch's by its
offsets, without each call passing them along.

Context variables, so concurrent requests and batches never see each other's fields: each
asyncio task starts with a copy of its creator's."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

_NONE: Mapping[str, object] = MappingProxyType({})
_FIELDS: ContextVar[Mapping[str, object]] = ContextVar("tracking_log_fields", default=_NONE)


def log_fields() -> Mapping[str, object]:
    """The fields of what is being handled now (none outside a request or a batch)."""
    return _FIELDS.get()


@contextmanager
def logging_about(**fields: object) -> Iterator[None]:
    """Within this block (and the tasks it starts), lines carry `fields` too."""
    token = _FIELDS.set({**_FIELDS.get(), **fields})
    try:
        yield
    finally:
        _FIELDS.reset(token)


def log_task_about(**fields: object) -> None:
    """For the rest of this task, lines carry `fields` (instead of any they carried): the
    ASGI server runs each request in a task of its own, and a request's last lines (its error
    answer, the access log) are written after the code that knew its fields has returned."""
    _FIELDS.set(fields)


def add_log_fields(**fields: object) -> None:
    """More fields for the rest of what is being handled (the caller, once authenticated)."""
    _FIELDS.set({**_FIELDS.get(), **fields})
