"""Partitioned events against the single table they replace, in one run on one PostgreSQL
server. Usage: `uv run python bench/partitions.py [--seconds 5] [--rounds 3]
[--events 300000] [--drop-events 1000000]`.

Two databases: one migrated to 0007 (a single `events` table, key `(client_id, id)`), one to
head (0008: monthly partitions, keys in `event_keys`), each with `--events` events of one
client over three months, and a `tracking serve` on each. In `--rounds` alternating rounds,
bench/load.py drives single events (`POST /api/event`, 64 connections), batches of 1000
(`POST /api/events`, 4 connections) and listing (`GET /api/events?user_id&from&till`, one
connection) on both, and the ratio partitioned / single table is printed (target >= 0.9).
Then a month of `--drop-events` events goes, each round, as retention makes it go: its
partition dropped (the moment `events` is held), then its keys trimmed a batch of 10,000
per transaction, beside a `DELETE` of the same rows from the single table (and from the
partitioned one, where the key trigger deletes the keys too). Median and spread of the
rounds. `--drops-only` measures the month alone."""

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from alembic import command
from run import (
    ADMIN_KEY,
    event_body,
    free_port,
    http_request,
    load,
    median,
    process,
    register,
    skewed_user,
)

from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.database import create_engine
from tracking.adapters.postgres.embedded import EmbeddedPostgres
from tracking.adapters.postgres.event_partitions import LAYOUT, PostgresEventPartitions
from tracking.adapters.postgres.partitions import PartitionMaintainer
from tracking.adapters.postgres.retention import PostgresRetentionRepository
from tracking.adapters.system import SystemClock

HERE = Path(__file__).parent
START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=90)
DROPPED_MONTH = date(2020, 1, 1)
"""Older than every other month: dropping the months before the next drops it alone."""

# Rows made by PostgreSQL itself, the same in both databases: $1 client, $2 a seed for the
# ids, $3 the first instant, $4 seconds between two events, $5 how many.
GENERATED = """
INSERT INTO events (client_id, id, user_id, action, occurred_at, received_at, metadata)
SELECT $1::uuid, md5($2 || n)::uuid, 'user-' || (n % 20000),
       (ARRAY['view', 'click', 'search', 'checkout.completed'])[1 + n % 4],
       $3::timestamptz + n * $4::float8 * interval '1 second',
       $3::timestamptz + n * $4::float8 * interval '1 second',
       jsonb_build_object('page', '/p/' || (n % 97), 'ab', 'b')
FROM generate_series(1, $5) AS n
"""
KEYS_OF = "INSERT INTO event_keys SELECT client_id, id, occurred_at FROM events WHERE {}"


Statement = tuple[object, ...] | str


async def execute(dsn: str, *statements: Statement) -> float:
    """Seconds the statements took, in one transaction."""
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        async with connection.transaction():
            for statement in statements:
                sql, *args = (statement,) if isinstance(statement, str) else statement
                await connection.execute(str(sql), *args)
        return time.perf_counter() - started
    finally:
        await connection.close()


