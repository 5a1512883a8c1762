"""The request log's ports over each storage, built through the composition root, and rows
to write to them."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

from tracking.application.ports import RequestLogStore, UsageReadModel
from tracking.application.usage import LoggedRequest
from tracking.bootstrap import Container, resolved

DAY = date(2025, 3, 29)
"""A Saturday; Europe/Paris springs forward in the night of the 30th."""


def at(day: date, hours: float = 0) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hours)


@dataclass(frozen=True)
class Log:
    store: RequestLogStore
    usage: UsageReadModel


async def log_of(container: Container) -> Log:
    return Log(
        store=await resolved(container.request_log_store()),
        usage=await resolved(container.usage_reads()),
    )


def row(
    client_id: UUID,
    requested_at: datetime,
    *,
    status: int = 200,
    duration_ms: float = 1.0,
    method: str = "GET",
    route: str = "/api/events",
) -> LoggedRequest:
    return LoggedRequest(
        client_id=client_id,
        requested_at=requested_at,
        id=uuid4(),
        method=method,
        route=route,
        status=status,
        duration_ms=duration_ms,
        request_id=uuid4().hex,
    )


def days_of(rows: list[LoggedRequest]) -> set[date]:
    return {r.requested_at.astimezone(UTC).date() for r in rows}


async def write(log: Log, rows: list[LoggedRequest]) -> None:
    await log.store.prepare(days_of(rows))
    await log.store.add_all(rows)
