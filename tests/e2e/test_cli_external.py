"""An external PostgreSQL (TRACKING_DATABASE_URL): migrate first, then serve; clear failures."""

import contextlib
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.processes import (
    ADMIN_KEY,
    JWT_SECRET,
    Server,
    Tracking,
    free_port,
    one_error_line,
    readme_flow,
)
from tracking.adapters.postgres import migrations

HEAD = migrations.head()


def external(url: str, **more: str) -> dict[str, str]:
    return {
        "TRACKING_DATABASE_URL": url,
        "TRACKING_ADMIN_API_KEY": ADMIN_KEY,
        "TRACKING_JWT_SECRET": JWT_SECRET,
        **more,
    }


def test_serve_refuses_an_unmigrated_database_until_tracking_migrate_ran(
    cli: Tracking, empty_database_url: str
) -> None:
    env = external(empty_database_url)

    refused = cli.run("serve", env=env)
    upgraded = cli.run("migrate", env=env)
    current = cli.run("migrate", "current", env=env)
    one_down = cli.run("migrate", "downgrade", "-1", env=env)
    downgraded = cli.run("migrate", "downgrade", "base", env=env)
    current_after_downgrade = cli.run("migrate", "current", env=env)
    history = cli.run("migrate", "history", env=env)
    upgraded_again = cli.run("migrate", "upgrade", env=env)

    assert refused.returncode != 0
    assert "tracking migrate" in one_error_line(refused.stderr)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "at head" in upgraded.stdout
    assert current.returncode == 0, current.stderr
    assert f"schema at {HEAD} (at head)" in current.stdout
    assert "Context impl" not in upgraded.stderr + current.stderr  # no alembic chatter
    assert one_down.returncode == 0, one_down.stderr
    assert f"head is {HEAD}" in one_down.stdout
    assert downgraded.returncode == 0, downgraded.stderr
    assert current_after_downgrade.returncode == 0, current_after_downgrade.stderr
    assert "schema at nothing" in current_after_downgrade.stdout
    assert "at head" not in current_after_downgrade.stdout
    assert history.returncode == 0, history.stderr
    assert re.search(r"^0001\b", history.stdout, re.MULTILINE)
    assert re.search(rf"^{HEAD}\b", history.stdout, re.MULTILINE)
    assert upgraded_again.returncode == 0, upgraded_again.stderr
    assert "at head" in upgraded_again.stdout
    server = cli.serve(env=env)
    assert readme_flow(server.url, ADMIN_KEY) == ["test_action"]
    assert server.stop() == 0
    assert not cli.data_dir.exists()


def test_verbose_shows_alembic_s_own_lines_and_the_log_level_variable_still_works(
    cli: Tracking, database_url: str
) -> None:
    env = external(database_url)

    quiet = cli.run("migrate", env=env)
    verbose = cli.run("-v", "migrate", env=env)
    by_variable = cli.run("migrate", env={**env, "TRACKING_LOG_LEVEL": "DEBUG"})

    for result in (quiet, verbose, by_variable):
        assert result.returncode == 0, result.stderr
        assert "at head" in result.stdout
    assert "Context impl" not in quiet.stderr
    assert "setup plugin" not in quiet.stderr
    assert "Context impl" in verbose.stderr
    assert "Context impl" in by_variable.stderr


@pytest.mark.parametrize("command", [("serve",), ("migrate",), ("clients", "list")])
def test_a_database_url_that_is_not_postgresql_is_named_in_one_line(
    cli: Tracking, command: tuple[str, ...]
) -> None:
    result = cli.run(*command, env=external("mysql://tracking:pa55-w0rd-x@x/tracking"))

    assert result.returncode != 0
    assert one_error_line(result.stderr).startswith("Error: TRACKING_DATABASE_URL:")
    assert "pa55-w0rd-x" not in result.stdout + result.stderr


@pytest.mark.parametrize("port", ["notaport", "99999"])
def test_a_database_url_with_a_bad_port_is_one_line(cli: Tracking, port: str) -> None:
    url = f"postgresql://tracking:pa55-w0rd-x@127.0.0.1:{port}/tracking"

    result = cli.run("serve", env=external(url, TRACKING_DB_CONNECT_RETRIES="0"))

    assert result.returncode != 0
    line = one_error_line(result.stderr)
    assert "TRACKING_DATABASE_URL" in line or "cannot reach the database" in line
    assert "pa55-w0rd-x" not in result.stdout + result.stderr


def test_migrate_to_an_unknown_revision_says_so_in_one_line(
    cli: Tracking, database_url: str
) -> None:
    env = external(database_url)

    result = cli.run("migrate", "upgrade", "9999", env=env)
    current = cli.run("migrate", "current", env=env)

    assert result.returncode != 0
    assert "9999" in one_error_line(result.stderr)
    assert f"schema at {HEAD} (at head)" in current.stdout


@pytest.mark.parametrize(
    "command", [("serve",), ("migrate",), ("migrate", "current"), ("clients", "list")]
)
def test_an_unreachable_database_is_one_line_that_never_shows_the_password(
    cli: Tracking, command: tuple[str, ...]
) -> None:
    url = f"postgresql://tracking:pa55-w0rd-x@127.0.0.1:{free_port()}/tracking"
    env = external(url, TRACKING_DB_CONNECT_RETRIES="0")

    result = cli.run(*command, env=env)

    assert result.returncode != 0
    assert "cannot reach the database" in one_error_line(result.stderr)
    assert "pa55-w0rd-x" not in result.stdout + result.stderr


def test_several_workers_share_one_migrated_database(cli: Tracking, database_url: str) -> None:
    server = cli.serve("--workers", "2", env=external(database_url))
    # /health/live answers once one worker does; the kernel hands connections only to
    # workers already accepting, so both must be up before they can share them.
    both_started(server)
    headers = {"X-API-Key": ADMIN_KEY}
    # A connection of its own per request, and kept open: the kernel hands them to either
    # worker, and the open ones show which worker holds them.
    connections = [httpx.Client(base_url=server.url, headers=headers) for _ in range(20)]
    try:
        posted = [
            client.post("/api/event", json={"user_id": f"u-{n}", "action": "page.view"})
            for n, client in enumerate(connections)
        ]
        serving = workers_holding_connections(server.process.pid, urlsplit(server.url).port)
    finally:
        for client in connections:
            client.close()
    listed = httpx.get(f"{server.url}/api/events", headers=headers, params={"limit": "1000"})
    returncode = server.stop()

    assert [answer.status_code for answer in posted] == [201] * 20
    assert serving == 2
    assert sorted(e["id"] for e in listed.json()["events"]) == sorted(
        answer.json()["id"] for answer in posted
    )
    assert returncode == 0, server.stderr()


def both_started(server: Server) -> None:
    for _ in range(600):
        if server.stderr().count("Application startup complete") >= 2:
            return
        time.sleep(0.1)
    raise AssertionError(f"two workers did not start:\n{server.stderr()}")


def workers_holding_connections(parent: int, port: int | None) -> int:
    """How many child processes of `parent` hold an established TCP connection on `port`."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                established.add(f"socket:[{fields[9]}]")
    children = []
    for task in Path(f"/proc/{parent}/task").iterdir():
        children += [int(pid) for pid in (task / "children").read_text().split()]
    holding = 0
    for child in children:
        links = set()
        for fd in Path(f"/proc/{child}/fd").iterdir():
            with contextlib.suppress(OSError):
                links.add(str(fd.readlink()))
        holding += bool(links & established)
    return holding
