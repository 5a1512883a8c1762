"""API usage: what the request log's figures mean, defined once. The in-memory read model
computes them with these functions; PostgreSQL's statement is tested against them."""

import math
from collections.abc import Sequence

P50 = 0.5
P95 = 0.95
TOP_ROUTES = 5
"""A day's busiest routes, by requests (then method and route, in code-point order)."""

_CLIENT_ERRORS = range(400, 500)
_SERVER_ERRORS = range(500, 600)


def nearest_rank(ordered: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile of values sorted ascending: the smallest value with at
    least `fraction` of them at or below it, the value at 1-based rank ceil(fraction * n)
    (the first for a fraction of 0). Always one of the values, never an interpolation: what
    PostgreSQL's `percentile_disc` answers, computed in the same floating point."""
    if not ordered:
        return None
    rank = math.ceil(fraction * len(ordered))
    return ordered[max(rank, 1) - 1]


def is_client_error(status: int) -> bool:
    return status in _CLIENT_ERRORS


def is_server_error(status: int) -> bool:
    return status in _SERVER_ERRORS
