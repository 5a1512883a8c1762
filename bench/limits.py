"""What enforcing rate limits through Redis costs: `POST /api/event` at 64 connections with
every request counted in Redis (limits high enough never to refuse), beside the same server
with limits off, in alternating rounds on the same PostgreSQL; and how many Redis round trips
each request took. Usage: `uv run python bench/limits.py [--seconds 8] [--rounds 3]`."""

import argparse
import json
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import redis
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

sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.redis_server import RedisServer

from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.embedded import EmbeddedPostgres


def script_calls(url: str) -> int:
    """Commands that ran a script (the limiter's one call per decision) since Redis started."""
    stats = redis.Redis.from_url(url).info("commandstats")
    return sum(
        int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval")
    )


def commands(url: str) -> int:
    """Commands sent by clients (those run inside a script are not round trips)."""
    stats = redis.Redis.from_url(url).info("commandstats")
    inside = ("cmdstat_get", "cmdstat_incrby", "cmdstat_expire")
    return sum(int(v["calls"]) for k, v in stats.items() if k not in inside)


def main(args: argparse.Namespace) -> None:
    print("\n".join(measure(args.seconds, args.rounds)))


def measure(seconds: float, rounds: int) -> list[str]:
    data = Path(tempfile.mkdtemp(prefix="tracking-bench-limits-"))
    postgres = EmbeddedPostgres(str(data))
    url = postgres.start()
    migrations.upgrade(url)
    redis_server = RedisServer(data)
    env = {
        "TRACKING_DATABASE_URL": url,
        "TRACKING_ADMIN_API_KEY": ADMIN_KEY,
        "TRACKING_JWT_SECRET": "b" * 48,
        "TRACKING_LOG_LEVEL": "WARNING",
    }
    on, off = free_port(), free_port()
    serve = [sys.executable, "-m", "tracking", "serve", "--port"]
    now = datetime.now(UTC)
    pairs = []
    try:
        with (
            process([*serve, str(on)], on, {**env, "TRACKING_REDIS_URL": redis_server.url}),
            process([*serve, str(off)], off, {**env, "TRACKING_RATE_LIMITS": "false"}),
        ):
            _, key_on = register(on)
            _, key_off = register(off)
            body = [json.dumps(event_body(skewed_user(), now)).encode() for _ in range(2000)]
            limited = [http_request("POST", "/api/event", key_on, b) for b in body]
            unlimited = [http_request("POST", "/api/event", key_off, b) for b in body]
            for round_ in range(rounds):
                print(f"round {round_ + 1} ...", file=sys.stderr)
                scripts, everything = script_calls(redis_server.url), commands(redis_server.url)
                ours = load(on, limited, 64, seconds)
                scripts = script_calls(redis_server.url) - scripts
                everything = commands(redis_server.url) - everything - 3  # our own INFO calls
                bare = load(off, unlimited, 64, seconds)
                pairs.append((ours, bare, scripts, everything))
    finally:
        redis_server.stop()
        postgres.stop()
    requests = [o["requests"] for o, _, _, _ in pairs]
    lines = ["| figure | limits through Redis | limits off | ratio |", "|---|---|---|---|"]
    lines.append(
        f"| `POST /api/event`, 64 connections, 1 worker "
        f"| {median([o['per_second'] for o, _, _, _ in pairs])} events/s, "
        f"p99 {median([o['p99_ms'] for o, _, _, _ in pairs], 1)} ms "
        f"| {median([b['per_second'] for _, b, _, _ in pairs])} events/s, "
        f"p99 {median([b['p99_ms'] for _, b, _, _ in pairs], 1)} ms "
        f"| {median([o['per_second'] / b['per_second'] for o, b, _, _ in pairs], 2)} |"
    )
    per_request = [s / r for (_, _, s, _), r in zip(pairs, requests, strict=True)]
    all_per_request = [e / r for (_, _, _, e), r in zip(pairs, requests, strict=True)]
    lines.append(
        f"Redis round trips per request: {statistics.median(per_request):.3f} script calls, "
        f"{statistics.median(all_per_request):.3f} commands of any kind "
        f"(refused: {sum(o['statuses'].get('429', 0) for o, _, _, _ in pairs)}) "
        f"(requests per round: {', '.join(f'{r:,.0f}' for r in requests)})"
    )

    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternating pairs")
    main(parser.parse_args())
