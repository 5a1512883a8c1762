"""The stats benchmark: one client with 1,000,000 events in one day among 100,000 users.

Each round times, on the same server:
- by hand: the day's statement (`adapters/postgres/stats_reads.py: DAY`) through asyncpg,
  with the engine's settings (the ceiling of an uncached answer);
- `GET /api/stats/daily` of that day, uncached (Redis emptied before each request);
- `GET /api/stats/daily` cached, one keep-alive connection for `--seconds` (bench/load.py),
  beside `GET /api/clients/me` (the same authentication and limits, no stats).
A warm-up runs first, untimed. The day's events are interleaved with `--others` events of
other clients that day, as concurrent tenants leave them in a table's pages. Then the use
case alone, answered from Redis; then what the stats cost ingest: the covering index beside
the index it replaced, 1000-event batches inserted with the service's statement in
alternating rounds, and the check a stored event pays. `--explain` prints the day's plan
with either index.

Usage: `uv run python bench/stats.py [--events N] [--users N] [--others N] [--rounds 3]
[--seconds 5] [--explain]`."""

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
import timeit
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import redis
from run import ADMIN_KEY, free_port, http_request, load, process, register

sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.redis_server import RedisServer

from tracking.adapters.memory.cache import InMemoryCache
from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.embedded import EmbeddedPostgres
from tracking.adapters.postgres.events import INSERT_EVENTS, batch_document
from tracking.adapters.postgres.stats_reads import DAY
from tracking.adapters.system import UuidV7Generator
from tracking.application.answer_cache import AnswerCache
from tracking.application.commands.record_events import CheckedBatch
from tracking.application.principal import Principal
from tracking.application.queries.daily_stats import DailyStats
from tracking.bootstrap import Container, resolved, shut_down
from tracking.domain.events import Event
from tracking.domain.privacy import UserHashKey
from tracking.settings import Settings

DATE = "2026-01-15"
START = datetime(2026, 1, 15, tzinfo=UTC)
END = START + timedelta(days=1)
ACTIONS = ["view", "click", "search", "checkout.completed", "signup", "login", "logout"]
ACTIONS += ["share", "like", "comment", "scroll", "open"]
COLUMNS = ["client_id", "id", "user_id", "action", "occurred_at", "received_at", "metadata"]
IDS = UuidV7Generator()
USER_HASHES = UserHashKey.random()
COVERING = "CREATE INDEX {name} ON events (client_id, occurred_at, id) INCLUDE (user_id, action)"
PLAIN = "CREATE INDEX {name} ON events (client_id, occurred_at, id)"
INDEX = "ix_events_client_id_occurred_at_id"


def metadata() -> str:
    draw = random.random()  # noqa: S311 - benchmark data
    if draw < 0.7:  # noqa: PLR2004
        return json.dumps({"path": f"/p/{random.randrange(300)}", "ab": "b"})  # noqa: S311
    if draw < 0.85:  # noqa: PLR2004
        return json.dumps({"page": f"/x/{random.randrange(50)}"})  # noqa: S311
    return "{}"


def rows(owners: list[uuid.UUID], count: int, users: int, start: datetime, span: timedelta) -> list:
    """`count` events over `span` from `start`, their clients taken in turn from `owners`."""
    made = []
    for i in range(count):
        at = start + span * i / count
        user = f"user-{random.randrange(users)}"  # noqa: S311
        owner = owners[i % len(owners)]
        made.append((owner, IDS.new_id(), user, random.choice(ACTIONS), at, at, metadata()))  # noqa: S311
    return made


