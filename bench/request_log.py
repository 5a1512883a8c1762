"""What the request log costs and what its partitions save. Usage: `uv run python
bench/request_log.py [--seconds 8] [--rounds 3] [--rows 1000000]`.

1. `POST /api/event` at 64 connections on two `tracking serve` on the same PostgreSQL, one
   with the request log on (the default) and one with it off, in alternating rounds: events/s
   and p99, median and spread, and the ratio on/off of each pair. Then both stop (gracefully:
   the log writes what it holds) and the log's rows are counted against the requests the
   log-on server answered.
2. What recording costs a request, and making rows of it off the request path (`timeit`).
3. Retention: `--rows` requests in each of two days' partitions (COPY), then one day removed
   by dropping its partition (what the writer does) and the other by `DELETE` of its rows
   (what an unpartitioned table needs, and a `VACUUM` after it to reclaim the space)."""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from run import (
    ADMIN_KEY,
    event_body,
    free_port,
    http_request,
    load,
    median,
    register,
    skewed_user,
)

from tracking.adapters.memory.cache import InMemoryCache
from tracking.adapters.memory.store import InMemoryStore
from tracking.adapters.memory.usage import InMemoryRequestLogStore
from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.database import create_engine
from tracking.adapters.postgres.embedded import EmbeddedPostgres
from tracking.adapters.postgres.request_log import PostgresRequestLogStore, partition_of
from tracking.adapters.request_log import BufferedRequestLog
from tracking.adapters.system import SystemClock, UuidV7Generator
from tracking.application.answer_cache import AnswerCache
from tracking.application.principal import CredentialKind, Principal
from tracking.domain.clients import Role
from tracking.entrypoints.http.recording import RequestRecorder


@contextmanager
def serving(port: int, env: dict[str, str]) -> Iterator[int]:
    """`tracking serve` (one process: one worker) on `port`, stopped gracefully after; gives
    its pid, whose CPU time is read from /proc."""
    args = [sys.executable, "-m", "tracking", "serve", "--port", str(port)]
    child = subprocess.Popen(  # noqa: S603
        args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        yield child.pid
    finally:
        child.terminate()
        child.communicate(timeout=30)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pid: int, port: int, requests: list[bytes], seconds: float) -> dict[str, float]:
    """The load's figures, with the server's CPU time per request (in µs): less moved by
    what else the machine runs than requests per second are."""
    before = cpu_seconds(pid)
    figures = load(port, requests, 64, seconds)
    figures["cpu_us"] = (cpu_seconds(pid) - before) / figures["requests"] * 1e6
    return figures


DROPPED_DAY, DELETED_DAY = date(2020, 1, 1), date(2020, 1, 2)
"""Days before any the servers wrote: dropping the first drops it alone."""


def ingest(seconds: float, rounds: int, env: dict[str, str]) -> tuple[list[str], int]:
    """The figures' lines, and how many requests the log-on server answered."""
    on, off = free_port(), free_port()
    now = datetime.now(UTC)
    pairs = []
    with (
        serving(on, {**env, "TRACKING_REQUEST_LOG": "true"}) as on_pid,
        serving(off, {**env, "TRACKING_REQUEST_LOG": "false"}) as off_pid,
    ):
        _, key_on = register(on)
        _, key_off = register(off)
        bodies = [json.dumps(event_body(skewed_user(), now)).encode() for _ in range(2000)]
        logged = [http_request("POST", "/api/event", key_on, b) for b in bodies]
        unlogged = [http_request("POST", "/api/event", key_off, b) for b in bodies]
        for round_ in range(rounds):
            print(f"round {round_ + 1} ...", file=sys.stderr)
            # Who goes first alternates, so neither always meets a warmer database.
            if round_ % 2:
                bare = measured(off_pid, off, unlogged, seconds)
                ours = measured(on_pid, on, logged, seconds)
            else:
                ours = measured(on_pid, on, logged, seconds)
                bare = measured(off_pid, off, unlogged, seconds)
            pairs.append((ours, bare))
    answered = sum(o["requests"] for o, _ in pairs)
    lines = ["| figure | request log on | request log off | ratio |", "|---|---|---|---|"]
    lines.append(
        f"| `POST /api/event`, 64 connections, 1 worker "
        f"| {median([o['per_second'] for o, _ in pairs])} events/s, "
        f"p99 {median([o['p99_ms'] for o, _ in pairs], 1)} ms "
        f"| {median([b['per_second'] for _, b in pairs])} events/s, "
        f"p99 {median([b['p99_ms'] for _, b in pairs], 1)} ms "
        f"| {median([o['per_second'] / b['per_second'] for o, b in pairs], 2)} |"
    )
    lines.append(
        f"| the server's CPU per request | {median([o['cpu_us'] for o, _ in pairs])} µs "
        f"| {median([b['cpu_us'] for _, b in pairs])} µs "
        f"| {median([b['cpu_us'] / o['cpu_us'] for o, b in pairs], 2)} (off/on) |"
    )
    statuses = Counter(k for o, _ in pairs for k, v in o["statuses"].items() for _ in range(v))
    lines.append(f"statuses the log-on server answered: {dict(statuses)}")
    return lines, answered


