"""Connections as a hostile client holds them, against a real `tracking serve`: huge headers are
431 with memory bounded, slow or idle connections are closed, repeated credentials refused."""

import json
import re
import socket
import time
from pathlib import Path

import pytest

from tests.e2e.processes import ADMIN_KEY, Server, Tracking

LIMITS = {
    "TRACKING_ADMIN_API_KEY": ADMIN_KEY,
    "TRACKING_HTTP_HEADER_TIMEOUT_SECONDS": "1",
    "TRACKING_HTTP_BODY_TIMEOUT_SECONDS": "1",
    "TRACKING_HTTP_KEEP_ALIVE_SECONDS": "1",
}
# Each wait below is for a deadline of one second to have passed: far longer, so a loaded
# machine cannot make a closed connection look open, and the outcome never hangs on speed.
CLOSED_WITHIN_SECONDS = 20


@pytest.fixture
def server(cli: Tracking) -> Server:
    return cli.serve("--storage", "memory", env=LIMITS)


def connect(server: Server) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=CLOSED_WITHIN_SECONDS)


def answer_of(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_header_block_over_16_kib_is_a_431_problem_and_the_connection_closed(
    server: Server,
) -> None:
    with connect(server) as connection:
        connection.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 17_000)
        answer = answer_of(connection)

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert b"content-type: application/problem+json" in head
    assert json.loads(body)["code"] == "headers_too_large"


def test_headers_just_under_the_limit_are_served(server: Server) -> None:
    with connect(server) as connection:
        filler = b"a" * (16 * 1024 - 200)
        connection.sendall(
            b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + filler + b"\r\n"
            b"Connection: close\r\n\r\n"
        )
        answer = answer_of(connection)

    assert answer.startswith(b"HTTP/1.1 200 ")


def test_32_mib_of_headers_leave_the_servers_memory_bounded(server: Server) -> None:
    before = rss_kib(server.process.pid)
    connections = [connect(server) for _ in range(8)]
    refused = 0
    for connection in connections:
        connection.sendall(b"POST /api/event HTTP/1.1\r\nHost: x\r\nX-Big: ")
        try:
            for _ in range(32 * 16):  # 32 MiB in 64 KiB pieces, until the server hangs up
                connection.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            refused += 1
        connection.close()
    grown = rss_kib(server.process.pid) - before

    assert refused == len(connections)
    assert grown < 16 * 1024, f"RSS grew by {grown} KiB"
    with connect(server) as connection:  # still serving
        connection.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert answer_of(connection).startswith(b"HTTP/1.1 200 ")


def test_a_client_trickling_its_headers_is_cut_off_with_408(server: Server) -> None:
    with connect(server) as connection:
        connection.sendall(b"GET /health/live HTTP/1.1\r\n")
        started = time.monotonic()
        answer = b""
        while time.monotonic() - started < CLOSED_WITHIN_SECONDS:
            try:
                connection.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                break
            connection.settimeout(0.2)
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                break  # after the answer, once the server stopped lingering
            if not chunk:
                break
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"request_timeout" in answer


def test_a_body_that_stops_arriving_is_cut_off(server: Server) -> None:
    with connect(server) as connection:
        connection.sendall(
            b"POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"X-API-Key: " + ADMIN_KEY.encode() + b'\r\nContent-Length: 100\r\n\r\n{"user'
        )
        answer = answer_of(connection)

    assert answer.startswith(b"HTTP/1.1 408 "), answer


def test_idle_connections_are_closed_before_and_between_requests(server: Server) -> None:
    never_spoke = [connect(server) for _ in range(20)]
    spoke_once = connect(server)
    spoke_once.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")

    for connection in never_spoke:
        assert answer_of(connection) == b""  # closed by the server, nothing sent
        connection.close()
    assert answer_of(spoke_once).startswith(b"HTTP/1.1 200 ")
    spoke_once.close()


def test_two_credential_headers_on_the_wire_are_refused(server: Server) -> None:
    with connect(server) as connection:
        connection.sendall(
            b"GET /api/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"X-API-Key: " + ADMIN_KEY.encode() + b"\r\n"
            b"X-API-Key: " + ADMIN_KEY.encode() + b"\r\n\r\n"
        )
        answer = answer_of(connection)

    assert answer.startswith(b"HTTP/1.1 401 ")
    assert b"ambiguous_credentials" in answer


def test_pipelined_requests_get_whole_answers_in_order_before_a_requested_close(
    server: Server,
) -> None:
    """What one turn of the loop writes leaves as one send (coalesced.py): nothing of it is
    lost, reordered or cut by the close the last request asks for."""
    asks = [b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"] * 3
    asks.append(b"GET /api/nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    with connect(server) as connection:
        connection.sendall(b"".join(asks))
        answer = answer_of(connection)

    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", answer) == [b"200", b"200", b"200", b"404"]
    assert answer.count(b'{"status":"ok"}') == 3
    *_, last = answer.split(b"HTTP/1.1 404 ")
    head, _, body = last.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    assert len(body) == length
    assert json.loads(body)["status"] == 404
