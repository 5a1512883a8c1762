"""One client per process for a Redis URL, with deadlines short enough that an outage is met
in a fraction of a request's time and the caller degrades instead of waiting."""

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


def redis_client(url: str, timeout_seconds: float) -> Redis:
    """redis://, rediss:// (TLS) or unix:// URLs, as redis-py reads them."""
    return Redis.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        # One attempt: a retry is the caller's decision (it falls back instead).
        retry=Retry(NoBackoff(), 0),
        health_check_interval=30,
    )


def subscriber_client(url: str, timeout_seconds: float) -> Redis:
    """For pub/sub: connects within the deadline, then waits for messages without one (a
    channel may be quiet for hours); a restarted server closes the socket, which is noticed."""
    # Keepalive is a TCP option: redis-py's unix socket connection does not take it at all.
    tcp = {} if url.startswith("unix://") else {"socket_keepalive": True}
    return Redis.from_url(
        url, socket_connect_timeout=timeout_seconds, retry=Retry(NoBackoff(), 0), **tcp
    )
