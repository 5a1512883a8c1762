"""What `tracking serve` writes on stderr, read as an operator's log collector would: JSON
lines when stderr is not a terminal, every line of a request carrying its request id, route
template and client; readable text when asked for."""

import json

import httpx

from tests.e2e.processes import ADMIN_KEY, API_KEY, Tracking

ENV = {"TRACKING_ADMIN_API_KEY": ADMIN_KEY, "TRACKING_ACCESS_LOG": "true"}


def json_lines(stderr: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_every_request_line_carries_its_request_id_route_and_client(cli: Tracking) -> None:
    server = cli.serve("--storage", "memory", env=ENV)
    admin = {"X-API-Key": ADMIN_KEY}
    me = httpx.get(f"{server.url}/api/clients/me", headers=admin | {"X-Request-ID": "req-me"})
    client_id = me.json()["id"]
    by_id = httpx.get(
        f"{server.url}/api/clients/{client_id}", headers=admin | {"X-Request-ID": "req-id"}
    )
    refused = httpx.get(f"{server.url}/api/clients/me", headers={"X-Request-ID": "req-401"})
    assert (me.status_code, by_id.status_code, refused.status_code) == (200, 200, 401)
    assert server.stop() == 0

    lines = json_lines(server.stderr())
    access = {line.get("request_id"): line for line in lines if line["logger"] == "uvicorn.access"}
    assert access["req-me"] | {"time": None} == {
        "time": None,
        "level": "INFO",
        "logger": "uvicorn.access",
        "message": access["req-me"]["message"],
        "request_id": "req-me",
        "method": "GET",
        "route": "/api/clients/me",
        "client": client_id,
        "remote": access["req-me"]["remote"],
        "path": "/api/clients/me",
        "http_version": "1.1",
        "status": 200,
    }
    # The route is the template, never the path with the id in it (the path is the access
    # log's own field).
    assert access["req-id"]["route"] == "/api/clients/{client_id}"
    assert access["req-id"]["path"] == f"/api/clients/{client_id}"
    # Refused before it was known who called: the request's fields, no client.
    assert access["req-401"]["status"] == 401
    assert access["req-401"]["route"] == "/api/clients/me"
    assert "client" not in access["req-401"]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    assert str(lines[0]["time"]).endswith("Z")


def test_text_format_on_request(cli: Tracking) -> None:
    server = cli.serve("--storage", "memory", env=ENV | {"TRACKING_LOG_FORMAT": "text"})
    httpx.get(f"{server.url}/api/clients/me", headers={"X-Request-ID": "req-text"})
    assert server.stop() == 0

    stderr = server.stderr()
    assert not json_lines(stderr)
    (line,) = [line for line in stderr.splitlines() if "request_id=req-text" in line]
    assert "uvicorn.access" in line
    assert "route=/api/clients/me" in line
    assert " 401" in line


def test_every_line_serve_writes_is_json_off_a_terminal(cli: Tracking) -> None:
    """Its notices too: the storage it runs on, the missing JWT secret, the admin key it
    made, a variable that names no setting."""
    server = cli.serve("--storage", "memory", env={"TRACKING_ACCES_LOG": "true"})
    assert server.stop() == 0

    stderr = server.stderr().splitlines()
    lines = [json.loads(line) for line in stderr]  # each one, or this fails
    messages = " ".join(str(line["message"]) for line in lines)
    for said in ("ignoring TRACKING_ACCES_LOG", "storage is memory", "TRACKING_JWT_SECRET"):
        assert said in messages
    (created,) = [line for line in lines if "created the admin client" in str(line["message"])]
    assert created["level"] == "WARNING"
    assert API_KEY.search(str(created["message"]))
