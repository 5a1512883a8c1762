"""The live stream's benchmark: `tracking serve` (its defaults, with Redis) on a throwaway
PostgreSQL, and in other processes 50 subscribers and an ingester.

1. Latency: 2,000 events/s ingested in batches of 20 (`POST /api/events`, open loop: each
   request leaves on schedule, whatever the answers do) while 50 subscribers listen. For each
   event and each subscriber, the time from the ingester reading its answer (the commit is
   just before; the feed is told before the caller is answered) to the subscriber reading the
   event: p50 and p99. (Single events at 2,000/s would take the whole of this 2-core
   machine's service CPU before any subscriber: `bench/run.py` measures them.)
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
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
LAGGED = "lagged"
DELIVERED = "delivered"
_DATA = b"\ndata: "
_LAGGED = b"event: lagged"
_IDS = re.compile(rb'data: \{"id":"([0-9a-f-]{36})"')


async def subscribe(
    port: int, key: str, seen: dict[str, list[float]], ready: asyncio.Semaphore, *, timed: bool
) -> None:
    """One subscriber: for each event id, when it was read (perf_counter, this machine's).
    Reads what has come, whole, and finds the ids in it with one regular expression, in C.
    Not `timed`, it only counts the events (under DELIVERED): no Python per event, so that
    the benchmark's readers take as little as they can of the cores the service runs on."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /api/events/stream HTTP/1.1\r\nHost: bench\r\nX-API-Key: {key}\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"a subscriber was refused: {head.decode(errors='replace')}")
    ready.release()
    rest = b""
    while True:
        chunk = await reader.read(1 << 16)
        if not chunk:
            return
        now = time.perf_counter()
        text = rest + chunk
        cut = text.rfind(b"\n\n") + 2 if b"\n\n" in text else 0  # whole messages only
        if not timed:
            seen.setdefault(DELIVERED, [0.0])[0] += text.count(_DATA, 0, cut)
        else:
            for event_id in _IDS.findall(text, 0, cut):
                seen.setdefault(event_id.decode(), []).append(now)
        if _LAGGED in text:
            seen.setdefault(LAGGED, []).append(now)
        rest = text[cut:]


def subscribers(  # noqa: PLR0917 - a process's arguments
    port: int,
    key: str,
    count: int,
    stop: Any,
    out: "multiprocessing.Queue[object]",
    timed: bool,  # noqa: FBT001 - positional: a process target
) -> None:
    """`count` subscribers in this process, until `stop` (a multiprocessing Event) is set."""

    async def run() -> None:
        seen: dict[str, list[float]] = {}
        ready = asyncio.Semaphore(0)
        tasks = [
            asyncio.create_task(subscribe(port, key, seen, ready, timed=timed))
            for _ in range(count)
        ]
        for _ in range(count):
            await ready.acquire()
        out.put("ready")
        await asyncio.to_thread(stop.wait)
        await asyncio.sleep(1)  # what is on its way still counts
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        out.put(seen)

    uvloop.run(run())


class Listening:
    """`count` subscribers, over SUBSCRIBER_PROCESSES processes, all connected on entry."""

    def __init__(self, port: int, key: str, count: int, *, timed: bool = True) -> None:
        self._out: multiprocessing.Queue[object] = multiprocessing.Queue()
        self._stop = multiprocessing.Event()
        shares = [
            count // SUBSCRIBER_PROCESSES + (i < count % SUBSCRIBER_PROCESSES)
            for i in range(SUBSCRIBER_PROCESSES)
        ]
        self._children = [
            multiprocessing.Process(
                target=subscribers, args=(port, key, n, self._stop, self._out, timed)
            )
            for n in shares
            if n
        ]

    def __enter__(self) -> "Listening":
        for child in self._children:
            child.start()
        for _ in self._children:
            if self._out.get(timeout=60) != "ready":
                raise SystemExit("a subscriber process did not start")
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()

    def cpu(self) -> float:
        """CPU seconds the subscribers' processes used so far (while they run)."""
        return sum(_cpu(child.pid) for child in self._children if child.pid is not None)

    def seen(self) -> dict[str, list[float]]:
        """When each event was read, by each subscriber (after exit)."""
        merged: dict[str, list[float]] = {}
        for _ in self._children:
            got: dict[str, list[float]] = self._out.get(timeout=120)  # type: ignore[assignment]
            for event_id, times in got.items():
                merged.setdefault(event_id, []).extend(times)
        for child in self._children:
            child.join()
        return merged


async def paced(port: int, key: str, rate: int, seconds: float, batch: int) -> dict[str, float]:
    """Events at `rate` a second, in batches of `batch` (`POST /api/events`) sent on schedule
    from 16 connections; when each stored event's answer came, by id."""
    acked: dict[str, float] = {}
    connections = 16
    interval = connections * batch / rate

    async def one(offset: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        due = time.perf_counter() + offset
        until = due + seconds
        while due < until:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            now = datetime.now(UTC)
            events = [event_body(skewed_user(), now) for _ in range(batch)]
            writer.write(
                http_request("POST", "/api/events", key, json.dumps({"events": events}).encode())
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            answer = json.loads(await reader.readexactly(length))
            answered = time.perf_counter()
            for item in answer["results"]:
                if item["status"] == "stored":
                    acked[item["id"]] = answered
            due += interval
        writer.close()

    await asyncio.gather(*(one(i * interval / connections) for i in range(connections)))
    return acked


def latency(args: argparse.Namespace, port: int, key: str) -> list[str]:
    listening = Listening(port, key, args.subscribers)
    with listening:
        started = time.perf_counter()
        acked = uvloop.run(paced(port, key, args.rate, args.seconds, args.batch))
        elapsed = time.perf_counter() - started
    seen = listening.seen()
    lagged = len(seen.pop(LAGGED, []))
    delays = [(t - acked[e]) * 1000 for e, times in seen.items() if e in acked for t in times]
    missing = sum(args.subscribers - len(seen.get(e, ())) for e in acked)
    cuts = statistics.quantiles(delays, n=100)
    return [
        (
            f"latency at {len(acked) / elapsed:,.0f} events/s acknowledged (asked: "
            f"{args.rate:,}, in batches of {args.batch}), {args.subscribers} subscribers: "
            f"from the answer to a subscriber reading it, p50 {cuts[49]:.1f} ms, "
            f"p99 {cuts[98]:.1f} ms, max {max(delays):.1f} ms "
            f"({len(delays):,} deliveries; {missing:,} expected ones not read; "
            f"{lagged} subscribers lagged and were ended)"
        )
    ]


def throughput(args: argparse.Namespace, port: int, key: str, server: int) -> list[str]:
    """Also the service's own CPU per event stored (its process only), which the subscribers'
    reading processes, on the same cores, do not count in."""
    requests = [
        http_request(
            "POST",
            "/api/event",
            key,
            json.dumps(event_body(skewed_user(), datetime.now(UTC))).encode(),
        )
        for _ in range(2000)
    ]
    alone, watched, cpu_alone, cpu_watched, readers = [], [], [], [], []
    kernel_alone: list[float] = []
    kernel_watched: list[float] = []
    delivered = expected = 0
    for _ in range(args.rounds):
        before, kernel = _cpu(server), _cpu_split(server)[1]
        result = load(port, requests, 64, args.seconds)
        alone.append(result["per_second"])
        cpu_alone.append((_cpu(server) - before) / result["requests"] * 1e6)
        kernel_alone.append((_cpu_split(server)[1] - kernel) / result["requests"] * 1e6)
        listening = Listening(port, key, args.subscribers, timed=False)
        with listening:
            before, reading, kernel = _cpu(server), listening.cpu(), _cpu_split(server)[1]
            result = load(port, requests, 64, args.seconds)
            cpu_watched.append((_cpu(server) - before) / result["requests"] * 1e6)
            kernel_watched.append((_cpu_split(server)[1] - kernel) / result["requests"] * 1e6)
            readers.append((listening.cpu() - reading) / args.seconds)
            watched.append(result["per_second"])
        delivered += int(sum(listening.seen().get(DELIVERED, [])))
        expected += args.subscribers * int(result["statuses"].get("201", 0))
    ratios = [w / a for w, a in zip(watched, alone, strict=True)]
    costs = [a / w for a, w in zip(cpu_alone, cpu_watched, strict=True)]
    return [
        (
            f"ingest, 64 connections: {_spread(alone)} events/s with no subscriber, "
            f"{_spread(watched)} with {args.subscribers}: ratio {_spread(ratios, 2)}"
        ),
        (
            f"the service's CPU per event stored: {_spread(cpu_alone)} us with no subscriber, "
            f"{_spread(cpu_watched)} us with {args.subscribers} (each event sent to all of "
            f"them): ratio {_spread(costs, 2)}; of which in the kernel {_spread(kernel_alone)}"
            f" and {_spread(kernel_watched)} us"
        ),
        (
            f"the subscribers' processes (the benchmark's, on the same cores): "
            f"{_spread(readers, 2)} cores; {delivered:,} events read of the {expected:,} stored"
            " while they listened, times the subscribers"
        ),
    ]


def _cpu(pid: int) -> float:
    """CPU seconds (user and system) the process used so far."""
    return sum(_cpu_split(pid))


def _cpu_split(pid: int) -> tuple[float, float]:
    """CPU seconds the process used so far, in user space and in the kernel."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


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
        with process(serve, port, env) as server:
            _, key = register(port)
            lines = latency(args, port, key) + throughput(args, port, key, server.pid)
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
    parser.add_argument("--batch", type=int, default=20, help="events per ingest request")
    main(parser.parse_args())
