"""The embedded default: a real PostgreSQL in TRACKING_DATA_DIR, kept across restarts."""

import re
import signal
import socket
import uuid
from collections import Counter

import httpx

from tests.e2e.processes import API_KEY, Tracking, admin_key_printed, one_error_line, readme_flow

STARTING = "starting the embedded PostgreSQL in "
FIRST_START = "this first start initialises its data directory and may take several seconds"
MIGRATING = "migrating the embedded PostgreSQL's schema from nothing to "


def post_fifty_events(url: str, headers: dict[str, str]) -> list[str]:
    """20 single events with ids of our making, and 3 batches of 10 with the service's."""
    ids = []
    for n in range(20):
        body = {"id": str(uuid.uuid4()), "user_id": f"u-{n % 3}", "action": "page.view"}
        answer = httpx.post(f"{url}/api/event", headers=headers, json=body)
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    for batch in range(3):
        items = [{"user_id": f"u-{n}", "action": f"batch.{batch}"} for n in range(10)]
        answer = httpx.post(f"{url}/api/events", headers=headers, json={"events": items})
        assert answer.status_code == 200, answer.text
        assert answer.json()["stored"] == 10
        ids.extend(result["id"] for result in answer.json()["results"])
    return ids


def listed_ids(url: str, headers: dict[str, str]) -> list[str]:
    listed = httpx.get(f"{url}/api/events", headers=headers, params={"limit": "1000"})
    assert listed.status_code == 200, listed.text
    return [event["id"] for event in listed.json()["events"]]


def test_a_first_start_prints_the_admin_key_once_and_that_key_works(cli: Tracking) -> None:
    server = cli.serve()

    key = admin_key_printed(server.stderr())
    assert key is not None, server.stderr()
    me = httpx.get(f"{server.url}/api/clients/me", headers={"X-API-Key": key})
    actions = readme_flow(server.url, key)
    returncode = server.stop(signal.SIGINT)

    assert me.status_code == 200, me.text
    assert me.json()["role"] == "admin"
    assert actions == ["test_action"]
    assert returncode == 0
    assert len(API_KEY.findall(server.stderr())) == 1
    assert (cli.data_dir / "postgres" / "PG_VERSION").exists()
    # What takes a while is said before it starts.
    said = server.stderr()
    assert f"{STARTING}{cli.data_dir / 'postgres'}; {FIRST_START}" in said
    assert said.index(STARTING) < said.index(MIGRATING) < said.index("created the admin client")


def test_a_restart_keeps_every_event_exactly_once_and_the_admin_key(cli: Tracking) -> None:
    first = cli.serve()
    key = admin_key_printed(first.stderr())
    assert key is not None, first.stderr()
    headers = {"X-API-Key": key}
    sent = post_fifty_events(first.url, headers)
    first_returncode = first.stop()
    postgres_left_running = (cli.data_dir / "postgres" / "postmaster.pid").exists()

    second = cli.serve()
    me = httpx.get(f"{second.url}/api/clients/me", headers=headers)
    resent = httpx.post(
        f"{second.url}/api/event",
        headers=headers,
        json={"id": sent[0], "user_id": "u-0", "action": "page.view"},
    )
    listed = listed_ids(second.url, headers)

    assert first_returncode == 0, first.stderr()
    assert not postgres_left_running
    assert len(set(sent)) == 50
    assert Counter(listed) == Counter(sent)
    assert resent.status_code == 200, resent.text
    assert resent.json()["status"] == "duplicate"
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "admin"
    assert admin_key_printed(second.stderr()) is None
    assert not API_KEY.search(second.stderr())
    assert STARTING in second.stderr()
    assert FIRST_START not in second.stderr()
    assert "migrating" not in second.stderr()  # at head already


def test_a_client_created_by_one_process_is_listed_by_another_and_served(cli: Tracking) -> None:
    created = cli.run("clients", "create", "shop-frontend")
    listed = cli.run("clients", "list")
    server = cli.serve()
    while_serving = cli.run("clients", "create", "mobile-app")

    assert created.returncode == 0, created.stderr
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"client  yes .* shop-frontend$", listed.stdout, re.MULTILINE)
    assert while_serving.returncode == 0, while_serving.stderr
    for output, name in ((created.stdout, "shop-frontend"), (while_serving.stdout, "mobile-app")):
        found = API_KEY.search(output)
        assert found is not None, output
        # The second create ran against the server `serve` uses, and left it running.
        me = httpx.get(f"{server.url}/api/clients/me", headers={"X-API-Key": found.group()})
        assert me.status_code == 200, me.text
        assert me.json()["name"] == name
    assert server.stop() == 0
    assert not (cli.data_dir / "postgres" / "postmaster.pid").exists()


def test_after_a_crash_the_next_clean_stop_still_stops_postgresql(cli: Tracking) -> None:
    """A `serve` killed outright cannot stop its PostgreSQL; the next one takes it over, and
    stops it when it stops."""
    crashed = cli.serve()
    crashed.stop(signal.SIGKILL)

    restarted = cli.serve()
    ready = httpx.get(f"{restarted.url}/health/ready")
    returncode = restarted.stop()

    assert ready.status_code == 200, ready.text
    assert returncode == 0, restarted.stderr()
    assert not (cli.data_dir / "postgres" / "postmaster.pid").exists()


def test_a_port_in_use_is_one_line_before_postgresql_starts(cli: Tracking) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = cli.run("serve", "--port", str(port))

    assert result.returncode == 1
    assert one_error_line(result.stderr) == (
        f"Error: cannot listen on 127.0.0.1:{port}: address already in use"
    )
    assert "trk_" not in result.stderr + result.stdout
    assert STARTING not in result.stderr
    assert not (cli.data_dir / "postgres").exists()