async def load_day(url: str, client_id: uuid.UUID, events: int, users: int, others: int) -> None:
    """The day's events by COPY, in time order, a tenth of the day at a time, interleaved
    with `others` events of other clients that day, as concurrent tenants leave them in the
    table's pages (so reading one client's rows of a day reads pages shared with others)."""
    connection = await asyncpg.connect(url)
    share = max(1, round((events + others) / events))
    owners = [client_id] + [uuid.uuid4() for _ in range(share - 1)]
    total = events * share
    for part in range(10):
        start = START + timedelta(hours=2.4 * part)
        batch = rows(owners, total // 10, users, start, timedelta(hours=2.4))
        await connection.copy_records_to_table("events", records=batch, columns=COLUMNS)
    # What autovacuum does soon after a load; an index-only scan needs the visibility map.
    await connection.execute("VACUUM ANALYZE events")
    await connection.close()


async def by_hand(url: str, client_id: uuid.UUID, times: int) -> list[float]:
    connection = await asyncpg.connect(
        url, server_settings={"plan_cache_mode": "force_custom_plan"}
    )
    taken = []
    for _ in range(times):
        started = time.perf_counter()
        await connection.fetchrow(DAY, client_id, START, END, 10)
        taken.append(time.perf_counter() - started)
    await connection.close()
    return taken


def uncached(port: int, key: str, redis_url: str, times: int) -> list[float]:
    taken = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        for _ in range(times):
            redis.Redis.from_url(redis_url).flushdb()
            started = time.perf_counter()
            answer = client.get(
                "/api/stats/daily", params={"date": DATE}, headers={"X-API-Key": key}
            )
            taken.append(time.perf_counter() - started)
            answer.raise_for_status()
    return taken


def cached(port: int, key: str, seconds: float, path: str) -> dict[str, float]:
    request = http_request("GET", path, key)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:  # kept once, untimed
        client.get("/api/stats/daily", params={"date": DATE}, headers={"X-API-Key": key})
    return load(port, [request], 1, seconds)


async def explain(url: str, client_id: uuid.UUID) -> None:
    connection = await asyncpg.connect(url)
    for label, index in (("covering index (0006)", COVERING), ("the index it replaced", PLAIN)):
        await swap_index(connection, index)
        plan = await connection.fetch(
            f"EXPLAIN (ANALYZE, BUFFERS) {DAY}", client_id, START, END, 10
        )
        print(f"\n-- {label}\n" + "\n".join(row[0] for row in plan))
    await swap_index(connection, COVERING)
    await connection.close()


async def swap_index(connection: asyncpg.Connection, definition: str) -> None:
    await connection.execute(definition.format(name=f"{INDEX}_next"))
    await connection.execute(f"DROP INDEX {INDEX}")
    await connection.execute(f"ALTER INDEX {INDEX}_next RENAME TO {INDEX}")
    await connection.execute("VACUUM ANALYZE events")


async def insert_rate(url: str, batches: int) -> float:
    """Events per second, 1000-event batches through the service's own INSERT, each its own
    transaction, one connection."""
    connection = await asyncpg.connect(url)
    client_id = uuid.uuid4()
    documents = []
    for _ in range(batches):
        now = datetime.now(UTC)
        users = [f"u{random.randrange(10**5)}" for _ in range(1000)]  # noqa: S311
        made = [Event(IDS.new_id(), client_id, u, "view", now, now, metadata()) for u in users]
        documents.append(batch_document(made, USER_HASHES))
    started = time.perf_counter()
    for document in documents:
        await connection.execute(INSERT_EVENTS, document)
    elapsed = time.perf_counter() - started
    await connection.close()
    return batches * 1000 / elapsed


async def index_cost(url: str, rounds: int) -> list[str]:
    connection = await asyncpg.connect(url)
    rates: dict[str, list[float]] = {"covering": [], "plain": []}
    order = [("plain", PLAIN), ("covering", COVERING)]
    for round_ in range(rounds):
        for name, definition in order if round_ % 2 == 0 else order[::-1]:
            await swap_index(connection, definition)
            await connection.execute("CHECKPOINT")
            rates[name].append(await insert_rate(url, 200))
    await swap_index(connection, COVERING)
    sizes = await connection.fetchval(f"SELECT pg_relation_size('{INDEX}')")
    await connection.close()
    ratio = [c / p for c, p in zip(rates["covering"], rates["plain"], strict=True)]
    return [
        (
            f"| insert, 1000-event batches, covering index | {spread(rates['covering'], 0)} "
            f"events/s | plain index: {spread(rates['plain'], 0)} events/s | {spread(ratio, 2)} |"
        ),
        f"covering index size after the runs: {sizes / 2**20:.0f} MiB",
    ]


def invalidation_check() -> str:
    """What storing a live event pays for the stats: the stored events picked from the batch
    and `forget_late`'s check, which makes no
    cache call for an event of the current hour (run to completion without a loop: it never
    suspends then), beside a coroutine that does nothing."""
    answers = AnswerCache(
        InMemoryCache(max_entries=10),
        namespace="stats",
        open_ttl=15,
        settled_ttl=60,
        guard_seconds=60,
    )
    now = datetime.now(UTC)
    batch = CheckedBatch()
    batch.accept(0, Event(IDS.new_id(), uuid.uuid4(), "u", "view", now, now, "{}"))

    async def nothing() -> None:
        return None

    def run(coroutine: Coroutine[None, None, None]) -> None:
        with contextlib.suppress(StopIteration):
            coroutine.send(None)

    n = 200_000
    check = min(
        timeit.repeat(lambda: run(answers.forget_late(batch.stored(), now)), number=n, repeat=5)
    )
    bare = min(timeit.repeat(lambda: run(nothing()), number=n, repeat=5))
    cost = (check - bare) / n * 1e6
    return f"what a live event's write adds for the stats (no cache call): {cost:.2f} us"


async def handler_hits(settings: Settings, client_id: uuid.UUID, times: int) -> str:
    """The use case alone, answered from Redis: what the route adds to auth and limits."""
    container = Container(settings=settings)
    handlers = await resolved(container.handlers())
    query = DailyStats(actor=Principal.operator(), client_id=client_id, date=DATE)
    await handlers.daily_stats(query)
    taken = []
    for _ in range(times):
        started = time.perf_counter()
        await handlers.daily_stats(query)
        taken.append(time.perf_counter() - started)
    await shut_down(container)
    taken.sort()
    return (
        f"DailyStats answered from Redis, in process: p50 {taken[len(taken) // 2] * 1e6:.0f} us,"
        f" p99 {taken[int(len(taken) * 0.99)] * 1e6:.0f} us"
    )


def spread(values: list[float], digits: int) -> str:
    middle = f"{statistics.median(values):,.{digits}f}"
    return f"{middle} ({min(values):,.{digits}f} to {max(values):,.{digits}f})"


def main(args: argparse.Namespace) -> None:
    data = Path(tempfile.mkdtemp(prefix="tracking-bench-stats-"))
    postgres = EmbeddedPostgres(str(data))
    url = postgres.start()
    migrations.upgrade(url)
    redis_server = RedisServer(data)
    env = {
        "TRACKING_DATABASE_URL": url,
        "TRACKING_REDIS_URL": redis_server.url,
        "TRACKING_ADMIN_API_KEY": ADMIN_KEY,
        "TRACKING_JWT_SECRET": "b" * 48,
        "TRACKING_LOG_LEVEL": "WARNING",
        "TRACKING_DB_STATEMENT_TIMEOUT_MS": "60000",
    }
    port = free_port()
    lines = []
    try:
        with process([sys.executable, "-m", "tracking", "serve", "--port", str(port)], port, env):
            client_id, key = register(port)
            print(f"loading {args.events:,} events ...", file=sys.stderr)
            asyncio.run(load_day(url, client_id, args.events, args.users, args.others))
            if args.explain:
                asyncio.run(explain(url, client_id))
            asyncio.run(by_hand(url, client_id, 1))  # warm-up
            uncached(port, key, redis_server.url, 1)
            hand, ours, p50, p99, me50, me99 = [], [], [], [], [], []
            for round_ in range(args.rounds):
                print(f"round {round_ + 1} ...", file=sys.stderr)
                hand.append(statistics.median(asyncio.run(by_hand(url, client_id, 5))))
                ours.append(statistics.median(uncached(port, key, redis_server.url, 5)))
                hot = cached(port, key, args.seconds, f"/api/stats/daily?date={DATE}")
                p50.append(hot["p50_ms"])
                p99.append(hot["p99_ms"])
                me = cached(port, key, args.seconds, "/api/clients/me")
                me50.append(me["p50_ms"])
                me99.append(me["p99_ms"])
            ratios = [o / h for o, h in zip(ours, hand, strict=True)]
            lines.append(
                f"| `GET /api/stats/daily`, uncached, {args.events:,} events, "
                f"{args.users:,} users | {spread([o * 1000 for o in ours], 0)} ms | "
                f"the same SQL through asyncpg: {spread([h * 1000 for h in hand], 0)} ms | "
                f"{spread(ratios, 2)} |"
            )
            lines.append(
                f"| `GET /api/stats/daily`, cached (Redis), 1 connection | p50 {spread(p50, 2)} ms,"
                f" p99 {spread(p99, 2)} ms | `GET /api/clients/me` (the same auth and limits, "
                f"no stats): p50 {spread(me50, 2)} ms, p99 {spread(me99, 2)} ms | |"
            )
        settings = Settings(storage="postgres", database_url=url, redis_url=redis_server.url)
        lines.append(asyncio.run(handler_hits(settings, client_id, 5000)))
        print("ingest: the covering index beside the plain one ...", file=sys.stderr)
        lines += asyncio.run(index_cost(url, args.rounds))
        lines.append(invalidation_check())
    finally:
        redis_server.stop()
        postgres.stop()
    print(f"{args.rounds} rounds; median (min to max)")
    print("| figure | tracking | baseline (same run, same server) | ratio |")
    print("|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument(
        "--others", type=int, default=3_000_000, help="other clients' events of the same day"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5, help="per cached measurement")
    parser.add_argument("--explain", action="store_true", help="print the day's plans")
    main(parser.parse_args())
