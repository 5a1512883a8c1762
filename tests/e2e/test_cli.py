"""The `tracking` command as a user runs it: a real process, real sockets."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

ADMIN_KEY = "trk_" + "E" * 43


def tracking(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracking", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str


@pytest.fixture
def server() -> Iterator[Server]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tracking", "serve", "--port", str(port), "--storage", "memory"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TRACKING_ADMIN_API_KEY": ADMIN_KEY},
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/health/live", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    yield Server(process, url)
    if process.poll() is None:
        process.kill()
        process.communicate()


def test_serve_answers_the_readme_flow_and_stops_cleanly_on_sigterm(server: Server) -> None:
    token = httpx.post(f"{server.url}/api/auth/token", headers={"X-API-Key": ADMIN_KEY})
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    body = {"user_id": 321, "action": "test_action", "metadata": {"page": "/hello/world"}}

    posted = httpx.post(f"{server.url}/api/event", headers=bearer, json=body)
    listed = httpx.get(
        f"{server.url}/api/events",
        headers=bearer,
        params={"user_id": "321", "from": "2025-10-23T13:07:00Z", "till": "2100-01-01T00:00:00Z"},
    )
    server.process.send_signal(signal.SIGTERM)
    _, stderr = server.process.communicate(timeout=30)

    assert posted.status_code == 201
    assert [e["action"] for e in listed.json()["events"]] == ["test_action"]
    assert server.process.returncode == 0
    assert "storage is memory" in stderr
    assert "Traceback" not in stderr


def test_a_first_start_without_an_admin_key_prints_one() -> None:
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "tracking", "serve", "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "TRACKING_ADMIN_API_KEY"},
    ) as process:
        assert process.stderr is not None
        key = None
        for line in process.stderr:
            found = re.search(r"trk_[A-Za-z0-9_-]{43}", line)
            if found:
                key = found.group()
                break
        assert key is not None
        for _ in range(200):
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/api/clients/me", headers={"X-API-Key": key}
                )
                break
            except httpx.TransportError:
                time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)

    assert answer.json()["role"] == "admin"
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRACKING_HTTP_PORT", "eighty"),
        ("TRACKING_JWT_SECRET", "too-short"),
        ("TRACKING_STORAGE", "floppy"),
        ("TRACKING_LOG_LEVEL", "LOUD"),
    ],
)
def test_a_bad_setting_stops_the_process_with_one_line_naming_it(variable: str, value: str) -> None:
    result = tracking("serve", env={variable: value})

    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: {variable}:")
    assert "Traceback" not in result.stderr


def test_an_unknown_setting_is_named_in_a_warning() -> None:
    result = tracking("clients", "list", env={"TRACKING_JWT_SECRT": "x"})

    assert result.returncode == 0
    assert "ignoring TRACKING_JWT_SECRT" in result.stderr


def test_several_workers_are_refused_on_memory_storage() -> None:
    result = tracking("serve", "--workers", "2")

    assert result.returncode == 2
    assert "memory storage lives inside one process" in result.stderr


def test_clients_create_prints_the_new_key_once() -> None:
    result = tracking("clients", "create", "shop-frontend", "--rate-limit", "120")

    assert result.returncode == 0
    assert re.search(r"api key  trk_[A-Za-z0-9_-]{43}", result.stdout)
    assert "shop-frontend" in result.stdout


def test_clients_create_refuses_a_bad_name_with_a_clear_message() -> None:
    result = tracking("clients", "create", " ")

    assert result.returncode == 1
    assert "name" in result.stderr
    assert "Traceback" not in result.stderr


def test_clients_rotate_of_an_unknown_client_says_so() -> None:
    result = tracking("clients", "rotate", "00000000-0000-7000-8000-000000000001")

    assert result.returncode == 1
    assert "no client" in result.stderr
