"""Rate limits as real processes share them: exact across two workers, revocation at once
across two servers, and Redis stopped and started under load failing no request."""

import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.e2e.processes import ADMIN_KEY, JWT_SECRET, Server, Tracking
from tests.redis_server import RedisServer

ADMIN = {"X-API-Key": ADMIN_KEY}


def settings(**more: str) -> dict[str, str]:
    return {"TRACKING_ADMIN_API_KEY": ADMIN_KEY, "TRACKING_JWT_SECRET": JWT_SECRET, **more}


def register(server: Server, **limits: int) -> tuple[str, dict[str, str]]:
    body = {"name": f"shop-{uuid.uuid4().hex}", **limits}
    answer = httpx.post(f"{server.url}/api/clients", headers=ADMIN, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], {"X-API-Key": answer.json()["api_key"]}


def wait_for_a_fresh_minute() -> None:
    """So that the burst below is counted in one window."""
    into = time.time() % 60
    if into > 45:
        time.sleep(60 - into + 0.05)


def test_two_workers_admit_exactly_the_limit_between_them(cli: Tracking) -> None:
    server = cli.serve("--workers", "2", env=settings())
    _, shop = register(server, rate_limit_per_minute=40)
    wait_for_a_fresh_minute()

    def one(_: int) -> int:
        with httpx.Client(base_url=server.url, headers=shop) as http:  # a connection each
            return http.get("/api/clients/me").status_code

    with ThreadPoolExecutor(max_workers=24) as pool:
        codes = Counter(pool.map(one, range(120)))

    assert codes == {200: 40, 429: 80}


def test_a_key_rotated_through_one_server_stops_working_in_another_at_once(
    cli: Tracking, database_url: str, redis_url: str
) -> None:
    shared = settings(TRACKING_DATABASE_URL=database_url, TRACKING_REDIS_URL=redis_url)
    # A long-lived cache, so only the announcement can explain the old key failing at once.
    shared["TRACKING_AUTH_CACHE_SECONDS"] = "60"
    first, second = cli.serve(env=shared), cli.serve(env=shared)
    client_id, old = register(first)
    assert httpx.get(f"{second.url}/api/clients/me", headers=old).status_code == 200

    rotated = httpx.post(f"{first.url}/api/clients/{client_id}/rotate-key", headers=old)
    assert rotated.status_code == 200, rotated.text

    assert httpx.get(f"{second.url}/api/clients/me", headers=old).status_code == 401
    new = {"X-API-Key": rotated.json()["api_key"]}
    assert httpx.get(f"{second.url}/api/clients/me", headers=new).status_code == 200
    deactivated = httpx.patch(
        f"{second.url}/api/clients/{client_id}", headers=ADMIN, json={"active": False}
    )
    assert deactivated.status_code == 200, deactivated.text
    assert httpx.get(f"{first.url}/api/clients/me", headers=new).status_code == 401


def test_redis_stopped_and_started_under_load_fails_no_request(
    cli: Tracking, tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path)
    try:
        server = cli.serve(
            env=settings(
                TRACKING_REDIS_URL=redis.url,
                TRACKING_STORAGE="memory",
                TRACKING_RATE_LIMIT_PROCESSES="2",
            )
        )
        _, shop = register(server, rate_limit_per_minute=1_000_000, events_per_minute=1_000_000)
        codes: Counter[int] = Counter()
        limits: Counter[str] = Counter()
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=server.url, headers=shop) as http:
                while not stop.is_set():
                    event = {"user_id": "u", "action": "a"}
                    answer = http.post("/api/event", json=event)
                    codes[answer.status_code] += 1
                    limits[answer.headers.get("X-RateLimit-Limit", "none")] += 1

        loaders = [threading.Thread(target=load) for _ in range(4)]
        for loader in loaders:
            loader.start()
        time.sleep(0.5)
        redis.stop()
        degraded = readiness_until(server, "degraded")
        time.sleep(0.5)
        redis.start()
        ok = readiness_until(server, "ok")
        counted_in_redis = decisions(server, "redis")
        back = decisions_until(server, "redis", counted_in_redis + 100)
        stop.set()
        for loader in loaders:
            loader.join()
        exposition = httpx.get(f"{server.url}/metrics").text
    finally:
        redis.stop()

    assert set(codes) == {201}, codes
    # Counted in Redis, the whole limit; counted here while it was down, this process's half.
    assert set(limits) == {"1000000", "500000"}, limits
    assert degraded["ready"] is True
    assert ok["ready"] is True
    assert back > counted_in_redis  # Redis counts again, on its own
    assert decisions(server, "local") > 0
    assert 'tracking_dependency_up{dependency="redis"} 1.0' in exposition, exposition


