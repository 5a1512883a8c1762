"""Where a single `POST /api/event` spends its time: py-spy samples `tracking serve` (every
worker) under bench/load.py's load and prints the functions with the most samples, by their
own time and by the time under them. Usage: `uv run python bench/spy.py [--seconds 10]
[--workers 1] [--top 25] [--flame out.svg] [--subscribers 0]`.

Runs as bench/run.py's single-event rounds do: a throwaway PostgreSQL and Redis, the service
with its defaults (limits counted in that Redis), 64 connections. The service runs at a
fraction of its speed while it is sampled (py-spy stops nothing, but it shares the two
cores): read the shares, not the rate. With `--subscribers N`, N live-stream subscribers
listen all along (bench/stream.py's), so the profile shows what they cost."""

import argparse
import collections
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from run import free_port, load, process, register, service_env, single_requests
from stream import Listening

from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.embedded import EmbeddedPostgres

sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.redis_server import RedisServer


def summary(raw: Path, top: int) -> list[str]:
    """py-spy's raw output is one collapsed stack per line (`frame;frame;... count`)."""
    own: collections.Counter[str] = collections.Counter()
    under: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        frames = [f for f in stack.split(";") if f and not f.startswith("process ")]
        if not frames:
            continue
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            under[frame] += samples
    lines = [f"{total:,} samples", "", "own time:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "time under (own and callees'):"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in under.most_common(top)]
    return lines


def cpu_seconds(service: set[int]) -> dict[int, tuple[str, float]]:
    """Each process's kind (`service` for the pids given, else its name) and the CPU seconds
    it used so far (user and system)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        pid = int(stat.parent.name)
        name = text[text.index("(") + 1 : text.rindex(")")]
        kind = "service" if pid in service else "postgres" if name.startswith("postgres") else name
        fields = text[text.rindex(")") + 2 :].split()
        used[pid] = (kind, (int(fields[11]) + int(fields[12])) / tick)
    return used


def cpu_shares(
    before: dict[int, tuple[str, float]], service: set[int], seconds: float
) -> dict[str, float]:
    """Cores used, by kind of process, between `before` and now."""
    by_kind: collections.Counter[str] = collections.Counter()
    for pid, (kind, used) in cpu_seconds(service).items():
        by_kind[kind] += used - before.get(pid, (kind, 0.0))[1]
    return {kind: used / seconds for kind, used in by_kind.most_common(6)}


def tree(pid: int) -> set[int]:
    """`serve` and the worker processes it started."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {pid, *map(int, children)}


def resident(pid: int) -> list[str]:
    """The resident memory of `serve` and of each worker it started."""
    sizes = []
    for each in sorted(tree(pid)):
        status = Path(f"/proc/{each}/status").read_text()
        kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        sizes.append(f"pid {each} {int(kib) / 1024:.0f} MB")
    return sizes


def main(args: argparse.Namespace) -> None:
    data = Path(tempfile.mkdtemp(prefix="tracking-profile-"))
    server = EmbeddedPostgres(str(data))
    url = server.start()
    migrations.upgrade(url)
    redis_server = RedisServer(data)  # limits counted in Redis, as bench/run.py counts them
    env = service_env(url, redis_server.url)
    if args.subscribers:
        env["TRACKING_STREAM_MAX_PER_CLIENT"] = str(args.subscribers)
    port = free_port()
    serve = [sys.executable, "-m", "tracking", "serve", "--port", str(port)]
    serve += ["--workers", str(args.workers)]
    raw = data / "profile.txt"
    try:
        with process(serve, port, env) as child, contextlib.ExitStack() as listening:
            _, key = register(port)
            if args.subscribers:
                subscribers = Listening(port, key, args.subscribers)
                listening.callback(subscribers.seen)  # after they stop: they hand it over
                listening.enter_context(subscribers)
            singles = single_requests(key)
            load(port, singles, 64, 2)  # warm up: pools opened, caches filled
            service = tree(child.pid)
            before = cpu_seconds(service)
            rate = load(port, singles, 64, args.seconds)
            print(f"unsampled: {rate['per_second']:,.0f} events/s, p99 {rate['p99_ms']:.1f} ms")
            shares = cpu_shares(before, service, args.seconds)
            print("\n".join(f"{cores:5.2f} cores  {kind}" for kind, cores in shares.items()))
            per_request = shares.get("service", 0.0) * 1e6 / rate["per_second"]
            print(f"service CPU per request: {per_request:.0f} us")
            print("RSS after the load: " + ", ".join(resident(child.pid)))
            spy = ["py-spy", "record", "--pid", str(child.pid), "--subprocesses"]
            spy += ["--rate", "250", "--duration", str(int(args.seconds)), "--nonblocking"]
            recorders = [
                subprocess.Popen([*spy, "--format", "raw", "--output", str(raw)]),  # noqa: S603
            ]
            if args.flame:
                flame = [*spy, "--format", "flamegraph", "--output", args.flame]
                recorders.append(subprocess.Popen(flame))  # noqa: S603
            driven = threading.Thread(target=load, args=(port, singles, 64, args.seconds + 1))
            driven.start()
            for recorder in recorders:
                recorder.wait()
            driven.join()
    finally:
        redis_server.stop()
        server.stop()
    print("\n".join(summary(raw, args.top)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--flame", help="also write a flame graph (SVG) here")
    parser.add_argument("--subscribers", type=int, default=0, help="live-stream subscribers")
    main(parser.parse_args())
