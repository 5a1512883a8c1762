"""The `tracking` command as a user runs it: memory storage, settings, and `clients`."""

import re
import socket
from collections.abc import Iterator

import pytest

from tests.e2e.processes import ADMIN_KEY, Tracking, one_error_line, readme_flow


def test_serve_on_memory_answers_the_readme_flow_and_stops_cleanly_on_sigterm(
    cli: Tracking,
) -> None:
    server = cli.serve("--storage", "memory", env={"TRACKING_ADMIN_API_KEY": ADMIN_KEY})

    actions = readme_flow(server.url, ADMIN_KEY)
    returncode = server.stop()

    assert actions == ["test_action"]
    assert returncode == 0
    assert "storage is memory" in server.stderr()
    assert "Traceback" not in server.stderr()
    assert not cli.data_dir.exists()


def test_tracking_storage_memory_in_the_environment_chooses_memory(cli: Tracking) -> None:
    server = cli.serve(env={"TRACKING_STORAGE": "memory", "TRACKING_ADMIN_API_KEY": ADMIN_KEY})

    actions = readme_flow(server.url, ADMIN_KEY)

    assert actions == ["test_action"]
    assert server.stop() == 0
    assert "storage is memory" in server.stderr()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRACKING_HTTP_PORT", "eighty"),
        ("TRACKING_JWT_SECRET", "too-short"),
        ("TRACKING_STORAGE", "floppy"),
        ("TRACKING_LOG_LEVEL", "LOUD"),
    ],
)
def test_a_bad_setting_stops_the_process_with_one_line_naming_it(
    cli: Tracking, variable: str, value: str
) -> None:
    result = cli.run("serve", env={variable: value})

    assert result.returncode != 0
    assert one_error_line(result.stderr).startswith(f"Error: {variable}:")
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: {variable}:")


def test_a_weak_admin_key_is_one_line_that_never_shows_it(cli: Tracking) -> None:
    result = cli.run("serve", "--storage", "memory", env={"TRACKING_ADMIN_API_KEY": "hunter2"})

    assert result.returncode == 1
    assert one_error_line(result.stderr) == (
        "Error: TRACKING_ADMIN_API_KEY: must start with 'trk_' and be at least 47 characters long"
    )
    assert "hunter2" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "flag"),
    [
        ("TRACKING_HTTP_PORT", "abc", ("--port", "9000")),
        ("TRACKING_STORAGE", "floppy", ("--storage", "memory")),
    ],
)
def test_a_bad_variable_is_reported_even_when_a_flag_overrides_it(
    cli: Tracking, variable: str, value: str, flag: tuple[str, str]
) -> None:
    result = cli.run("serve", "--storage", "memory", *flag, env={variable: value})

    assert result.returncode == 1
    error = one_error_line(result.stderr)
    assert error.startswith(f"Error: {variable}: ")
    assert repr(value) in error


def test_a_bad_storage_names_the_words_it_may_be(cli: Tracking) -> None:
    result = cli.run("clients", "list", env={"TRACKING_STORAGE": "floppy"})

    assert one_error_line(result.stderr) == (
        "Error: TRACKING_STORAGE: must be one of embedded, postgres, memory, got 'floppy'"
    )


@pytest.mark.parametrize(
    ("flags", "named"),
    [(("--port", "0"), "'--port'"), (("--storage", "postgres"), "'--storage'")],
)
def test_a_bad_flag_is_named_as_the_flag(cli: Tracking, flags: tuple[str, str], named: str) -> None:
    result = cli.run("serve", *flags)

    assert result.returncode == 2
    assert one_error_line(result.stderr).startswith(f"Error: Invalid value for {named}: ")


@pytest.fixture
def port_in_use() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def test_a_port_in_use_is_one_line_before_anything_starts(cli: Tracking, port_in_use: int) -> None:
    result = cli.run("serve", "--storage", "memory", "--port", str(port_in_use))

    assert result.returncode == 1
    assert one_error_line(result.stderr) == (
        f"Error: cannot listen on 127.0.0.1:{port_in_use}: address already in use"
    )
    assert result.stderr.strip().count("\n") == 0  # that line alone
    assert "trk_" not in result.stderr + result.stdout


def test_an_unknown_setting_is_named_in_a_warning(cli: Tracking) -> None:
    result = cli.run("clients", "list", env={"TRACKING_JWT_SECRT": "x"})

    assert result.returncode == 0
    assert "ignoring TRACKING_JWT_SECRT" in result.stderr


def test_several_workers_are_refused_on_memory_storage(cli: Tracking) -> None:
    result = cli.run("serve", "--workers", "2", "--storage", "memory")

    assert result.returncode == 2
    assert "memory storage lives inside one process" in result.stderr


def test_clients_create_prints_the_new_key_once(cli: Tracking) -> None:
    result = cli.run("clients", "create", "shop-frontend", "--rate-limit", "120")

    assert result.returncode == 0, result.stderr
    assert len(re.findall(r"api key  trk_[A-Za-z0-9_-]{43}", result.stdout)) == 1
    assert "shop-frontend" in result.stdout


def test_clients_create_refuses_a_bad_name_with_a_clear_message(cli: Tracking) -> None:
    result = cli.run("clients", "create", " ")

    assert result.returncode == 1
    assert "name" in one_error_line(result.stderr)


def test_clients_create_refuses_a_name_that_is_taken(cli: Tracking) -> None:
    first = cli.run("clients", "create", "shop-frontend")
    second = cli.run("clients", "create", "shop-frontend")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 1
    assert "shop-frontend" in one_error_line(second.stderr)
    assert "api key" not in second.stdout


def test_clients_rotate_of_an_unknown_client_says_so(cli: Tracking) -> None:
    result = cli.run("clients", "rotate", "00000000-0000-7000-8000-000000000001")

    assert result.returncode == 1
    assert "no client" in one_error_line(result.stderr)


def test_clients_update_changes_limits_role_and_activity_and_prints_the_client(
    cli: Tracking,
) -> None:
    created = cli.run("clients", "create", "shop-frontend", "--events-per-minute", "500")
    found = re.search(r"^id\s+(\S+)$", created.stdout, re.MULTILINE)
    assert created.returncode == 0, created.stderr
    assert found is not None, created.stdout
    assert re.search(r"^events\s+500 per minute$", created.stdout, re.MULTILINE)

    updated = cli.run(
        "clients", "update", found[1], "--rate-limit", "600", "--role", "admin", "--inactive"
    )
    unchanged = cli.run("clients", "update", found[1])

    assert updated.returncode == 0, updated.stderr
    for line in (
        f"id       {found[1]}",
        "role     admin",
        "active   no",
        "requests 600 per minute",
        "events   500 per minute",
    ):
        assert line in updated.stdout.splitlines(), updated.stdout
    assert unchanged.returncode == 2
    assert "--rate-limit" in unchanged.stderr


def test_clients_update_of_an_unknown_client_says_so(cli: Tracking) -> None:
    result = cli.run("clients", "update", "00000000-0000-7000-8000-000000000001", "--active")

    assert result.returncode == 1
    assert "no client" in one_error_line(result.stderr)