def decisions(server: Server, mode: str) -> float:
    line = f'tracking_rate_limit_decisions_total{{mode="{mode}",outcome="admitted"}} '
    exposition = httpx.get(f"{server.url}/metrics").text
    found = [
        float(row.removeprefix(line)) for row in exposition.splitlines() if row.startswith(line)
    ]
    return found[0] if found else 0.0


def decisions_until(server: Server, mode: str, at_least: float) -> float:
    deadline = time.monotonic() + 30
    while (counted := decisions(server, mode)) < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
    return counted


def readiness_until(server: Server, status: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        report = httpx.get(f"{server.url}/health/ready").json()
        if {"name": "redis", "status": status} in [
            {"name": d["name"], "status": d["status"]} for d in report["dependencies"]
        ]:
            return dict(report)
        time.sleep(0.05)
    raise AssertionError(f"readiness never said redis {status}")


def test_a_client_changed_from_the_cli_is_refused_by_a_running_server_at_once(
    cli: Tracking,
) -> None:
    """The CLI and `serve` share the data directory's embedded Redis, and its channel."""
    server = cli.serve(env=settings(TRACKING_AUTH_CACHE_SECONDS="60"))
    client_id, shop = register(server)
    assert httpx.get(f"{server.url}/api/clients/me", headers=shop).status_code == 200

    changed = cli.run("clients", "update", client_id, "--rate-limit", "1")
    assert changed.returncode == 0, changed.stderr

    first = httpx.get(f"{server.url}/api/clients/me", headers=shop)
    assert first.headers["X-RateLimit-Limit"] == "1"
    assert httpx.get(f"{server.url}/api/clients/me", headers=shop).status_code == 429
    deactivated = cli.run("clients", "update", client_id, "--inactive")
    assert deactivated.returncode == 0, deactivated.stderr
    assert httpx.get(f"{server.url}/api/clients/me", headers=shop).status_code == 401


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(cli: Tracking) -> None:
    """From 127.0.0.1 without `TRACKING_TRUSTED_PROXIES`, a forwarded address is not the
    caller's: failures sent under ever new ones are all counted against 127.0.0.1. With
    127.0.0.1 trusted, each forwarded address has a count of its own."""
    limited = settings(TRACKING_AUTH_FAILURES_PER_MINUTE="3")
    untrusted = cli.serve(env=limited)
    trusted = cli.serve(env={**limited, "TRACKING_TRUSTED_PROXIES": "127.0.0.1"})
    wait_for_a_fresh_minute()

    def failures(server: Server, addresses: list[str]) -> list[int]:
        return [
            httpx.get(
                f"{server.url}/api/clients/me",
                headers={"X-API-Key": "trk_" + "x" * 43, "X-Forwarded-For": address},
            ).status_code
            for address in addresses
        ]

    spread = [f"203.0.113.{n}" for n in range(1, 7)]
    assert failures(untrusted, spread) == [401, 401, 401, 429, 429, 429]
    assert failures(trusted, spread) == [401] * 6
    assert failures(trusted, ["198.51.100.7"] * 5) == [401, 401, 401, 429, 429]
