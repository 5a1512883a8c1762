"""A PostgreSQL of a test's own that the test stops and starts, to play an outage."""

import asyncio
import contextlib
import os
import signal
from collections.abc import Iterator
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

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """The server hung, not gone: every one of its processes stopped (SIGSTOP), so
        connections stay open and nothing answers, until the block ends (SIGCONT)."""
        pids = self._pids()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)

    def _pids(self) -> list[int]:
        assert self.server is not None
        postmaster = int((self.server.pgdata / "postmaster.pid").read_text().split()[0])
        children = [
            int(entry.name)
            for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and _parent_of(int(entry.name)) == postmaster
        ]
        return [postmaster, *children]

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


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])
