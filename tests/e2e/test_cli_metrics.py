"""`tracking calculate-metrics` as a CronJob runs it: exit codes, lines, and the lock."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from tests.e2e.processes import ADMIN_KEY, JWT_SECRET, Tracking, free_port, one_error_line
from tracking.adapters.postgres.metrics import RUN_LOCK

YESTERDAY = datetime.now(UTC).replace(hour=1, minute=30, second=0, microsecond=0) - timedelta(
    days=1
)
WINDOW = YESTERDAY.replace(hour=0, minute=0)  # the window of YESTERDAY
NOW = (YESTERDAY + timedelta(hours=8)).isoformat()  # 00:00 and 04:00 due, 08:00 not yet


def external(url: str, **more: str) -> dict[str, str]:
    return {
        "TRACKING_DATABASE_URL": url,
        "TRACKING_ADMIN_API_KEY": ADMIN_KEY,
        "TRACKING_JWT_SECRET": JWT_SECRET,
        **more,
    }


def post_events(cli: Tracking, env: dict[str, str], times: list[datetime]) -> None:
    server = cli.serve(env=env)
    for at in times:
        answer = httpx.post(
            f"{server.url}/api/event",
            headers={"X-API-Key": ADMIN_KEY},
            json={"user_id": "u-1", "action": "view", "occurred_at": at.isoformat()},
        )
        assert answer.status_code == 201, answer.text
    assert server.stop() == 0


def test_a_run_computes_due_windows_and_the_next_finds_nothing(
    cli: Tracking, database_url: str
) -> None:
    env = external(database_url)
    post_events(cli, env, [YESTERDAY, YESTERDAY + timedelta(hours=4)])

    first = cli.run("calculate-metrics", "--now", NOW, env=env)
    second = cli.run("calculate-metrics", "--now", NOW, env=env)

    assert first.returncode == 0, first.stderr
    later = WINDOW + timedelta(hours=4)
    assert first.stdout.splitlines() == [
        f"computed    {WINDOW.isoformat()}  1 users  1 events",
        f"computed    {later.isoformat()}  1 users  1 events",
        (
            "computed 2 windows (0 recomputed): 2 user rows, 2 events; 0 due windows left for "
            "the next run"
        ),
    ]
    assert second.returncode == 0
    assert second.stdout.strip() == "nothing was due"


def test_a_late_event_is_due_again_and_recomputed(cli: Tracking, database_url: str) -> None:
    env = external(database_url)
    post_events(cli, env, [YESTERDAY])
    assert cli.run("calculate-metrics", "--now", NOW, env=env).returncode == 0
    post_events(cli, env, [YESTERDAY + timedelta(minutes=5)])

    planned = cli.run("calculate-metrics", "--dry-run", "--now", NOW, env=env)
    again = cli.run("calculate-metrics", "--now", NOW, env=env)

    assert f"to recompute  {WINDOW.isoformat()}  (1 clients' rows)" in planned.stdout
    assert "1 windows with clients' late events to recompute" in planned.stdout
    assert f"recomputed  {WINDOW.isoformat()}  1 users  2 events  (1 clients' rows)" in again.stdout


def test_now_far_ahead_catches_up_every_window_in_order(cli: Tracking, database_url: str) -> None:
    env = external(database_url, TRACKING_METRICS_MAX_WINDOWS="100")
    post_events(cli, env, [YESTERDAY])
    now = (YESTERDAY + timedelta(days=2)).isoformat()

    result = cli.run("calculate-metrics", "--now", now, "--since", YESTERDAY.isoformat(), env=env)

    assert result.returncode == 0, result.stderr
    assert (
        "computed 1 windows (0 recomputed): 1 user rows, 1 events; 11 empty windows recorded"
        in result.stdout
    )


def test_many_windows_into_a_log_are_a_line_each_not_a_bar(
    cli: Tracking, database_url: str
) -> None:
    """A CronJob's log is no terminal: a bar's carriage returns would make one endless line."""
    env = external(database_url)
    post_events(cli, env, [YESTERDAY - timedelta(hours=4 * n) for n in range(10)])

    result = cli.run("calculate-metrics", "--now", NOW, env=env)

    assert result.returncode == 0, result.stderr
    computed = [line for line in result.stdout.splitlines() if line.startswith("computed    ")]
    assert len(computed) == 10, result.stdout
    assert "\r" not in result.stdout + result.stderr
    assert "windows" not in result.stderr  # no bar


@pytest.fixture
async def run_lock_held(database_url: str) -> AsyncIterator[None]:
    connection = await asyncpg.connect(database_url)
    await connection.execute("SELECT pg_advisory_lock($1)", RUN_LOCK)
    yield
    await connection.close()


def test_another_run_holding_the_lock_is_exit_0_with_a_message(
    cli: Tracking, database_url: str, run_lock_held: None
) -> None:
    result = cli.run("calculate-metrics", env=external(database_url))

    assert result.returncode == 0, result.stderr
    assert "another metrics run holds the lock" in result.stdout


def test_a_database_that_is_down_is_a_clear_failure(cli: Tracking) -> None:
    url = f"postgresql://tracking:s3cret-pw@127.0.0.1:{free_port()}/tracking"

    result = cli.run("calculate-metrics", env=external(url, TRACKING_DB_CONNECT_RETRIES="0"))

    assert result.returncode == 1
    assert "cannot reach the database" in one_error_line(result.stderr)
    assert "s3cret-pw" not in result.stderr + result.stdout


@pytest.mark.parametrize("value", ["yesterday", "2026-01-01T00:00:00"])
def test_a_bad_time_is_a_usage_error_naming_it(cli: Tracking, value: str) -> None:
    result = cli.run("calculate-metrics", "--now", value)

    assert result.returncode == 2
    assert "--now" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_embedded_default_works_too(cli: Tracking) -> None:
    result = cli.run("calculate-metrics")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "nothing was due"
