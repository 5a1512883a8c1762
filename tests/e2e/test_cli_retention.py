"""`tracking retention` as a CronJob runs it, and the clients' retention on the CLI."""

import asyncio
import re
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from tests.e2e.processes import Tracking, one_error_line
from tests.e2e.test_cli_metrics import external

NOW = datetime.now(UTC).replace(microsecond=0)


def created(cli: Tracking, env: dict[str, str], *args: str) -> tuple[str, str]:
    result = cli.run("clients", "create", *args, env=env)
    assert result.returncode == 0, result.stderr
    found = re.search(r"^id\s+(\S+)$", result.stdout, re.MULTILINE)
    key = re.search(r"api key  (trk_\S+)", result.stdout)
    assert found is not None, result.stdout
    assert key is not None, result.stdout
    return found[1], key[1]


def events_of(database_url: str, client_id: str) -> int:
    return asyncio.run(_count(database_url, client_id))


async def _count(database_url: str, client_id: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM events WHERE client_id = $1::uuid", client_id
        )
    finally:
        await connection.close()
    return count


def test_a_dry_run_says_what_would_go_and_a_run_removes_it(
    cli: Tracking, database_url: str
) -> None:
    env = external(database_url, TRACKING_METRICS_RETENTION_DAYS="90")
    shop, key = created(cli, env, "shop", "--retention-days", "30")
    created(cli, env, "kept")
    server = cli.serve(env=env)
    for days_ago in (10, 9, 1):
        at = (NOW - timedelta(days=days_ago)).isoformat()
        answer = httpx.post(
            f"{server.url}/api/event",
            headers={"X-API-Key": key},
            json={"user_id": "u-1", "action": "view", "occurred_at": at},
        )
        assert answer.status_code == 201, answer.text
    assert server.stop() == 0
    # Ingest refuses events older than a client keeps, so the client keeps less from now on.
    shortened = cli.run("clients", "update", shop, "--retention-days", "7", env=env)

    planned = cli.run("retention", "--dry-run", env=env)
    left_by_the_plan = events_of(database_url, shop)
    run = cli.run("retention", env=env)
    again = cli.run("retention", env=env)

    assert "keeps    events 7 days" in shortened.stdout.splitlines(), shortened.stderr
    assert planned.returncode == 0, planned.stderr
    assert re.search(
        rf"^client   {shop}  shop: keeps 7 days .*: would remove 2 events",
        planned.stdout,
        re.MULTILINE,
    )
    assert "metrics  keep 90 days" in planned.stdout
    assert left_by_the_plan == 3
    assert run.returncode == 0, run.stderr
    assert re.search(
        rf"^client   {shop}  shop: .*: removed 2 events, \d+ stale marks$", run.stdout, re.MULTILINE
    )
    assert run.stdout.splitlines()[-1] == (
        "removed 2 events of 1 clients with a retention (2 keep theirs for ever) and "
        "0 metric rows in 1 batches"
    )
    assert "retention: removed 2 events" in run.stderr  # the same, in the logs
    assert events_of(database_url, shop) == 1
    assert "removed 0 events" in again.stdout.splitlines()[-1]


def test_clients_show_set_and_clear_a_retention(cli: Tracking) -> None:
    created_ = cli.run("clients", "create", "shop", "--retention-days", "30")
    found = re.search(r"^id\s+(\S+)$", created_.stdout, re.MULTILINE)
    assert found is not None, created_.stdout
    listed = cli.run("clients", "list")
    changed = cli.run("clients", "update", found[1], "--retention-days", "365")
    cleared = cli.run("clients", "update", found[1], "--keep-forever")
    zero = cli.run("clients", "update", found[1], "--retention-days", "0")
    both = cli.run("clients", "update", found[1], "--retention-days", "3", "--keep-forever")

    assert "keeps    events 30 days" in created_.stdout.splitlines()
    assert re.search(r"  30d\s+shop$", listed.stdout, re.MULTILINE), listed.stdout
    assert "keeps    events 365 days" in changed.stdout.splitlines()
    assert "keeps    events for ever" in cleared.stdout.splitlines()
    assert zero.returncode == 2
    assert "'--retention-days': 0 is not in the range 1<=x<=36500" in one_error_line(zero.stderr)
    assert both.returncode == 2
    assert "contradict" in both.stderr
