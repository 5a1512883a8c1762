"""A transaction on one pooled connection, for one command, request or batch."""

import contextlib
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.clients import PostgresClientRepository
from tracking.adapters.postgres.database import commit_unknown, driver_connection, is_outage
from tracking.adapters.postgres.events import PostgresEventRepository
from tracking.adapters.postgres.principal_cache import PrincipalCache
from tracking.adapters.postgres.privacy import PostgresSuppressionRepository
from tracking.adapters.postgres.retention import PostgresRetentionRepository
from tracking.adapters.postgres.windows import PostgresWindowRepository
from tracking.application.ports import UnitOfWork
from tracking.domain.privacy import UserHashKey


class PostgresUnitOfWork(UnitOfWork):
    """Rolls back unless `commit()` ran; an unreachable database is `Unavailable`."""

    events: PostgresEventRepository
    clients: PostgresClientRepository
    windows: PostgresWindowRepository
    suppressions: PostgresSuppressionRepository
    retention: PostgresRetentionRepository

    def __init__(
        self, engine: AsyncEngine, cache: PrincipalCache, user_hashes: UserHashKey
    ) -> None:
        self._engine = engine
        self._cache = cache
        self._user_hashes = user_hashes
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> Self:
        connection = await self._stack.enter_async_context(driver_connection(self._engine))
        try:
            self._transaction = connection.transaction()
            await self._transaction.start()
        except BaseException as error:
            # Through the connection's context, which turns an outage into `Unavailable`.
            await self._stack.__aexit__(type(error), error, error.__traceback__)
            raise
        self._committed = False
        self.events = PostgresEventRepository(connection, self._user_hashes)
        self.clients = PostgresClientRepository(connection)
        self.windows = PostgresWindowRepository(connection)
        self.suppressions = PostgresSuppressionRepository(connection, self._user_hashes)
        self.retention = PostgresRetentionRepository(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            broken = exc is not None and (is_outage(exc) or is_outage(exc.__cause__))
            if not self._committed and not broken:
                await self._transaction.rollback()
        finally:
            await self._stack.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        try:
            await self._transaction.commit()
        except Exception as error:
            if is_outage(error):
                raise commit_unknown(error) from error
            raise
        self._committed = True
