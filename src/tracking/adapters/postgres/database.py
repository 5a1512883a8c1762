"""The engine, and what a failing database looks like to the use cases: `Unavailable`."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator

import asyncpg
from sqlalchemy import exc as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util.concurrency import greenlet_spawn

from tracking.adapters.outages import DATABASE
from tracking.adapters.postgres.pool import ObservedPool
from tracking.application.errors import Unavailable

log = logging.getLogger(__name__)

_CONNECTION_FAILURES = (
    OSError,
    TimeoutError,
    sa.OperationalError,
    sa.InterfaceError,
    sa.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)


DEADLINE_MARGIN_SECONDS = 1.0
UNBOUNDED_SECONDS = 7 * 24 * 3600.0
"""The client deadline of a statement that may rightly run long (a metrics computation)."""


def async_url(url: str) -> str:
    """Any PostgreSQL URL, spelled for SQLAlchemy's asyncpg dialect."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql+asyncpg{sep}{rest}" if scheme in {"postgres", "postgresql"} else url


def driver_url(url: str) -> str:
    """Any PostgreSQL URL, spelled for asyncpg itself."""
    return async_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)


def create_engine(
    url: str,
    *,
    pool_size: int = 20,
    max_overflow: int = 0,
    pool_timeout: float = 5.0,
    connect_timeout: float = 5.0,
    statement_timeout_ms: int = 5000,
) -> AsyncEngine:
    """No connection is made until one is needed. A dropped connection invalidates the pool,
    so the service recovers on its own when the database comes back.

    `plan_cache_mode=force_custom_plan`: asyncpg prepares every statement, and after five
    executions PostgreSQL may switch a prepared statement to a generic plan that ignores the
    parameters; on skewed data (one heavy user, a wide time range) that was 7x slower. A custom
    plan costs a little planning per execution and is right for every parameter."""
    # The client's own deadline on every statement (and COMMIT), a little after the server's:
    # a hung server cannot enforce its statement_timeout, and would hold the caller with it.
    deadline = (
        statement_timeout_ms / 1000 + DEADLINE_MARGIN_SECONDS if statement_timeout_ms else None
    )
    return create_async_engine(
        async_url(url),
        isolation_level="AUTOCOMMIT",
        poolclass=ObservedPool,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        connect_args={
            "timeout": connect_timeout,
            "command_timeout": deadline,
            "server_settings": {
                "application_name": "tracking",
                "plan_cache_mode": "force_custom_plan",
                "statement_timeout": str(statement_timeout_ms),
            },
        },
    )


@contextlib.asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection, as asyncpg's own. SQLAlchemy keeps the pool (and never starts a
    transaction: the engine is in autocommit, transactions are the unit of work's). A
    connection that failed is invalidated, so the pool heals when the database is back."""
    with unavailable_when_down():
        # The pool's own record, not a SQLAlchemy Connection around it: that one's set-up and
        # close cost more CPU than a group-commit flush's statement (bench/cpu.py).
        pooled = await engine.raw_connection()
        try:
            yield pooled.driver_connection
        except Exception as error:
            if is_outage(error) or is_outage(error.__cause__):
                await greenlet_spawn(pooled.invalidate)
            raise
        finally:
            await greenlet_spawn(pooled.close)  # back to the pool (rolled back, as ever)
    DATABASE.answered()


@contextlib.contextmanager
def unavailable_when_down() -> Iterator[None]:
    """Turns "the database is down, slow or unreachable" into `Unavailable` (503, retry);
    every other database error is a bug and goes on as it is."""
    try:
        yield
    except Exception as error:
        unavailable = as_unavailable(error)
        if unavailable is None:
            raise
        raise unavailable from error


def as_unavailable(error: BaseException) -> Unavailable | None:
    if not is_outage(error):
        return None
    DATABASE.failed(error)
    return Unavailable(
        "database_unavailable", "the database is unavailable; retry shortly", retry_after=1
    )


# SQLSTATE classes that mean "try again later", not "this request is wrong": connection
# exceptions, insufficient resources (too many connections), operator intervention and
# statement timeouts, and transaction rollbacks (deadlock, serialization failure).
_RETRYABLE_CLASSES = ("08", "53", "57", "40")


def commit_unknown(error: BaseException) -> Unavailable:
    """A COMMIT sent but not confirmed (the server hung, the connection broke): it may have
    landed. The caller is told so, since only a retry with the same ids is then exactly once."""
    DATABASE.failed(error)
    return Unavailable(
        "commit_unknown",
        "the database did not confirm the commit in time: it may have landed. Retry with the "
        "same event ids, and each event is stored once",
        retry_after=1,
    )


def answer_lost(error: BaseException) -> bool:
    """An outage after a statement was sent, before its answer came: run by itself, it may
    have gone through to its commit. Not so when the driver never sent it (the connection was
    closed), nor when the server cancelled or rolled it back (a statement timeout, a deadlock,
    a serialization failure) or refused it before running it (too many connections). A
    connection the server ends meanwhile (an administrator's shutdown, a crash) may have
    committed first."""
    if isinstance(error, asyncpg.InterfaceError):
        return False
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and (sqlstate == "57014" or sqlstate[:2] in ("40", "53")):
        return False
    return is_outage(error)


def is_outage(error: BaseException | None) -> bool:
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate[:2] in _RETRYABLE_CLASSES:
        return True
    if isinstance(error, sa.DBAPIError):
        driver_error = error.orig.__cause__ if error.orig is not None else None
        sqlstate = getattr(driver_error, "sqlstate", None)
        return (
            error.connection_invalidated
            or (isinstance(sqlstate, str) and sqlstate[:2] in _RETRYABLE_CLASSES)
            or isinstance(error, sa.OperationalError | sa.InterfaceError)
            or isinstance(driver_error, _CONNECTION_FAILURES)
        )
    return isinstance(error, _CONNECTION_FAILURES)


async def wait_until_reachable(url: str, *, retries: int, connect_timeout: float) -> None:
    """Connects once, retrying with capped exponential backoff: a service started together
    with its database (compose, Kubernetes) waits for it instead of failing."""
    dsn = driver_url(url)
    for attempt in range(retries + 1):
        try:
            connection = await asyncpg.connect(dsn, timeout=connect_timeout)
        except (OSError, TimeoutError, asyncpg.PostgresError) as error:
            if attempt == retries:
                raise ConnectionError(f"{type(error).__name__}: {error}") from None
            delay = min(0.2 * 2**attempt, 5.0)
            log.warning("database not reachable (%s); retrying in %.1f s", error, delay)
            await asyncio.sleep(delay)
        else:
            await connection.close()
            return


class PostgresCheck:
    name = "database"
    required = True

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def check(self) -> None:
        async with driver_connection(self._engine) as connection:
            await connection.fetchval("SELECT 1")
