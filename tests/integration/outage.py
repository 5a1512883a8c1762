"""A PostgreSQL of a test's own that the test stops and starts, to play an outage."""

import asyncio
from pathlib import Path

import asyncpg

from tracking.adapters.postgres.embedded import EmbeddedPostgres


class Database:
    """A PostgreSQL of this test's own, in `tmp_path`, that the test stops and starts."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.server: EmbeddedPostgres | None = None

    async def start(self) -> str:
        self.server = EmbeddedPostgres(str(self.data_dir))
        return await asyncio.to_thread(self.server.start)

    async def stop(self) -> None:
        if self.server is not None:
            await asyncio.to_thread(self.server.stop)
            self.server = None


async def reachable(url: str) -> bool:
    try:
        connection = await asyncpg.connect(url, timeout=1)
    except (OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True
