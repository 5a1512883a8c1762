"""`serve --workers 2` behaving like one server, as real processes: SIGTERM finishes what is in
flight, the master's death takes its workers with it, and a slow start is never killed."""

import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.e2e.processes import ADMIN_KEY, JWT_SECRET, Server, Tracking

GONE_WITHIN_SECONDS = 60  # a bound on "never": what is checked is that it happens at all


def external(url: str, **more: str) -> dict[str, str]:
    return {
        "TRACKING_DATABASE_URL": url,
        "TRACKING_ADMIN_API_KEY": ADMIN_KEY,
        "TRACKING_JWT_SECRET": JWT_SECRET,
        **more,
    }


def workers_of(master: int) -> list[int]:
    """The master's worker processes (not multiprocessing's resource tracker)."""
    children = [
        pid
        for task in Path(f"/proc/{master}/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]
    return [int(pid) for pid in children if b"spawn_main" in _cmdline(pid)]


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def port_of(server: Server) -> int:
    port = urlsplit(server.url).port
    assert port is not None
    return port


def posted(port: int, event_id: str) -> socket.socket:
    """A connection of its own with a whole request sent on it, its answer not yet read."""
    body = f'{{"id": "{event_id}", "user_id": "u", "action": "a"}}'.encode()
    connection = socket.create_connection(("127.0.0.1", port), timeout=GONE_WITHIN_SECONDS)
    connection.sendall(
        b"POST /api/event HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nX-API-Key: " + ADMIN_KEY.encode() + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    return connection


def answer_of(connection: socket.socket) -> bytes:
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    connection.close()
    return received


def test_sigterm_lets_every_request_in_flight_finish_before_the_workers_exit(
    cli: Tracking, database_url: str
) -> None:
    server = cli.serve("--workers", "2", env=external(database_url))
    ids = [str(uuid.uuid4()) for _ in range(96)]
    connections = [posted(port_of(server), event_id) for event_id in ids]

    server.process.send_signal(signal.SIGTERM)
    answers = [answer_of(connection) for connection in connections]
    returncode = server.process.wait(timeout=GONE_WITHIN_SECONDS)

    assert [a.split(b" ", 2)[1] for a in answers] == [b"201"] * len(ids)
    assert returncode == 0, server.stderr()
    again = cli.serve(env=external(database_url))
    listed = httpx.get(
        f"{again.url}/api/events", headers={"X-API-Key": ADMIN_KEY}, params={"limit": "1000"}
    )
    assert sorted(e["id"] for e in listed.json()["events"]) == sorted(ids)


def test_the_death_of_the_master_takes_its_workers_with_it_and_frees_the_port(
    cli: Tracking, database_url: str
) -> None:
    server = cli.serve("--workers", "2", env=external(database_url))
    workers = workers_of(server.process.pid)
    assert len(workers) == 2

    server.process.kill()
    server.process.wait()
    deadline = time.monotonic() + GONE_WITHIN_SECONDS
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)

    assert not any(alive(pid) for pid in workers)
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port_of(server)))  # free: nothing listens on it
    restarted = cli.serve("--workers", "2", env=external(database_url), port=port_of(server))
    assert httpx.get(f"{restarted.url}/health/live").status_code == 200


SLOW_START = """
import sys, time
import tracking.entrypoints.workers as workers
from tracking.entrypoints.cli import main

workers.FACTORY = "tests.e2e.slow_app:app"
sys.argv = ["tracking", "serve", "--workers", "2", "--port", sys.argv[1]]
main()
"""


def test_a_worker_that_starts_slowly_is_waited_for_not_killed(
    cli: Tracking, database_url: str, tmp_path: Path
) -> None:
    """Each worker takes 8 s to build its app, longer than uvicorn's own 5 s health check:
    no health check of ours kills a worker that is starting."""
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    number = port.getsockname()[1]
    port.close()
    log = tmp_path / "slow.stderr"
    with log.open("w") as stderr:
        master = subprocess.Popen(
            [sys.executable, "-c", SLOW_START, str(number)],
            env={**cli.env, **external(database_url)},
            stderr=stderr,
            cwd=Path(__file__).parents[2],
        )
    try:
        deadline = time.monotonic() + GONE_WITHIN_SECONDS
        while len(workers_of(master.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        starting = workers_of(master.pid)
        live = False
        while not live and time.monotonic() < deadline and master.poll() is None:
            try:
                live = httpx.get(f"http://127.0.0.1:{number}/health/live").status_code == 200
            except httpx.TransportError:
                time.sleep(0.2)
        serving = workers_of(master.pid)
    finally:
        master.send_signal(signal.SIGTERM)
        returncode = master.wait(timeout=GONE_WITHIN_SECONDS)

    assert live, log.read_text()
    assert len(starting) == 2
    assert serving == starting  # the same two: none killed and replaced
    assert "exited with" not in log.read_text()
    assert returncode == 0, log.read_text()


def test_workers_keep_the_connection_limits(cli: Tracking, database_url: str) -> None:
    server = cli.serve("--workers", "2", env=external(database_url))
    with socket.create_connection(("127.0.0.1", port_of(server))) as connection:
        connection.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 17_000)
        answer = answer_of(connection)

    assert answer.startswith(b"HTTP/1.1 431 ")
