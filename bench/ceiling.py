"""The HTTP ceilings, run under uvicorn exactly as `tracking serve` is:
`python bench/ceiling.py PORT [WORKERS] [DSN]`.

Without a DSN, the bare one: a Litestar endpoint that decodes the same body as
`POST /api/event` and answers 202 without storing anything. With a DSN, the durable one: the
same endpoint doing only the durable work the route must do, nothing else: each event, with
its new UUIDv7 id and its arrival time, joins the next group commit, which stores the waiting
events through raw asyncpg in one statement (its own transaction), the route's own (event_keys,
then events, the client's journal position, the suppressed users looked up); it answers 201
once its transaction committed. Its events carry no user hash, so it makes none.

One flush at a time (`CEILING_FLUSHES`, 1): the benchmark's events are one client's, whose
transactions queue on its journal row to their commits, so flushes run side by side only
contend. Measured on two cores: 8 at a time stored 3,600-4,300 events/s with PostgreSQL at
0.47 cores, one at a time 5,800-7,400 at 0.21. (The service's writer holds a client's writes
while a flush of that client runs, for the same reason.)"""

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import uvicorn
from litestar import Litestar, Request, post

from tracking.adapters.postgres.events import INSERT_EVENTS
from tracking.adapters.system import UuidV7Generator
from tracking.entrypoints.http.schemas import EventIn
from tracking.entrypoints.server import tune_gc

FLUSHES = int(os.environ.get("CEILING_FLUSHES", "1"))
_ENCODE = msgspec.json.Encoder().encode
_RAW = msgspec.json.Decoder(msgspec.Raw).decode


@post("/api/event", status_code=202)
async def accept(request: Request[Any, Any, Any]) -> dict[str, str]:
    msgspec.json.decode(await request.body(), type=EventIn)
    return {"status": "accepted"}


class GroupCommit:
    """Waiting rows go out together: a flush starts whenever fewer than FLUSHES run."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._pool: asyncpg.Pool | None = None
        self._waiting: list[tuple[tuple[object, ...], asyncio.Future[None]]] = []
        self._running = 0

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(self._dsn, min_size=FLUSHES, max_size=FLUSHES)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def store(self, row: tuple[object, ...]) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((row, done))
        if self._running < FLUSHES:
            self._running += 1
            asyncio.create_task(self._flush())  # noqa: RUF006 - it ends by itself
        await done

    async def _flush(self) -> None:
        assert self._pool is not None  # noqa: S101 - opened at start
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                async with self._pool.acquire() as connection:  # one statement, as the route's
                    document = _ENCODE([row for row, _ in group]).decode()  # as the route's
                    await connection.execute(INSERT_EVENTS, document)
            except Exception as error:  # noqa: BLE001 - each waiting request is told
                for _, done in group:
                    done.set_exception(error)
            else:
                for _, done in group:
                    done.set_result(None)
        self._running -= 1


def durable_app(dsn: str) -> Litestar:
    ids = UuidV7Generator()
    commits = GroupCommit(dsn)
    client_id = os.environ["CEILING_CLIENT_ID"]

    @post("/api/event", status_code=201)
    async def store(request: Request[Any, Any, Any]) -> dict[str, str]:
        event = msgspec.json.decode(await request.body(), type=EventIn)
        event_id = event.id or ids.new_id()
        now = datetime.now(UTC)
        occurred_at = event.occurred_at or now.isoformat()
        metadata = _RAW(_ENCODE(event.metadata or {}))
        await commits.store(
            # No user hash: the statement's suppression lookup runs and finds nothing, and the
            # ceiling spends no HMAC on it (the route hashes each user).
            (
                client_id,
                event_id,
                str(event.user_id),
                event.action,
                occurred_at,
                now,
                metadata,
                None,
            )
        )
        return {"id": str(event_id), "status": "stored"}

    return Litestar([store], on_startup=[commits.open], on_shutdown=[commits.close])


def app() -> Litestar:
    """Each worker's app, served with the same collector settings as `tracking serve`."""
    dsn = os.environ.get("CEILING_DSN")
    built = durable_app(dsn) if dsn else Litestar([accept])
    tune_gc()
    return built


if __name__ == "__main__":
    if sys.argv[3:]:
        os.environ["CEILING_DSN"] = sys.argv[3]
    uvicorn.run(
        "ceiling:app",
        factory=True,
        app_dir=str(Path(__file__).parent),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        workers=int((sys.argv[2:] or ["1"])[0]),
        log_level="warning",
    )
