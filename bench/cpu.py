"""The service's own CPU per single `POST /api/event`, measured in process: the app is called
as the ASGI server calls it, by 64 concurrent tasks, and the process's CPU time (which leaves
out PostgreSQL's, and the HTTP parser's) is divided by the requests answered. Far steadier
than a rate on a shared machine, so use it to compare one change with the next; bench/run.py
gives the figures the issue asks for. Usage: `uv run python bench/cpu.py [--requests 20000]
[--storage postgres|memory] [--rounds 3] [--profile out.prof] [--no-redis]`. Limits are
counted in a Redis of its own, as bench/run.py's service counts them."""

import argparse
import asyncio
import cProfile
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar
from run import ADMIN_KEY, event_body, skewed_user

from tracking.adapters.group_commit import FLUSH_EVENTS
from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.embedded import EmbeddedPostgres
from tracking.bootstrap.container import Container
from tracking.entrypoints.http.app import create_app
from tracking.entrypoints.server import tune_gc
from tracking.settings import Settings

sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.redis_server import RedisServer

TASKS = 64
CREATED = 201


def scope_of(key: str, body: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/event",
        "raw_path": b"/api/event",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"x-api-key", key.encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(app: Litestar, key: str, body: bytes) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope_of(key, body), receive, send)  # type: ignore[arg-type]
    return status


async def round_of(app: Litestar, key: str, requests: int) -> float:
    """CPU seconds per request over `requests` requests from TASKS tasks."""
    now = datetime.now(UTC)
    bodies = [json.dumps(event_body(skewed_user(), now)).encode() for _ in range(requests)]
    statuses: list[int] = []

    async def worker(share: list[bytes]) -> None:
        statuses.extend([await call(app, key, body) for body in share])

    started = time.process_time()
    await asyncio.gather(*(worker(bodies[i::TASKS]) for i in range(TASKS)))
    used = time.process_time() - started
    wrong = [s for s in statuses if s != CREATED]
    if wrong:
        raise SystemExit(f"{len(wrong)} answers were not 201: {sorted(set(wrong))}")
    return used / requests


def flushes() -> tuple[float, float]:
    """The group commit's flushes so far: events stored, and transactions."""
    samples = {s.name: s.value for m in FLUSH_EVENTS.collect() for s in m.samples}
    return samples["tracking_group_commit_events_sum"], samples[
        "tracking_group_commit_events_count"
    ]


async def measure(settings: Settings, args: argparse.Namespace) -> tuple[list[float], float]:
    container = Container(settings=settings)
    app = create_app(container)
    tune_gc()  # as each worker of `serve` does (asgi.py): the collector's settings are ours
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://x") as http:
        answer = await http.post(
            "/api/clients",
            headers={"X-API-Key": ADMIN_KEY},
            json={"name": "cpu", "rate_limit_per_minute": 1_000_000, "events_per_minute": 10**7},
        )
        key = answer.json()["api_key"]
        await round_of(app, key, 2000)  # warm-up
        profiler = cProfile.Profile() if args.profile else None
        results = []
        stored, flushed = flushes()
        for _ in range(args.rounds):
            if profiler:
                profiler.enable()
            results.append(await round_of(app, key, args.requests))
            if profiler:
                profiler.disable()
        if profiler:
            profiler.dump_stats(args.profile)
        stored_after, flushed_after = flushes()
        return results, (stored_after - stored) / max(flushed_after - flushed, 1)


def main(args: argparse.Namespace) -> None:
    common: dict[str, Any] = {"admin_api_key": ADMIN_KEY, "jwt_secret": "b" * 48}
    server = None
    data = Path(tempfile.mkdtemp(prefix="tracking-cpu-"))
    redis_server = RedisServer(data) if args.redis else None
    if redis_server is not None:
        common["redis_url"] = redis_server.url
    if args.storage == "memory":
        settings = Settings(storage="memory", **common)
    else:
        server = EmbeddedPostgres(str(data / "postgres"))
        url = server.start()
        migrations.upgrade(url)
        settings = Settings(storage="postgres", database_url=url, db_pool_size=20, **common)
    try:
        results, per_flush = asyncio.run(measure(settings, args))
    finally:
        if server is not None:
            server.stop()
        if redis_server is not None:
            redis_server.stop()
    micros = [r * 1e6 for r in results]
    print(
        f"{args.storage}{', redis' if args.redis else ''}: "
        f"{statistics.median(micros):.0f} us of CPU per request "
        f"({min(micros):.0f} to {max(micros):.0f}), {args.rounds} rounds of {args.requests:,}; "
        f"{per_flush:.1f} events a flush"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--storage", choices=["postgres", "memory"], default="postgres")
    parser.add_argument("--profile", help="write a cProfile of the timed rounds here")
    parser.add_argument(
        "--no-redis",
        dest="redis",
        action="store_false",
        help="count limits in the process, not in a Redis of its own (as served)",
    )
    main(parser.parse_args())