async def vacuum(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def generate(
    dsn: str, client: uuid.UUID, at: datetime, step: float, count: int, *, keys: bool
) -> None:
    seed = uuid.uuid4().hex
    statements: list[Statement] = [(GENERATED, str(client), seed, at, step, count)]
    if keys:
        statements.append((KEYS_OF.format("client_id = $1 AND occurred_at >= $2"), client, at))
    await execute(dsn, *statements)
    await execute(dsn, "ANALYZE events" + (", event_keys" if keys else ""))
    await vacuum(dsn, "CHECKPOINT")


async def months_made(dsn: str, months: set[date]) -> None:
    engine = create_engine(dsn)
    try:
        await PostgresEventPartitions(engine, SystemClock(), months_ahead=2).upkeep()
        await PartitionMaintainer(engine, LAYOUT).prepare(months)
    finally:
        await engine.dispose()


async def drop_month(dsn: str) -> tuple[float, float]:
    """Seconds the partition's drop took, then the trimming of its keys, as retention runs
    them (`PostgresRetentionRepository`)."""
    connection = await asyncpg.connect(dsn)
    retention = PostgresRetentionRepository(connection)
    try:
        months = await retention.event_months(datetime(2020, 2, 1, tzinfo=UTC))
        if [m.start.date() for m in months] != [DROPPED_MONTH]:
            raise SystemExit(f"found {months}, not the one month")
        started = time.perf_counter()
        async with connection.transaction():
            if await retention.drop_event_month(months[0]) is None:
                raise SystemExit("the month was not dropped")
        dropped = time.perf_counter()
        done = False
        while not done:
            async with connection.transaction():
                done = (await retention.trim_event_keys(10_000)).done
        return dropped - started, time.perf_counter() - dropped
    finally:
        await connection.close()


def requests(key: str, now: datetime) -> dict[str, list[bytes]]:
    singles = [
        http_request("POST", "/api/event", key, json.dumps(event_body(skewed_user(), now)).encode())
        for _ in range(2000)
    ]
    batches = [
        http_request(
            "POST",
            "/api/events",
            key,
            json.dumps(
                {
                    "events": [
                        event_body(skewed_user(), now - timedelta(seconds=i)) for i in range(1000)
                    ]
                }
            ).encode(),
        )
        for _ in range(20)
    ]
    gets = []
    for n in range(2000):
        start = START + timedelta(seconds=(n * 7919) % int(SPAN.total_seconds()))
        query = httpx.QueryParams(
            {
                "user_id": f"user-{skewed_user()}",
                "from": start.isoformat(),
                "till": (start + timedelta(days=1)).isoformat(),
                "limit": "100",
            }
        )
        gets.append(http_request("GET", f"/api/events?{query}", key))
    return {"single": singles, "batch": batches, "listing": gets}


KINDS = {  # connections, events per request
    "single": (64, 1),
    "batch": (4, 1000),
    "listing": (1, 1),
}


def main(args: argparse.Namespace) -> None:
    data = Path(tempfile.mkdtemp(prefix="tracking-bench-partitions-"))
    server = EmbeddedPostgres(str(data))
    url = server.start()
    urls = {}
    for layout, revision in (("0007", "0007"), ("0008", "head")):
        name = f"bench_{layout}"
        asyncio.run(_create(url, name))
        urls[layout] = url.replace("/postgres?", f"/{name}?", 1)
        migrations.upgrade(urls[layout], revision)
    # The baseline: 0007's table in a schema otherwise at head, served by today's code with
    # the statements of before (bench/single_table_serve.py).
    command.stamp(migrations.alembic_config(urls["0007"]), "head")
    asyncio.run(months_made(urls["0008"], {DROPPED_MONTH}))
    now = datetime.now(UTC)
    env = {
        "TRACKING_ADMIN_API_KEY": ADMIN_KEY,
        "TRACKING_JWT_SECRET": "b" * 48,
        "TRACKING_LOG_LEVEL": "WARNING",
        "TRACKING_DB_POOL_SIZE": "20",
        "TRACKING_REQUEST_LOG": "false",
    }
    ports = {layout: free_port() for layout in urls}
    figures: dict[str, dict[str, list[dict[str, float]]]] = {
        kind: {layout: [] for layout in urls} for kind in KINDS
    }
    try:
        with (
            process(
                [sys.executable, str(HERE / "single_table_serve.py"), *_serve(ports["0007"])],
                ports["0007"],
                {**env, "TRACKING_DATABASE_URL": urls["0007"]},
            ),
            process(
                [sys.executable, "-m", "tracking", *_serve(ports["0008"])],
                ports["0008"],
                {**env, "TRACKING_DATABASE_URL": urls["0008"]},
            ),
        ):
            bodies = {}
            for layout, layout_url in urls.items():
                client, key = register(ports[layout])
                print(f"{layout}: loading {args.events:,} events ...", file=sys.stderr)
                step = SPAN.total_seconds() / args.events
                asyncio.run(
                    generate(layout_url, client, START, step, args.events, keys=layout == "0008")
                )
                bodies[layout] = requests(key, now)
            for round_ in range(0 if args.drops_only else args.rounds):
                for kind, (connections, _) in KINDS.items():
                    for layout in urls:
                        print(f"round {round_ + 1}: {kind} on {layout} ...", file=sys.stderr)
                        result = load(
                            ports[layout], bodies[layout][kind], connections, args.seconds
                        )
                        figures[kind][layout].append(result)
        drops = drop_rounds(args, urls)
    finally:
        server.stop()
    report(args, figures, drops)


def _serve(port: int) -> list[str]:
    return ["serve", "--port", str(port)]


async def _create(url: str, name: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()


def drop_rounds(args: argparse.Namespace, urls: dict[str, str]) -> dict[str, list[float]]:
    """A month of `--drop-events` events, gone three ways, each round on fresh rows."""
    month = datetime(2020, 1, 1, tzinfo=UTC)
    delete = "DELETE FROM events WHERE occurred_at >= '2020-01-01Z' AND occurred_at < '2020-02-01Z'"
    step = timedelta(days=31).total_seconds() / (args.drop_events + 1)
    times: dict[str, list[float]] = {"drop": [], "trim": [], "delete_0007": [], "delete_0008": []}
    for round_ in range(args.rounds):
        print(f"round {round_ + 1}: a month of {args.drop_events:,} events ...", file=sys.stderr)
        client = uuid.uuid4()
        asyncio.run(generate(urls["0008"], client, month, step, args.drop_events, keys=True))
        drop, trim = asyncio.run(drop_month(urls["0008"]))
        times["drop"].append(drop)
        times["trim"].append(trim)
        asyncio.run(months_made(urls["0008"], {DROPPED_MONTH}))

        asyncio.run(generate(urls["0007"], client, month, step, args.drop_events, keys=False))
        times["delete_0007"].append(asyncio.run(execute(urls["0007"], delete)))

        client = uuid.uuid4()
        asyncio.run(generate(urls["0008"], client, month, step, args.drop_events, keys=True))
        times["delete_0008"].append(asyncio.run(execute(urls["0008"], delete)))
        asyncio.run(vacuum(urls["0008"], "VACUUM events, event_keys"))
        asyncio.run(vacuum(urls["0007"], "VACUUM events"))
    return times


def rate(results: list[dict[str, float]], per_request: int, unit: str) -> str:
    rates = [r["per_second"] * per_request for r in results]
    return f"{median(rates)} {unit}, p99 {median([r['p99_ms'] for r in results], 1)} ms"


def report(
    args: argparse.Namespace,
    figures: dict[str, dict[str, list[dict[str, float]]]],
    drops: dict[str, list[float]],
) -> None:
    print(f"\n{args.events:,} events per database, {args.rounds} rounds of {args.seconds:g} s")
    print("(median, with the spread of the rounds)\n")
    print("| figure | single table (0007) | partitioned (head) | ratio |")
    print("|---|---|---|---|")
    for kind, (connections, per_request) in KINDS.items():
        before, after = figures[kind]["0007"], figures[kind]["0008"]
        if not before:
            continue
        unit = "events/s" if kind != "listing" else "req/s"
        ratios = [a["per_second"] / b["per_second"] for a, b in zip(after, before, strict=True)]
        print(
            f"| {kind}, {connections} connection(s) | {rate(before, per_request, unit)} | "
            f"{rate(after, per_request, unit)} | {median(ratios, 2)} |"
        )
    print(f"\nA month of {args.drop_events:,} events gone, seconds:\n")
    print("| how | seconds |")
    print("|---|---|")
    print(f"| partition dropped (head): `events` held | {median(drops['drop'], 3)} |")
    print(f"| then its keys trimmed, batches of 10,000 (head) | {median(drops['trim'], 2)} |")
    print(f"| `DELETE` of the same rows, single table (0007) | {median(drops['delete_0007'], 2)} |")
    print(
        "| `DELETE` of the same rows, partitioned, keys by trigger (0008) | "
        f"{median(drops['delete_0008'], 2)} |"
    )
    for figure in ("drop", "trim"):
        ratio = statistics.median(drops[figure]) / statistics.median(drops["delete_0007"])
        print(f"the {figure} took {ratio:.2f}x the time of the single table's DELETE")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--drop-events", type=int, default=1_000_000)
    parser.add_argument("--drops-only", action="store_true")
    main(parser.parse_args())
