"""The metrics benchmark: one window of 1,000,000 events by ~100,000 users, computed by the
command, beside the same INSERT ... SELECT ... GROUP BY run by hand through asyncpg in the
same run, on the same server. Usage: `uv run python bench/metrics.py [--events N]`."""

import argparse
import asyncio
import json
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.embedded import EmbeddedPostgres
from tracking.adapters.postgres.metrics import _AGGREGATE_WINDOW
from tracking.adapters.system import UuidV7Generator
from tracking.application.commands.calculate_metrics import CalculateMetrics
from tracking.application.principal import Principal
from tracking.bootstrap import Container, resolved, shut_down
from tracking.settings import Settings

WINDOW_START = datetime(2026, 1, 1, 4, 0, tzinfo=UTC)
ACTIONS = ["view", "click", "search", "checkout.completed", "signup"]
BY_HAND = _AGGREGATE_WINDOW.replace(
    "INSERT INTO user_activity_metrics", "INSERT INTO metrics_by_hand"
)


async def load(dsn: str, events: int, users: int) -> None:
    connection = await asyncpg.connect(dsn)
    ids, clients = UuidV7Generator(), [uuid.uuid4() for _ in range(10)]
    for chunk in range(0, events, 100_000):
        rows = []
        for i in range(chunk, min(events, chunk + 100_000)):
            at = WINDOW_START + timedelta(microseconds=i * 14_400_000_000 // events)
            user = random.randrange(users)  # noqa: S311
            rows.append((
                clients[user % 10], ids.new_id(), f"user-{user}", random.choice(ACTIONS),  # noqa: S311
                at, at, json.dumps({"n": i % 7}),
            ))  # fmt: skip
        await connection.copy_records_to_table(
            "events",
            records=rows,
            columns=[
                "client_id", "id", "user_id", "action", "occurred_at", "received_at", "metadata",
            ],
        )  # fmt: skip
    await connection.execute("ANALYZE events")
    await connection.close()


async def by_hand(dsn: str) -> float:
    connection = await asyncpg.connect(dsn)
    await connection.execute("DROP TABLE IF EXISTS metrics_by_hand")
    await connection.execute(
        "CREATE TABLE metrics_by_hand (LIKE user_activity_metrics INCLUDING ALL)"
    )
    end = WINDOW_START + timedelta(hours=4)
    started = time.perf_counter()
    async with connection.transaction():
        await connection.fetchrow(BY_HAND, 4, WINDOW_START, end, datetime.now(UTC))
    elapsed = time.perf_counter() - started
    await connection.close()
    return elapsed


async def by_command(url: str) -> tuple[float, int, int]:
    """The first attempt computes the window; later ones find it stale and recompute it
    (replacing its rows), as a late event would make them."""
    connection = await asyncpg.connect(url)
    await connection.execute("UPDATE metric_windows SET stale = true")
    await connection.close()
    container = Container(settings=Settings(storage="postgres", database_url=url))
    command = CalculateMetrics(
        actor=Principal.operator(),
        since=WINDOW_START,
        now=WINDOW_START + timedelta(hours=5),
    )
    handlers = await resolved(container.handlers())
    started = time.perf_counter()
    run = await handlers.calculate_metrics(command)
    elapsed = time.perf_counter() - started
    await shut_down(container)
    (window,) = run.computed
    return elapsed, window.users, window.events


def main(args: argparse.Namespace) -> None:
    server = EmbeddedPostgres(tempfile.mkdtemp(prefix="tracking-metrics-bench-"))
    url = server.start()
    try:
        migrations.upgrade(url)
        asyncio.run(load(url, args.events, args.users))
        results = []
        for attempt in (1, 2):
            hand = asyncio.run(by_hand(url))
            command, users, events = asyncio.run(by_command(url))
            results.append((attempt, command, hand, users, events))
    finally:
        server.stop()
    header = ("run", "command (whole run)", "INSERT ... SELECT by hand (asyncpg)", "ratio")
    print("| " + " | ".join((*header, "users", "events")) + " |")
    print("|---|---|---|---|---|---|")
    for attempt, command, hand, users, events in results:
        print(
            f"| {attempt} | {command:.2f} s | {hand:.2f} s | {command / hand:.2f} "
            f"| {users:,} | {events:,} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    main(parser.parse_args())
