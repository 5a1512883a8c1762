"""The live stream as shipped: two `tracking serve` processes on one embedded data directory
(sharing its PostgreSQL and its Redis). An event posted to one reaches a stream of the other;
stopping a server ends its streams with a retry hint at once, not after the graceful timeout."""

import signal
import time
from collections.abc import Iterator

import httpx

from tests.e2e.processes import ADMIN_KEY, Tracking
from tracking.entrypoints.server import GRACEFUL_SHUTDOWN_SECONDS


def lines_of(response: httpx.Response) -> Iterator[str]:
    yield from response.iter_lines()


def test_an_event_posted_to_one_server_streams_from_the_other_which_stops_cleanly(
    cli: Tracking,
) -> None:
    env = {"TRACKING_ADMIN_API_KEY": ADMIN_KEY}
    one, other = cli.serve(env=env), cli.serve(env=env)
    admin = {"X-API-Key": ADMIN_KEY}
    answer = httpx.post(f"{one.url}/api/clients", headers=admin, json={"name": "streamed"})
    key = {"X-API-Key": answer.json()["api_key"]}
    with httpx.stream(
        "GET", f"{other.url}/api/events/stream", headers=key, timeout=httpx.Timeout(30)
    ) as stream:
        assert stream.status_code == 200
        lines = lines_of(stream)
        assert next(lines) == "retry: 1000"
        posted = httpx.post(
            f"{one.url}/api/events",
            headers=key,
            json={"events": [{"user_id": "u", "action": "view"} for _ in range(3)]},
        )
        ids = [item["id"] for item in posted.json()["results"]]
        got = _until(lines, count=3, prefix="data: ")
        assert [g.split('"id":"')[1][:36] for g in got] == ids

        asked = time.monotonic()
        other.process.send_signal(signal.SIGTERM)
        rest = list(lines)  # to the end of the stream
        assert "retry: 1000" in rest, rest
    assert other.process.wait(timeout=GRACEFUL_SHUTDOWN_SECONDS * 3) == 0
    assert time.monotonic() - asked < GRACEFUL_SHUTDOWN_SECONDS, "the stream held the stop"


def _until(lines: Iterator[str], *, count: int, prefix: str) -> list[str]:
    found: list[str] = []
    for line in lines:
        if line.startswith(prefix):
            found.append(line)
            if len(found) == count:
                break
    return found
