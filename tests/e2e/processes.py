"""The `tracking` command as a user runs it: real processes, real sockets, and a data directory
of their own under pytest's tmp_path, so nothing is written into the repository."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.sockets import free_port

ADMIN_KEY = "trk_" + "E" * 43
JWT_SECRET = "j" * 48
__all__ = ["free_port"]  # the e2e tests take it from here
API_KEY = re.compile(r"trk_[A-Za-z0-9_-]{43}")
READY_ATTEMPTS = 600  # x 0.1 s: the first embedded start runs initdb
STOP_TIMEOUT_SECONDS = 60


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    log: Path

    def stderr(self) -> str:
        return self.log.read_text()

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Asks the server to stop as an operator would, and waits for it to exit."""
        self.process.send_signal(sig)
        return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)


@dataclass
class Tracking:
    """Runs `tracking` with the caller's environment minus every `TRACKING_*` setting, plus
    `TRACKING_DATA_DIR` in tmp_path and whatever a test adds."""

    tmp_path: Path
    env: dict[str, str] = field(init=False)
    servers: list[Server] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("TRACKING_") or name.startswith("TRACKING_TEST_")
        }
        self.env["TRACKING_DATA_DIR"] = str(self.data_dir)
        # Tests send more than a minute's default share; the tests of limits set their own.
        self.env["TRACKING_RATE_LIMIT_PER_MINUTE"] = "1000000"
        self.env["TRACKING_EVENTS_PER_MINUTE"] = "10000000"

    @property
    def data_dir(self) -> Path:
        return self.tmp_path / "data"

    def run(
        self, *args: str, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tracking", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**self.env, **(env or {})},
            check=False,
        )

    def serve(
        self, *args: str, env: Mapping[str, str] | None = None, port: int | None = None
    ) -> Server:
        """`tracking serve` on `port` (by default a free one), once /health/live answers."""
        port = port or free_port()
        log = self.tmp_path / f"serve-{len(self.servers)}.stderr"
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "tracking", "serve", "--port", str(port), *args],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                text=True,
                env={**self.env, **(env or {})},
            )
        server = Server(process, f"http://127.0.0.1:{port}", log)
        self.servers.append(server)
        self._wait_live(server, "serve")
        return server

    def consume(self, *args: str, env: Mapping[str, str] | None = None) -> Server:
        """`tracking consume` with its health port on a free port, once /health/live answers;
        `url` is that port."""
        port = free_port()
        log = self.tmp_path / f"consume-{len(self.servers)}.stderr"
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "tracking", "consume", *args],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                text=True,
                env={**self.env, "TRACKING_CONSUMER_PORT": str(port), **(env or {})},
            )
        server = Server(process, f"http://127.0.0.1:{port}", log)
        self.servers.append(server)
        self._wait_live(server, "consume")
        return server

    def _wait_live(self, server: Server, command: str) -> None:
        for _ in range(READY_ATTEMPTS):
            if server.process.poll() is not None:
                raise AssertionError(
                    f"{command} exited with {server.process.returncode}:\n{server.stderr()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{server.url}/health/live", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"{command} did not answer /health/live:\n{server.stderr()}")

    def clean_up(self) -> None:
        """Stops what a test left running: its servers, then an embedded PostgreSQL that a
        killed server could not stop."""
        for server in self.servers:
            if server.process.poll() is None:
                server.process.send_signal(signal.SIGTERM)
                try:
                    server.process.wait(timeout=STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    server.process.kill()
                    server.process.wait()
        stop_postmaster(self.data_dir / "postgres")
        stop_embedded_redis(self.data_dir / "redis")


def stop_postmaster(pgdata: Path) -> None:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return
    with contextlib.suppress(ValueError, ProcessLookupError, FileNotFoundError):
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)  # a fast shutdown
    for _ in range(300):
        if not pid_file.exists():
            return
        time.sleep(0.1)


def stop_embedded_redis(directory: Path) -> None:
    """The embedded Redis a killed server left running (nobody else uses it)."""
    pid_file = directory / "redis.pid"
    with contextlib.suppress(ValueError, ProcessLookupError, FileNotFoundError):
        os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)


def admin_key_printed(stderr: str) -> str | None:
    """The key `serve` prints when it creates the admin client."""
    if "created the admin client" not in stderr:
        return None
    found = API_KEY.search(stderr.partition("created the admin client")[2])
    return None if found is None else found.group()


def bearer(url: str, api_key: str) -> dict[str, str]:
    token = httpx.post(f"{url}/api/auth/token", headers={"X-API-Key": api_key})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def readme_flow(url: str, api_key: str) -> list[str]:
    """The README's "Try it": a token, one event, that event listed back. The actions listed."""
    headers = bearer(url, api_key)
    body = {"user_id": 321, "action": "test_action", "metadata": {"page": "/hello/world"}}
    posted = httpx.post(f"{url}/api/event", headers=headers, json=body)
    assert posted.status_code == 201, posted.text
    listed = httpx.get(
        f"{url}/api/events",
        headers=headers,
        params={"user_id": "321", "from": "2025-10-23T13:07:00Z", "till": "2100-01-01T00:00:00Z"},
    )
    assert listed.status_code == 200, listed.text
    return [event["action"] for event in listed.json()["events"]]


def one_error_line(stderr: str) -> str:
    """The error a failed command ended with; asserting it is the only one."""
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr
    return errors[0]
