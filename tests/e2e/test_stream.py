"""The live stream as shipped: two `tracking serve` processes on one embedded data directory
(sharing its PostgreSQL and its Redis). An event posted to one reaches a stream of the other;
a subscriber cut off at random points and resuming on either, while both take thousands of
events, ends with each once, in order; stopping a server ends its streams with a retry hint at
once, not after the graceful timeout."""

import json
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator

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


WRITER_BATCHES = 30
BATCH = 50
DEADLINE_SECONDS = 300
"""A stream that never gets all the events would otherwise be read for ever."""


def test_a_subscriber_cut_off_at_random_and_resuming_on_either_server_gets_each_event_once(
    cli: Tracking,
) -> None:
    env = {"TRACKING_ADMIN_API_KEY": ADMIN_KEY, "TRACKING_STREAM_HEARTBEAT_SECONDS": "1"}
    servers = [cli.serve(env=env), cli.serve(env=env)]
    admin = {"X-API-Key": ADMIN_KEY}
    answer = httpx.post(f"{servers[0].url}/api/clients", headers=admin, json={"name": "cut"})
    key = {"X-API-Key": answer.json()["api_key"]}
    stored: list[str] = []
    done = threading.Event()

    def write(url: str) -> None:
        with httpx.Client(base_url=url, headers=key, timeout=30) as client:
            for n in range(WRITER_BATCHES):
                events = [{"user_id": f"u{i % 7}", "action": f"a{n}"} for i in range(BATCH)]
                results = client.post("/api/events", json={"events": events}).json()["results"]
                stored.extend(r["id"] for r in results if r["status"] == "stored")

    def write_through_both() -> None:
        writers = [threading.Thread(target=write, args=(s.url,)) for s in servers]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        done.set()

    threading.Thread(target=write_through_both).start()
    rng = random.Random(14)  # noqa: S311 - where to cut, not a secret
    received: list[tuple[int, str]] = []

    def finished() -> bool:
        return done.is_set() and len(received) >= len(stored)

    streams = 0
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not finished():
        assert time.monotonic() < deadline, f"{len(received)} of {len(stored)} read"
        streams += 1
        # From the start: the writers may have committed before the first stream opened.
        resume = {"Last-Event-ID": str(received[-1][0] if received else 0)}
        url = f"{servers[rng.randrange(2)].url}/api/events/stream"
        with httpx.stream("GET", url, headers={**key, **resume}, timeout=30) as stream:
            assert stream.status_code == 200
            # Cut off after so many lines: often inside a message.
            _read(stream.iter_lines(), rng.randint(1, 300), received, finished)
    assert len(stored) == 2 * WRITER_BATCHES * BATCH
    assert [position for position, _ in received] == list(range(1, len(stored) + 1))
    assert sorted(event_id for _, event_id in received) == sorted(stored)
    assert streams > 10, "cut off too rarely to show anything"


def _read(
    lines: Iterator[str], most: int, into: list[tuple[int, str]], finished: Callable[[], bool]
) -> None:
    """The events of the whole messages among the first `most` lines, into `into`; stops
    early once `finished`."""
    position: int | None = None
    event_id = ""
    for count, line in enumerate(lines, 1):
        assert line != "event: reset", "nothing left the replay horizon"
        if line.startswith("id: "):
            position = int(line.removeprefix("id: "))
        elif line.startswith("data: "):
            event_id = json.loads(line.removeprefix("data: ")).get("id", "")
        elif not line:
            if position is not None and event_id:
                into.append((position, event_id))  # the message is whole
            position, event_id = None, ""
        if count >= most or finished():
            return
