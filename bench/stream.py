"""The live stream's benchmark: `tracking serve` (its defaults, with Redis) on a throwaway
PostgreSQL, and in other processes 50 subscribers and an ingester.

1. Latency: `POST /api/event` at a steady 2,000 events/s (open loop: each request leaves on
   schedule, whatever the answers do) while 50 subscribers listen. For each event and each
   subscriber, the time from the ingester's 201 (the commit is just before it; the feed is
   told before the caller is answered) to the subscriber reading it: p50 and p99.
2. Throughput: bench/load.py's 64 connections for `--seconds`, with the 50 subscribers
   listening and with none, alternating for `--rounds` (median and spread).

Usage: `uv run python bench/stream.py [--seconds 8] [--rounds 3] [--subscribers 50]
[--rate 2000]`. The 50 subscribers are one client's, so the service is told to allow 100
streams per client (5 by default). Subscribers parse only what they need (the event id), so
that 100,000 messages a second do not measure the reader."""

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import uvloop
from run import (
    event_body,
    free_port,
    http_request,
    load,
    process,
    register,
    service_env,
    skewed_user,
)

from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.embedded import EmbeddedPostgres

sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.redis_server import RedisServer

SUBSCRIBER_PROCESSES = 2
_ID = b'"id":"'


async def subscribe(
    port: int, key: str, seen: dict[str, list[float]], ready: asyncio.Semaphore
) -> None:
    """One subscriber: for each event id, when it was read (perf_counter, this machine's)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /api/events/stream HTTP/1.1\r\nHost: bench\r\nX-API-Key: {key}\r\n\r\n".encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    ready.release()
    while True:
        line = await reader.readline()
        if not line:
            return
        start = line.find(_ID)
        if line.startswith(b"data:") and start >= 0:
            event_id = line[start + 6 : start + 42].decode()
            seen.setdefault(event_id, []).append(time.perf_counter())


def subscribers(
    port: int, key: str, count: int, seconds: float, out: "multiprocessing.Queue[object]"
) -> None:
    async def run() -> None:
        seen: dict[str, list[float]] = {}
        ready = asyncio.Semaphore(0)
        tasks = [asyncio.create_task(subscribe(port, key, seen, ready)) for _ in range(count)]
        for _ in range(count):
            await ready.acquire()
        out.put("ready")
        await asyncio.sleep(seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        out.put(seen)

    uvloop.run(run())


def listening(
    port: int, key: str, count: int, seconds: float
) -> tuple[list[multiprocessing.Process], "multiprocessing.Queue[object]"]:
    out: multiprocessing.Queue[object] = multiprocessing.Queue()
    shares = [
        count // SUBSCRIBER_PROCESSES + (i < count % SUBSCRIBER_PROCESSES)
        for i in range(SUBSCRIBER_PROCESSES)
    ]
    children = [
        multiprocessing.Process(target=subscribers, args=(port, key, n, seconds, out))
        for n in shares
        if n
    ]
    for child in children:
        child.start()
    for _ in children:
        if out.get(timeout=60) != "ready":
            raise SystemExit("a subscriber process did not start")
    return children, out


async def paced(port: int, key: str, rate: int, seconds: float) -> dict[str, float]:
    """Events at `rate` a second from 20 connections; each event's 201 time by id."""
    acked: dict[str, float] = {}
    connections = 20
    interval = connections / rate

    async def one(offset: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        due = time.perf_counter() + offset
        until = time.perf_counter() + seconds
        while due < until:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            body = json.dumps(event_body(skewed_user(), datetime.now(UTC))).encode()
            writer.write(http_request("POST", "/api/event", key, body))
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            answer = json.loads(await reader.readexactly(length))
            if head[9:12] == b"201":
                acked[answer["id"]] = time.perf_counter()
            due += interval
        writer.close()

    await asyncio.gather(*(one(i * interval / connections) for i in range(connections)))
    return acked


def latency(args: argparse.Namespace, port: int, key: str) -> list[str]:
    children, out = listening(port, key, args.subscribers, args.seconds + 3)
    acked = uvloop.run(paced(port, key, args.rate, args.seconds))
    seen: dict[str, list[float]] = {}
    for _ in children:
        for event_id, times in out.get(timeout=120).items():  # type: ignore[union-attr]
            seen.setdefault(event_id, []).extend(times)
    for child in children:
        child.join()
    delays = [(t - acked[e]) * 1000 for e, times in seen.items() if e in acked for t in times]
    missing = sum(args.subscribers - len(seen.get(e, ())) for e in acked)
    cuts = statistics.quantiles(delays, n=100)
    return [
        (
            f"latency at {len(acked) / args.seconds:,.0f} events/s acknowledged, "
            f"{args.subscribers} subscribers: from the 201 to a subscriber reading it, "
            f"p50 {cuts[49]:.1f} ms, p99 {cuts[98]:.1f} ms, max {max(delays):.1f} ms "
            f"({len(delays):,} deliveries, {missing} expected ones not read in time)"
        )
    ]


def throughput(args: argparse.Namespace, port: int, key: str) -> list[str]:
    requests = [
        http_request(
            "POST",
            "/api/event",
            key,
            json.dumps(event_body(skewed_user(), datetime.now(UTC))).encode(),
        )
        for _ in range(2000)
    ]
    alone, watched = [], []
    for _ in range(args.rounds):
        alone.append(load(port, requests, 64, args.seconds)["per_second"])
        children, out = listening(port, key, args.subscribers, args.seconds + 2)
        watched.append(load(port, requests, 64, args.seconds)["per_second"])
        for _ in children:
            out.get(timeout=120)
        for child in children:
            child.join()
    ratios = [w / a for w, a in zip(watched, alone, strict=True)]
    return [
        (
            f"ingest, 64 connections: {_spread(alone)} events/s with no subscriber, "
            f"{_spread(watched)} with {args.subscribers}: ratio {_spread(ratios, 2)}"
        )
    ]


def _spread(values: list[float], digits: int = 0) -> str:
    middle = f"{statistics.median(values):,.{digits}f}"
    if len(values) == 1:
        return middle
    return f"{middle} ({min(values):,.{digits}f} to {max(values):,.{digits}f})"


def main(args: argparse.Namespace) -> None:
    data = Path(tempfile.mkdtemp(prefix="tracking-bench-stream-"))
    postgres = EmbeddedPostgres(str(data))
    url = postgres.start()
    migrations.upgrade(url)
    redis_server = RedisServer(data)
    port = free_port()
    env = {
        **service_env(url),
        "TRACKING_REDIS_URL": redis_server.url,
        "TRACKING_STREAM_MAX_PER_CLIENT": "100",
    }
    serve = [sys.executable, "-m", "tracking", "serve", "--port", str(port)]
    try:
        with process(serve, port, env):
            _, key = register(port)
            lines = latency(args, port, key) + throughput(args, port, key)
    finally:
        redis_server.stop()
        postgres.stop()
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--rate", type=int, default=2000)
    main(parser.parse_args())
