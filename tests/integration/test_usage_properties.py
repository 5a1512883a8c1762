"""Usage figures over random request logs, on every storage, equal a straightforward
computation here: each period's requests, errors, nearest-rank percentiles and busiest
routes, and the busiest clients."""

import itertools
import math
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.request_log_helpers import DAY, Log, at, log_of, row, write
from tracking.application.usage import LoggedRequest
from tracking.bootstrap import Container

CLIENTS = [UUID(int=n) for n in (1, 2, 3)]
"""Ids no registered client has: their order is known (ties rank by id)."""
ROUTES = [("GET", "/api/events"), ("POST", "/api/event"), ("GET", "/api/Usage"), ("PATCH", "/a")]
START = at(DAY)
BOUNDS = [START + timedelta(hours=h) for h in (0, 23, 47, 48, 72)]
"""Periods of 23, 24, 1 and 24 hours, as a zone's days may be."""

rows = st.lists(
    st.builds(
        lambda client, seconds, route, status, duration: row(
            client,
            START + timedelta(seconds=seconds),
            method=route[0],
            route=route[1],
            status=status,
            duration_ms=duration,
        ),
        st.sampled_from(CLIENTS),
        # Before the first bound to after the last, bounds themselves included.
        st.one_of(
            st.integers(-3600, 76 * 3600),
            st.sampled_from([(b - START) // timedelta(seconds=1) for b in BOUNDS]),
        ),
        st.sampled_from(ROUTES),
        st.sampled_from([200, 201, 204, 399, 400, 404, 429, 499, 500, 503, 599]),
        st.one_of(
            st.sampled_from([0.0, 1.0, 2.5]),
            st.floats(min_value=0, max_value=60_000, allow_nan=False),
        ),
    ),
    max_size=60,
)


def percentile(durations: list[float], fraction: float) -> float | None:
    if not durations:
        return None
    ordered = sorted(durations)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def expected_periods(written: list[LoggedRequest], client: UUID | None) -> list[dict[str, Any]]:
    answers = []
    for start, end in itertools.pairwise(BOUNDS):
        mine = [
            r for r in written if start <= r.requested_at < end and client in (None, r.client_id)
        ]
        routes = Counter((r.method, r.route) for r in mine)
        answers.append(
            {
                "requests": len(mine),
                "client_errors": sum(400 <= r.status < 500 for r in mine),
                "server_errors": sum(500 <= r.status < 600 for r in mine),
                "p50_ms": percentile([r.duration_ms for r in mine], 0.5),
                "p95_ms": percentile([r.duration_ms for r in mine], 0.95),
                "top_routes": sorted(routes.items(), key=lambda kv: (-kv[1], kv[0]))[:3],
            }
        )
    return answers


def expected_top(
    written: list[LoggedRequest], since: datetime, till: datetime
) -> list[tuple[UUID, int]]:
    counts = Counter(r.client_id for r in written if since <= r.requested_at < till)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:2]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(written=rows)
async def test_the_figures_are_the_straightforward_ones(
    container: Container, written: list[LoggedRequest]
) -> None:
    log: Log = await log_of(container)
    try:
        await write(log, written)
        for client in [*CLIENTS, None]:
            periods = await log.usage.periods(client, BOUNDS, top_routes=3)
            assert [
                {
                    "requests": p.requests,
                    "client_errors": p.client_errors,
                    "server_errors": p.server_errors,
                    "p50_ms": p.p50_ms,
                    "p95_ms": p.p95_ms,
                    "top_routes": [((t.method, t.route), t.requests) for t in p.top_routes],
                }
                for p in periods
            ] == expected_periods(written, client)
        for since, till in [(BOUNDS[0], BOUNDS[-1]), (BOUNDS[1], BOUNDS[2])]:
            top = await log.usage.top_clients(since, till, limit=2)
            assert [(c.client_id, c.requests) for c in top] == expected_top(written, since, till)
    finally:
        # Each example starts from an empty log.
        await log.store.drop_before(DAY + timedelta(days=3650))
