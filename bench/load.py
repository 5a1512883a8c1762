"""A small HTTP/1.1 load generator: N keep-alive connections, each sending its next request
as soon as the previous answer arrived, for a fixed time. Prints one JSON line of results.

Written on raw asyncio streams (with uvloop) so that one process can drive well past what one
server worker answers; a generic client library would measure itself instead."""

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path

import uvloop


def requests_from(path: Path) -> list[bytes]:
    """The file holds one complete HTTP request per line, JSON-encoded as a string."""
    return [json.loads(line).encode("latin-1") for line in path.read_text().splitlines() if line]


async def connection(  # noqa: PLR0917 - one connection's whole brief
    host: str,
    port: int,
    requests: list[bytes],
    until: float,
    latencies: list[int],
    statuses: dict[int, int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    index = random.randrange(len(requests))  # noqa: S311 - spreading load, not security
    try:
        while time.perf_counter() < until:
            started = time.perf_counter_ns()
            writer.write(requests[index % len(requests)])
            index += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter_ns() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def main(args: argparse.Namespace) -> None:
    requests = requests_from(Path(args.requests))
    latencies: list[int] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    until = started + args.seconds
    await asyncio.gather(
        *(
            connection(args.host, args.port, requests, until, latencies, statuses)
            for _ in range(args.connections)
        )
    )
    elapsed = time.perf_counter() - started
    latencies.sort()

    def percentile(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(len(latencies) * p))] / 1e6 if latencies else 0.0
        )

    print(
        json.dumps(
            {
                "requests": len(latencies),
                "seconds": elapsed,
                "per_second": len(latencies) / elapsed,
                "p50_ms": percentile(0.50),
                "p99_ms": percentile(0.99),
                "statuses": statuses,
            }
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", required=True)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10)
    uvloop.run(main(parser.parse_args()))
    sys.exit(0)
