"""Helpers for the metrics routes. Their windows are due by the real clock, so the events
happen yesterday: any time in the past is accepted, and yesterday's 04:00-16:00 windows are
due whenever the test runs."""

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.http_helpers import Http, Tenant, event
from tracking.bootstrap import Container, resolved, shut_down

# Taken once, when the suite starts: a test running across midnight must not send its events
# for one "yesterday" and look for them on another.
_MIDNIGHT = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def yesterday(hours: float) -> datetime:
    return _MIDNIGHT - timedelta(days=1) + timedelta(hours=hours)


def stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def parsed(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def send(http: Http, tenant: Tenant, *items: tuple[float, str]) -> None:
    """Events of `(hour of yesterday, user_id)`."""
    body = {"events": [event(user_id=user, occurred_at=stamp(yesterday(at))) for at, user in items]}
    answer = await http.post("/api/events", headers=tenant.headers, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["stored"] == len(items), answer.text


async def calculate(http: Http, admin_headers: dict[str, str]) -> dict[str, Any]:
    answer = await http.post("/api/metrics", headers=admin_headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def by_start(windows: list[dict[str, Any]]) -> dict[datetime, dict[str, Any]]:
    return {parsed(w["start"]): w for w in windows}


@contextlib.asynccontextmanager
async def run_lock_held_elsewhere(container: Container) -> AsyncIterator[bool]:
    """The metrics run lock, held by another replica: over PostgreSQL one with its own
    engine on the same database (the app's engine lives in the test client's event loop);
    in memory, where only one process can exist, through the app's own store."""
    settings = container.settings()
    if settings.storage_kind == "memory":
        async with container.metrics_store().exclusive_run() as held:
            yield held
        return
    replica = Container(settings=settings)
    try:
        async with (await resolved(replica.metrics_store())).exclusive_run() as held:
            yield held
    finally:
        await shut_down(replica)
