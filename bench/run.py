"""The ingest and listing benchmark: each figure beside its baseline, measured in the same run
on the same PostgreSQL server. Usage: `uv run python bench/run.py [--seconds 8] [--rounds 3]
[--workers 1,2] [--events 1000000] [--no-limits]`.

Starts a throwaway PostgreSQL (pgserver), `tracking serve` on it, the bare HTTP ceiling app
with as many workers, and drives both with bench/load.py in another process: single events
in alternating rounds for each worker count (median and spread), then batches beside the
database inserting the same rows by itself, then listing beside the raw query; then (as
bench/limits.py) limits counted in Redis beside limits off. Every part runs the service as
shipped: its defaults, limits on and counted in a Redis of its own (as `serve` on the embedded
default counts them in the embedded one), so they are exact across workers."""

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from staging import insert_from_staging, staged

from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.embedded import EmbeddedPostgres
from tracking.adapters.postgres.events import list_events_sql
from tracking.adapters.system import UuidV7Generator
from tracking.application.views import EventCriteria

sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.redis_server import RedisServer

HERE = Path(__file__).parent
IDS = UuidV7Generator()
ADMIN_KEY = "trk_" + "B" * 43
USERS = 20_000
START = datetime(2026, 1, 1, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def process(
    args: list[str], port: int, env: dict[str, str] | None = None
) -> Iterator["subprocess.Popen[bytes]"]:
    child = subprocess.Popen(  # noqa: S603
        args, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        yield child
    finally:
        child.terminate()
        child.communicate(timeout=30)


def load(port: int, requests: list[bytes], connections: int, seconds: float) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as file:
        file.writelines(json.dumps(r.decode("latin-1")) + "\n" for r in requests)
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            str(HERE / "load.py"),
            "--port",
            str(port),
            "--requests",
            file.name,
            "--connections",
            str(connections),
            "--seconds",
            str(seconds),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    Path(file.name).unlink()
    figures: dict[str, Any] = json.loads(result.stdout)
    failed = {s: n for s, n in figures["statuses"].items() if int(s) >= 500}  # noqa: PLR2004
    if failed:
        # A server error is answered faster than the work it gave up: never a figure.
        raise SystemExit(f"the server on port {port} answered {failed} (status: count)")
    return figures


def http_request(method: str, path: str, key: str, body: bytes = b"") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: bench\r\nX-API-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def event_body(user: int, at: datetime) -> dict[str, object]:
    return {
        "user_id": f"user-{user}",
        "action": random.choice(["view", "click", "checkout.completed", "search"]),  # noqa: S311
        "occurred_at": at.isoformat(),
        "metadata": {"page": f"/p/{user % 97}", "ab": "b"},
    }


def skewed_user() -> int:
    """A few heavy users and a long tail, as real traffic has."""
    return min(USERS - 1, int(random.paretovariate(1.2)) - 1)


def rows_of(client_id: uuid.UUID, count: int, base: datetime) -> list[tuple[object, ...]]:
    """Rows as the service would store them, ids time-ordered (UUIDv7) like its own."""
    rows: list[tuple[object, ...]] = []
    for i in range(count):
        at = base + timedelta(seconds=i)
        body = event_body(skewed_user(), at)
        rows.append(
            (
                client_id,
                IDS.new_id(),
                body["user_id"],
                body["action"],
                at,
                at,
                json.dumps(body["metadata"]),
            )
        )
    return rows


async def insert_ceiling(dsn: str, client_id: uuid.UUID, seconds: float, workers: int) -> float:
    """The database alone: rows like the batches' staged before the clock starts, then
    inserted by PostgreSQL itself, 1000 per statement, on `workers` connections at once, as
    the route's 4 clients make the server do: what the route cannot beat."""
    count = int(seconds * 40_000)
    await staged(dsn, rows_of(client_id, count, START + timedelta(days=400)))
    return await insert_from_staging(dsn, count, 1000, workers, seconds)


async def bulk_load(dsn: str, client_id: uuid.UUID, count: int) -> None:
    connection = await asyncpg.connect(dsn)
    for chunk in range(0, count, 100_000):
        rows = rows_of(client_id, min(100_000, count - chunk), START + timedelta(seconds=chunk))
        await connection.copy_records_to_table(
            "events",
            records=rows,
            columns=[
                "client_id",
                "id",
                "user_id",
                "action",
                "occurred_at",
                "received_at",
                "metadata",
            ],
        )
    await connection.execute("ANALYZE events")
    await connection.close()


def listing_queries(client_id: uuid.UUID, count: int) -> list[EventCriteria]:
    queries = []
    for _ in range(count):
        start = START + timedelta(seconds=random.randrange(0, 900_000))  # noqa: S311
        queries.append(
            EventCriteria(
                client_id=client_id,
                user_id=f"user-{skewed_user()}",
                occurred_from=start,
                occurred_till=start + timedelta(days=1),
                limit=101,  # the API asks for one more than the page, to know if one follows
            )
        )
    return queries


async def listing_ceiling(dsn: str, queries: list[EventCriteria]) -> dict[str, float]:
    connection = await asyncpg.connect(
        dsn, server_settings={"plan_cache_mode": "force_custom_plan"}
    )
    latencies = []
    for query in queries:
        sql, values = list_events_sql(query)
        started = time.perf_counter_ns()
        await connection.fetch(sql, *values)
        latencies.append(time.perf_counter_ns() - started)
    await connection.close()
    latencies.sort()
    return {
        "p50_ms": latencies[len(latencies) // 2] / 1e6,
        "p99_ms": latencies[int(len(latencies) * 0.99)] / 1e6,
    }


def register(port: int) -> tuple[uuid.UUID, str]:
    answer = httpx.post(
        f"http://127.0.0.1:{port}/api/clients",
        headers={"X-API-Key": ADMIN_KEY},
        json={
            "name": f"bench-{uuid.uuid4().hex[:8]}",
            "rate_limit_per_minute": 1_000_000,
            "events_per_minute": 10_000_000,
        },
    )
    answer.raise_for_status()
    return uuid.UUID(answer.json()["id"]), answer.json()["api_key"]


async def stored_total(dsn: str, clients: list[uuid.UUID]) -> int:
    connection = await asyncpg.connect(dsn)
    count: int = await connection.fetchval(
        "SELECT count(*) FROM events WHERE client_id = ANY($1::uuid[])", clients
    )
    await connection.close()
    return count


async def durability(dsn: str) -> str:
    connection = await asyncpg.connect(dsn)
    values = [
        f"{name}={await connection.fetchval(f'SHOW {name}')}"
        for name in ("fsync", "synchronous_commit", "wal_sync_method")
    ]
    await connection.close()
    return ", ".join(values)


def latency(result: dict[str, float]) -> str:
    return f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms"


def row(figure: str, value: str, baseline: str, ratio: str) -> str:
    return f"| {figure} | {value} | {baseline} | {ratio} |"


def single_events(
    args: argparse.Namespace, env: dict[str, str], workers: int
) -> tuple[list[str], int, uuid.UUID]:
    """`POST /api/event` against the bare HTTP ceiling and the durable one (the bare app doing
    the same grouped insert through raw asyncpg), all with `workers` processes, in `--rounds`
    alternating triples; returns the table rows, the events acknowledged and the client whose
    they are."""
    port, bare_port, durable_port = free_port(), free_port(), free_port()
    tracking = [sys.executable, "-m", "tracking", "serve", "--port", str(port)]
    tracking += ["--workers", str(workers)]
    ceiling = [sys.executable, str(HERE / "ceiling.py")]
    triples, acknowledged = [], 0
    with process(tracking, port, env):
        client_id, key = register(port)
        durable_client, _ = register(port)
        durable = {
            "CEILING_DSN": env["TRACKING_DATABASE_URL"],
            "CEILING_CLIENT_ID": str(durable_client),
        }
        with (
            process([*ceiling, str(bare_port), str(workers)], bare_port),
            process([*ceiling, str(durable_port), str(workers)], durable_port, durable),
        ):
            for round_ in range(args.rounds):
                print(f"single events, {workers} worker(s), round {round_ + 1}", file=sys.stderr)
                singles = single_requests(key)  # each round's events happen now: live ones
                bare = load(bare_port, singles, 64, args.seconds)
                grouped = load(durable_port, singles, 64, args.seconds)
                ours = load(port, singles, 64, args.seconds)
                acknowledged += ours["statuses"].get("201", 0)  # type: ignore[attr-defined]
                triples.append((ours, bare, grouped))
    ours = [o for o, _, _ in triples]
    bare, grouped = [b for _, b, _ in triples], [g for _, _, g in triples]
    figure = f"`POST /api/event`, 64 connections, {workers} worker(s)"
    rows = [
        row(
            figure,
            rate(ours, "events/s"),
            f"bare Litestar, {workers} worker(s): {rate(bare, 'req/s')}",
            ratios(ours, bare),
        ),
        row(
            figure,
            "(as above)",
            "bare Litestar storing each event by the same grouped insert through raw "
            f"asyncpg, {workers} worker(s): {rate(grouped, 'events/s')}",
            ratios(ours, grouped),
        ),
    ]
    return rows, acknowledged, client_id


def single_requests(key: str) -> list[bytes]:
    now = datetime.now(UTC)
    return [
        http_request("POST", "/api/event", key, json.dumps(event_body(skewed_user(), now)).encode())
        for _ in range(2000)
    ]


def rate(results: list[dict[str, float]], unit: str) -> str:
    per_second = median([r["per_second"] for r in results])
    return f"{per_second} {unit}, p99 {median([r['p99_ms'] for r in results], 1)} ms"


def ratios(ours: list[dict[str, float]], baseline: list[dict[str, float]]) -> str:
    """Round by round: each of ours beside the baseline measured just before it."""
    pairs = list(zip(ours, baseline, strict=True))
    per_second = median([o["per_second"] / b["per_second"] for o, b in pairs], 2)
    return f"{per_second}; p99 {median([o['p99_ms'] / b['p99_ms'] for o, b in pairs], 1)}x"


def median(values: list[float], digits: int = 0) -> str:
    """The median, with the spread of the rounds when there are several."""
    middle = f"{statistics.median(values):,.{digits}f}"
    if len(values) == 1:
        return middle
    return f"{middle} ({min(values):,.{digits}f} to {max(values):,.{digits}f})"


def service_env(url: str, redis_url: str | None = None) -> dict[str, str]:
    """`tracking serve`'s settings in every benchmark: its defaults but for these. With an
    external PostgreSQL, limits are exact across processes only through a Redis."""
    return {
        **({"TRACKING_REDIS_URL": redis_url} if redis_url else {}),
        "TRACKING_DATABASE_URL": url,
        "TRACKING_ADMIN_API_KEY": ADMIN_KEY,
        "TRACKING_JWT_SECRET": "b" * 48,
        "TRACKING_LOG_LEVEL": "WARNING",
        "TRACKING_DB_POOL_SIZE": "20",
    }


def main(args: argparse.Namespace) -> None:
    data = Path(tempfile.mkdtemp(prefix="tracking-bench-"))
    server = EmbeddedPostgres(str(data))
    url = server.start()
    dsn = url
    migrations.upgrade(url)
    redis_server = RedisServer(data)
    env = service_env(url, redis_server.url)
    lines = []
    now = datetime.now(UTC)
    try:
        acknowledged, clients = 0, []
        for workers in args.workers:
            rows, acked, client_id = single_events(args, env, workers)
            lines += rows
            acknowledged += acked
            clients.append(client_id)
        in_database = asyncio.run(stored_total(dsn, clients))
        lines.append(
            f"acknowledged (201): {acknowledged:,}; rows in PostgreSQL: {in_database:,}; "
            f"{asyncio.run(durability(dsn))}"
        )

        port = free_port()
        tracking = [sys.executable, "-m", "tracking", "serve", "--port", str(port)]
        with process(tracking, port, env):
            batch_client, batch_key = register(port)
            batches = [
                http_request(
                    "POST",
                    "/api/events",
                    batch_key,
                    json.dumps(
                        {
                            "events": [
                                event_body(skewed_user(), now - timedelta(seconds=i))
                                for i in range(1000)
                            ]
                        }
                    ).encode(),
                )
                for _ in range(20)
            ]
            print("batches: tracking ...", file=sys.stderr)
            batch = load(port, batches, 4, args.seconds)
            print("batches: the database alone ...", file=sys.stderr)
            database = asyncio.run(insert_ceiling(dsn, batch_client, args.seconds, 4))
            lines.append(
                row(
                    "`POST /api/events`, 1000 per request, 4 connections",
                    f"{batch['per_second'] * 1000:,.0f} events/s",
                    "PostgreSQL inserting the same rows from a staging table, 1000 per "
                    f"statement, 4 connections: {database:,.0f} rows/s",
                    f"{batch['per_second'] * 1000 / database:.2f}",
                )
            )

            list_client, list_key = register(port)
            print(f"listing: loading {args.events:,} events ...", file=sys.stderr)
            asyncio.run(bulk_load(dsn, list_client, args.events))
            queries = listing_queries(list_client, 3000)
            gets = [
                http_request(
                    "GET",
                    "/api/events?"
                    + str(
                        httpx.QueryParams(
                            {
                                "user_id": q.user_id or "",
                                "from": (q.occurred_from or START).isoformat(),
                                "till": (q.occurred_till or START).isoformat(),
                                "limit": "100",
                            }
                        )
                    ),
                    list_key,
                )
                for q in queries
            ]
            print("listing: asyncpg ...", file=sys.stderr)
            raw = asyncio.run(listing_ceiling(dsn, queries))
            print("listing: tracking ...", file=sys.stderr)
            listed = load(port, gets, 1, args.seconds)
            lines.append(
                row(
                    f"`GET /api/events?user_id&from&till`, {args.events:,} events, 1 connection",
                    f"p50 {listed['p50_ms']:.2f} ms, p99 {listed['p99_ms']:.2f} ms",
                    f"the same SQL through raw asyncpg: p50 {raw['p50_ms']:.2f} ms, "
                    f"p99 {raw['p99_ms']:.2f} ms",
                    f"p99 {listed['p99_ms'] / raw['p99_ms']:.1f}x",
                )
            )
    finally:
        redis_server.stop()
        server.stop()
    print("| figure | tracking | baseline (same run, same server) | ratio |")
    print("|---|---|---|---|")
    print("\n".join(lines))
    if args.limits:
        print("rate limits through Redis beside limits off ...", file=sys.stderr)
        from limits import measure  # noqa: PLC0415 - it imports this module's helpers

        print("\n" + "\n".join(measure(args.seconds, args.rounds)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8, help="per measurement")
    parser.add_argument("--events", type=int, default=1_000_000, help="stored before listing")
    parser.add_argument("--rounds", type=int, default=3, help="single-event pairs per setting")
    parser.add_argument(
        "--workers",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2],
        help="worker counts for single events, e.g. 1,2",
    )
    parser.add_argument(
        "--no-limits",
        dest="limits",
        action="store_false",
        help="skip the rate-limits comparison (bench/limits.py)",
    )
    main(parser.parse_args())
