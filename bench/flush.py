"""What a group-commit flush costs, client and server CPU, as one statement by itself (how the
service stores a flush with no late event) beside the same statement in a transaction (a
flush with a late event, and how every flush was stored before 2026-12-04). One connection,
flushes of 30 events of 20 users, `synchronous_commit=off` so the disk is not what is
measured. The server's CPU is its backend's, from /proc. Usage: `uv run python
bench/flush.py [--flushes 1000] [--rounds 5]`."""

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.embedded import EmbeddedPostgres
from tracking.adapters.postgres.events import INSERT_EVENTS, batch_document
from tracking.adapters.system import UuidV7Generator
from tracking.domain.events import Event
from tracking.domain.privacy import UserHashKey

IDS = UuidV7Generator()
KEY = UserHashKey.random()
EVENTS = 30


def backend_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().split()
    return (int(fields[13]) + int(fields[14])) / 100  # utime + stime, in clock ticks


def flush_of(client: uuid.UUID) -> list[Event]:
    now = datetime.now(UTC)
    return [
        Event(IDS.new_id(), client, f"u{i % 20}", "view", now, now, "{}") for i in range(EVENTS)
    ]


async def measure(dsn: str, args: argparse.Namespace) -> dict[str, list[tuple[float, float]]]:
    connection = await asyncpg.connect(dsn)
    await connection.execute("SET synchronous_commit = off")
    pid = await connection.fetchval("SELECT pg_backend_pid()")
    client = uuid.uuid4()

    async def alone(events: list[Event]) -> None:
        await connection.fetch(INSERT_EVENTS, batch_document(events, KEY))

    async def in_transaction(events: list[Event]) -> None:
        async with connection.transaction():
            await connection.fetch(INSERT_EVENTS, batch_document(events, KEY))

    ways = {"one statement": alone, "in a transaction": in_transaction}
    for way in ways.values():  # warm-up: statements prepared, caches filled
        for _ in range(200):
            await way(flush_of(client))
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    for round_ in range(args.rounds):
        for name, way in ways.items() if round_ % 2 == 0 else reversed(ways.items()):
            flushes = [flush_of(client) for _ in range(args.flushes)]
            server, ours = backend_seconds(pid), time.process_time()
            for events in flushes:
                await way(events)
            results[name].append(
                (
                    (time.process_time() - ours) / args.flushes * 1e6,
                    (backend_seconds(pid) - server) / args.flushes * 1e6,
                )
            )
    await connection.close()
    return results


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f} to {max(values):.0f})"


def main(args: argparse.Namespace) -> None:
    server = EmbeddedPostgres(str(Path(tempfile.mkdtemp(prefix="tracking-flush-")) / "pg"))
    url = server.start()
    try:
        migrations.upgrade(url)
        results = asyncio.run(measure(url.replace("postgresql+asyncpg", "postgresql"), args))
    finally:
        server.stop()
    print(f"{EVENTS}-event flushes, {args.flushes:,} a round, {args.rounds} rounds: us a flush")
    print("| flush | client CPU | server CPU |")
    print("|---|---|---|")
    for name, rounds in results.items():
        print(f"| {name} | {spread([r[0] for r in rounds])} | {spread([r[1] for r in rounds])} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flushes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    main(parser.parse_args())