def recording_cost() -> list[str]:
    """Microseconds per call, the best of 5 runs of 200,000: the hook `ObservedRequests` calls
    with a request's scope as authentication leaves it, with the log on and off; and taking
    rows out of the buffer (the writer's work in this process, before encoding)."""
    count = 200_000
    log = BufferedRequestLog(
        InMemoryRequestLogStore(InMemoryStore()),
        SystemClock(),
        UuidV7Generator(),
        AnswerCache(
            InMemoryCache(max_entries=10),
            namespace="usage",
            open_ttl=15,
            settled_ttl=60,
            guard_seconds=60,
        ),
        max_rows=10 * count,
        retention_days=30,
    )
    recorder = RequestRecorder()
    principal = Principal(
        client_id=uuid.uuid4(),
        role=Role.CLIENT,
        credential=CredentialKind.API_KEY,
        rate_limit_per_minute=1000,
        events_per_minute=1000,
    )
    scope = {
        "type": "http",
        "method": "POST",
        "path_template": "/api/event",
        "user": principal,
        "state": {"tracking.request_id": uuid.uuid4().hex},
    }

    def per_call() -> float:
        best = min(timeit.repeat(lambda: recorder(scope, 201, 0.0012), number=count, repeat=5))
        return best / count * 1e6

    recorder.log = log
    on = per_call()
    recorder.log = None
    off = per_call()
    started = time.perf_counter()
    taken = 0
    while log.buffered:
        taken += len(log._take())  # noqa: SLF001 - the writer's step, timed alone
    taking = (time.perf_counter() - started) / taken * 1e6
    line = (
        f"recording a request: {on:.2f} µs with the log on, {off:.2f} µs off; "
        f"making a row of it off the request path: {taking:.2f} µs"
    )
    return ["", line]


async def logged_rows(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM request_log WHERE route = '/api/event'"
        )
    finally:
        await connection.close()
    return count


def rows_of(day: date, count: int) -> list[tuple[object, ...]]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    step = timedelta(days=1) / count
    clients = [uuid.uuid4() for _ in range(20)]
    return [
        (
            clients[n % len(clients)],
            start + n * step,
            uuid.uuid4(),
            "POST",
            "/api/event",
            201,
            1.5,
            uuid.uuid4().hex,
        )
        for n in range(count)
    ]


async def retention(url: str, dsn: str, count: int) -> list[str]:
    engine = create_engine(url, statement_timeout_ms=0)
    store = PostgresRequestLogStore(engine)
    await store.prepare({DROPPED_DAY, DELETED_DAY})
    connection = await asyncpg.connect(dsn)
    try:
        for day in (DROPPED_DAY, DELETED_DAY):
            await connection.copy_records_to_table(
                partition_of(day),
                records=rows_of(day, count),
                columns=[
                    "client_id",
                    "requested_at",
                    "id",
                    "method",
                    "route",
                    "status",
                    "duration_ms",
                    "request_id",
                ],
            )
        await connection.execute("VACUUM ANALYZE request_log")
        await connection.execute("CHECKPOINT")

        started = time.perf_counter()
        dropped = await store.drop_before(DROPPED_DAY + timedelta(days=1))
        drop_seconds = time.perf_counter() - started
        if dropped != [DROPPED_DAY]:
            raise RuntimeError(f"dropped {dropped}, not {DROPPED_DAY} alone")
        await connection.execute("CHECKPOINT")

        end = DELETED_DAY + timedelta(days=1)
        started = time.perf_counter()
        status = await connection.execute(
            "DELETE FROM request_log WHERE requested_at >= $1 AND requested_at < $2",
            datetime(DELETED_DAY.year, DELETED_DAY.month, DELETED_DAY.day, tzinfo=UTC),
            datetime(end.year, end.month, end.day, tzinfo=UTC),
        )
        delete_seconds = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute(f"VACUUM {partition_of(DELETED_DAY)}")
        vacuum_seconds = time.perf_counter() - started
    finally:
        await connection.close()
        await engine.dispose()
    return [
        "",
        f"| removing a day of {count:,} logged requests | seconds |",
        "|---|---|",
        f"| dropping its partition (`drop_before`) | {drop_seconds:.3f} |",
        f"| `DELETE` of its rows ({status}) | {delete_seconds:.3f} |",
        f"| the `VACUUM` that reclaims their space after | {vacuum_seconds:.3f} |",
    ]


def main(args: argparse.Namespace) -> None:
    data = Path(tempfile.mkdtemp(prefix="tracking-bench-request-log-"))
    postgres = EmbeddedPostgres(str(data))
    url = postgres.start()
    migrations.upgrade(url)
    env = {
        "TRACKING_DATABASE_URL": url,
        "TRACKING_ADMIN_API_KEY": ADMIN_KEY,
        "TRACKING_JWT_SECRET": "b" * 48,
        "TRACKING_LOG_LEVEL": "WARNING",
    }
    try:
        lines, answered = ingest(args.seconds, args.rounds, env)
        rows = asyncio.run(logged_rows(url))
        lines.append(
            f"`POST /api/event` requests the log-on server answered: {answered:,}; rows in "
            f"request_log for them after it stopped: {rows:,}"
        )
        lines += recording_cost()
        lines += asyncio.run(retention(url, url, args.rows))
    finally:
        postgres.stop()
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternating pairs")
    parser.add_argument("--rows", type=int, default=1_000_000, help="requests per day")
    main(parser.parse_args())
