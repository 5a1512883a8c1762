"""The embedded Redis: one real server per data directory, shared by every process using it and
stopped by the last one to let go, whatever happened to the others."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tracking.adapters.redis.embedded import EmbeddedRedis

# A process of its own using the data directory: it prints the server's pid once it holds it,
# and lets go when its stdin closes.
USER = """
import sys, redis
from tracking.adapters.redis.embedded import EmbeddedRedis
embedded = EmbeddedRedis(sys.argv[1])
with redis.Redis.from_url(embedded.start()) as client:
    print(client.info("server")["process_id"], flush=True)
sys.stdin.read()
embedded.stop()
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[str]:
    """A data directory whose servers, if a failing test left any, are killed afterwards."""
    yield str(tmp_path)
    for pid in working_in(tmp_path.resolve()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for record in tmp_path.rglob("socket-path"):
        with contextlib.suppress(OSError):
            Path(record.read_text()).unlink()


def working_in(directory: Path) -> list[int]:
    """The processes whose working directory is in `directory`: a redis-server works in its
    `dir`, in the data directory (and a test's own processes never do)."""
    pids = []
    for process in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if process.name.isdigit() and (process / "cwd").resolve().is_relative_to(directory):
                pids.append(int(process.name))
    return pids


def server_pid(url: str) -> int:
    with redis.Redis.from_url(url) as client:
        pid: int = client.info("server")["process_id"]
        return pid


def answers(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_timeout=1) as client:
            return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError):
        return False


def runs(pid: int) -> bool:
    """Alive and not a zombie waiting for init to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def spawn(data_dir: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", USER, data_dir],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def held_server(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    return int(process.stdout.readline())


def kill(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.communicate()


def test_start_gives_a_url_to_a_working_server(data_dir: str) -> None:
    embedded = EmbeddedRedis(data_dir)
    url = embedded.start()
    try:
        assert url.startswith("unix://")
        with redis.Redis.from_url(url) as client:
            assert client.ping()
            client.set("greeting", "hello")
            assert client.get("greeting") == b"hello"
    finally:
        embedded.stop()


def test_two_users_share_one_server_until_the_last_stops(data_dir: str) -> None:
    first, second = EmbeddedRedis(data_dir), EmbeddedRedis(data_dir)
    first_url, second_url = first.start(), second.start()
    pid = server_pid(first_url)
    assert server_pid(second_url) == pid
    with redis.Redis.from_url(first_url) as one, redis.Redis.from_url(second_url) as other:
        one.set("shared", "yes")
        assert other.get("shared") == b"yes"

    first.stop()
    assert answers(second_url)
    assert runs(pid)

    second.stop()
    assert not answers(second_url)
    assert not runs(pid)


def test_processes_starting_at_once_get_one_server(data_dir: str) -> None:
    processes = [spawn(data_dir) for _ in range(4)]
    try:
        pids = {held_server(process) for process in processes}
        assert len(pids) == 1
        assert all(runs(pid) for pid in pids)
    finally:
        for process in processes:
            process.communicate(timeout=30)
    assert [process.returncode for process in processes] == [0, 0, 0, 0]
    assert not any(runs(pid) for pid in pids)


def test_a_killed_user_does_not_keep_the_server_running(data_dir: str) -> None:
    process = spawn(data_dir)
    pid = held_server(process)
    embedded = EmbeddedRedis(data_dir)
    url = embedded.start()
    kill(process)
    assert answers(url)

    embedded.stop()
    assert not answers(url)
    assert not runs(pid)


def test_a_pid_left_in_the_handles_does_not_keep_the_server_running(data_dir: str) -> None:
    embedded = EmbeddedRedis(data_dir)
    url = embedded.start()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    handles = Path(data_dir).resolve() / "redis" / "handles.json"
    handles.write_text(json.dumps([*json.loads(handles.read_text()), int(finished.stdout)]))
    pid = server_pid(url)

    embedded.stop()
    assert not answers(url)
    assert not runs(pid)


def test_a_server_whose_users_were_all_killed_is_reused(data_dir: str) -> None:
    process = spawn(data_dir)
    pid = held_server(process)
    kill(process)

    embedded = EmbeddedRedis(data_dir)
    url = embedded.start()
    try:
        assert server_pid(url) == pid
    finally:
        embedded.stop()
    assert not runs(pid)


def test_a_server_killed_with_its_users_is_replaced(data_dir: str) -> None:
    process = spawn(data_dir)
    pid = held_server(process)
    kill(process)
    os.kill(pid, signal.SIGKILL)

    embedded = EmbeddedRedis(data_dir)
    url = embedded.start()
    try:
        assert server_pid(url) != pid
        assert answers(url)
    finally:
        embedded.stop()
    assert not answers(url)


def test_a_long_data_directory_puts_the_socket_in_the_temporary_directory(
    data_dir: str,
) -> None:
    long_dir = str(Path(data_dir) / ("d" * 60) / ("e" * 60))
    assert len(long_dir) > 100
    first, joiner = EmbeddedRedis(long_dir), EmbeddedRedis(long_dir)
    url = first.start()
    try:
        assert url.startswith(f"unix://{tempfile.gettempdir()}/tracking-redis-")
        assert answers(url)
        assert joiner.start() == url
    finally:
        first.stop()
        joiner.stop()
    assert not answers(url)
    assert not Path(url.removeprefix("unix://")).exists()
