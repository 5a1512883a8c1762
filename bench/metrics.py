"""The metrics benchmark: one window of 1,000,000 events by ~100,000 users, computed by the
command beside the raw statement, in the same run on the same server, three rounds in turn.

Each round times, in this order:
- by hand: the window's `INSERT ... SELECT ... GROUP BY` through asyncpg into a fresh table with
  the same indexes (the database's own cost of producing the window's rows: the ceiling);
- the command's first computation (its tables emptied first);
- the command's recomputation after late events for 1% of the users (the usual reason a
  window is recomputed), and after being marked stale with nothing changed;
- by hand, the aggregation alone (`SELECT count(*)` over it): the floor any recomputation pays.
A warm-up round runs first, untimed, so no figure pays for a cold cache, and a checkpoint
before each timed step, so none pays for the writes the one before it left behind.

Usage: `uv run python bench/metrics.py [--events N] [--users N] [--rounds 3]`."""

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.embedded import EmbeddedPostgres
from tracking.adapters.system import UuidV7Generator
from tracking.application.commands.calculate_metrics import CalculateMetrics
from tracking.application.principal import Principal
from tracking.bootstrap import Container, resolved, shut_down
from tracking.settings import Settings

WINDOW_START = datetime(2026, 1, 1, 4, 0, tzinfo=UTC)
WINDOW_END = WINDOW_START + timedelta(hours=4)
ACTIONS = ["view", "click", "search", "checkout.completed", "signup"]
COLUMNS = ["client_id", "id", "user_id", "action", "occurred_at", "received_at", "metadata"]
CLIENTS = [uuid.uuid4() for _ in range(10)]
IDS = UuidV7Generator()

PER_USER = """
SELECT client_id, user_id, sum(n)::int AS event_count, count(*)::int AS distinct_actions,
       jsonb_object_agg(action, n) AS action_counts, min(first_at) AS first_event_at,
       max(last_at) AS last_event_at
FROM (
    SELECT client_id, user_id, action, count(*) AS n,
           min(occurred_at) AS first_at, max(occurred_at) AS last_at
    FROM events WHERE occurred_at >= $1 AND occurred_at < $2
    GROUP BY client_id, user_id, action
) per_action
GROUP BY client_id, user_id
"""
BY_HAND = f"""
INSERT INTO metrics_by_hand (
    client_id, window_hours, window_start, user_id, window_end, event_count, distinct_actions,
    action_counts, first_event_at, last_event_at, computed_at
)
SELECT client_id, 4, $1, user_id, $2, event_count, distinct_actions, action_counts,
       first_event_at, last_event_at, now()
FROM ({PER_USER}) per_user
"""  # noqa: S608 - fixed text
AGGREGATION_ONLY = f"SELECT count(*) FROM ({PER_USER}) per_user"  # noqa: S608 - fixed text


def rows(count: int, users: int, start: datetime, span: timedelta) -> list[tuple[object, ...]]:
    made: list[tuple[object, ...]] = []
    for i in range(count):
        at = start + span * i / count
        user = random.randrange(users)  # noqa: S311 - benchmark data
        action = random.choice(ACTIONS)  # noqa: S311
        made.append(
            (CLIENTS[user % 10], IDS.new_id(), f"user-{user}", action, at, at, json.dumps({}))
        )
    return made


async def load(dsn: str, events: int, users: int) -> None:
    connection = await asyncpg.connect(dsn)
    for chunk in range(0, events, 100_000):
        part = min(100_000, events - chunk)
        start = WINDOW_START + timedelta(hours=4) * chunk / events
        records = rows(part, users, start, timedelta(hours=4) * part / events)
        await connection.copy_records_to_table("events", records=records, columns=COLUMNS)
    await connection.execute("ANALYZE events")
    await connection.close()


async def late_events(dsn: str, users: int) -> None:
    """1% of the users did one more thing in the window, and it arrived late."""
    connection = await asyncpg.connect(dsn)
    late = rows(users // 100, users, WINDOW_START, timedelta(hours=4))
    await connection.copy_records_to_table("events", records=late, columns=COLUMNS)
    await connection.execute("UPDATE metric_windows SET stale = true")
    await connection.close()


async def timed(dsn: str, statement: str, *setup: str) -> float:
    connection = await asyncpg.connect(dsn)
    for step in (*setup, "CHECKPOINT"):
        await connection.execute(step)
    started = time.perf_counter()
    async with connection.transaction():
        await connection.execute(statement, WINDOW_START, WINDOW_END)
    elapsed = time.perf_counter() - started
    await connection.close()
    return elapsed


async def by_hand(dsn: str) -> float:
    return await timed(
        dsn,
        BY_HAND,
        "DROP TABLE IF EXISTS metrics_by_hand",
        "CREATE TABLE metrics_by_hand (LIKE user_activity_metrics INCLUDING ALL)",
    )


async def by_command(url: str, *setup: str) -> tuple[float, int, bool]:
    """The whole run, as the CronJob runs it: the run lock, the due-window lookup, the window's
    transaction. (Opening the container, which checks the schema, is not timed.)"""
    connection = await asyncpg.connect(url)
    for step in (*setup, "CHECKPOINT"):
        await connection.execute(step)
    await connection.close()
    container = Container(settings=Settings(storage="postgres", database_url=url))
    handlers = await resolved(container.handlers())
    command = CalculateMetrics(
        actor=Principal.operator(), since=WINDOW_START, now=WINDOW_END + timedelta(hours=1)
    )
    started = time.perf_counter()
    run = await handlers.calculate_metrics(command)
    elapsed = time.perf_counter() - started
    await shut_down(container)
    (window,) = run.computed
    return elapsed, window.users, window.recomputed


async def round_(url: str, users: int) -> dict[str, float]:
    figures = {"by hand": await by_hand(url)}
    first, _, recomputed = await by_command(url, "TRUNCATE user_activity_metrics, metric_windows")
    figures["first computation"] = first
    await late_events(url, users)
    figures["recomputation, 1% of users late"], _, again = await by_command(url)
    if recomputed or not again:
        raise SystemExit("the runs did not compute, then recompute, the window")
    figures["recomputation, nothing changed"], _, _ = await by_command(
        url, "UPDATE metric_windows SET stale = true"
    )
    figures["aggregation alone"] = await timed(url, AGGREGATION_ONLY)
    return figures


def main(args: argparse.Namespace) -> None:
    server = EmbeddedPostgres(tempfile.mkdtemp(prefix="tracking-metrics-bench-"))
    url = server.start()
    try:
        migrations.upgrade(url)
        asyncio.run(load(url, args.events, args.users))
        asyncio.run(round_(url, args.users))  # warm-up, untimed
        rounds = [asyncio.run(round_(url, args.users)) for _ in range(args.rounds)]
    finally:
        server.stop()
    print(f"{args.events:,} events, {args.users:,} users, one window; {args.rounds} rounds")
    print("| figure | median | spread | ratio to by hand (median of rounds) |")
    print("|---|---|---|---|")
    for name in rounds[0]:
        values = [r[name] for r in rounds]
        ratios = [r[name] / r["by hand"] for r in rounds]
        print(
            f"| {name} | {statistics.median(values):.2f} s | {min(values):.2f}-{max(values):.2f} s"
            f" | {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}) |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    main(parser.parse_args())
