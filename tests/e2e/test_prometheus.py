"""Metrics as a scraper sees them, from real processes: under `serve --workers 2` every scrape,
whichever worker answers it, counts every worker's requests; on a port of their own, they are
there and not on the API's port."""

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.processes import Server, Tracking, free_port, one_error_line
from tests.e2e.test_workers import alive, workers_of

REQUESTS = 60
SCRAPES = 10
ROUNDS = 20
ROUTE = "/health/ready"
WITHIN_SECONDS = 60


def counted(text: str, route: str = ROUTE, status: str = "200") -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = {"route": route, "method": "GET", "status": status}
            if sample.name == "tracking_http_requests_total" and sample.labels == labels:
                return float(sample.value)
    return 0.0


def scrape(url: str) -> str:
    """On a connection of its own, so each scrape may reach any worker."""
    answer = httpx.get(f"{url}/metrics", headers={"Connection": "close"})
    assert answer.status_code == 200, answer.text
    return answer.text


def send(server: Server, count: int) -> None:
    """`count` requests, eight at a time, each on a connection of its own: both workers
    take some."""

    def one(_: int) -> int:
        return httpx.get(f"{server.url}{ROUTE}", headers={"Connection": "close"}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one, range(count)))
    assert statuses == [200] * count, server.stderr()


def metrics_directory(worker: int) -> Path:
    """Where the worker writes its values, as its master told it."""
    environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
    named = next(v for v in environ if v.startswith(b"PROMETHEUS_MULTIPROC_DIR="))
    return Path(named.partition(b"=")[2].decode())


def served_by_each(master: int) -> list[float]:
    """What each live worker counted itself, read from its own files (the scrape adds them
    up; this shows there was something to add)."""
    counts = []
    for pid in workers_of(master):
        files = [str(f) for f in metrics_directory(pid).glob(f"*_{pid}.db")]
        families = MultiProcessCollector.merge(files)  # type: ignore[no-untyped-call]
        counts.append(
            sum(
                s.value
                for family in families
                for s in family.samples
                if s.name == "tracking_http_requests_total" and s.labels.get("route") == ROUTE
            )
        )
    return counts


def test_every_scrape_of_two_workers_counts_the_requests_of_both(cli: Tracking) -> None:
    server = cli.serve("--workers", "2")
    sent = 0
    # The kernel may hand one worker every connection for a while: send until both have
    # served some, so the scrapes below are sums of two.
    while sent < REQUESTS * ROUNDS and not both_served(server.process.pid):
        send(server, REQUESTS)
        sent += REQUESTS

    scrapes = [counted(scrape(server.url)) for _ in range(SCRAPES)]

    assert scrapes == [sent] * SCRAPES
    each = served_by_each(server.process.pid)
    assert len(each) == 2
    assert sum(each) == sent
    assert all(each), each  # both served: the scrapes above were sums


def both_served(master: int) -> bool:
    each = served_by_each(master)
    return len(each) == 2 and all(each)


def test_a_worker_replaced_takes_nothing_from_the_counts(cli: Tracking) -> None:
    server = cli.serve("--workers", "2")
    send(server, REQUESTS)
    first, *_ = workers_of(server.process.pid)
    directory = metrics_directory(first)

    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + WITHIN_SECONDS
    while time.monotonic() < deadline:
        now = workers_of(server.process.pid)
        if first not in now and len(now) == 2 and not alive(first):
            break
        time.sleep(0.1)
    httpx.get(f"{server.url}/health/live")  # the replacement serves

    texts = [scrape(server.url) for _ in range(SCRAPES)]
    assert [counted(text) for text in texts] == [REQUESTS] * SCRAPES
    # Its counters stay in the sums (a counter never goes down); its gauges leave them.
    assert list(directory.glob(f"counter_{first}.db"))
    assert not list(directory.glob(f"gauge_live*_{first}.db"))
    assert list(directory.glob("gauge_livesum_*.db"))
    assert 'tracking_dependency_up{dependency="database"} 1.0' in texts[-1], texts[-1]


def test_with_workers_metrics_are_on_their_own_port_only(cli: Tracking) -> None:
    port = free_port()
    server = cli.serve("--workers", "2", env={"TRACKING_PROMETHEUS_PORT": str(port)})
    send(server, REQUESTS)

    metrics = f"http://127.0.0.1:{port}"
    assert [counted(scrape(metrics)) for _ in range(SCRAPES)] == [REQUESTS] * SCRAPES
    assert httpx.get(f"{server.url}/metrics").status_code == 404


def test_one_process_serves_its_metrics_on_their_own_port(cli: Tracking) -> None:
    port = free_port()
    env = {"TRACKING_PROMETHEUS_PORT": str(port), "TRACKING_PROMETHEUS_HOST": "127.0.0.1"}
    server = cli.serve("--storage", "memory", env=env)
    send(server, 5)

    assert counted(scrape(f"http://127.0.0.1:{port}")) == 5
    assert httpx.get(f"{server.url}/metrics").status_code == 404
    assert server.stop() == 0


def test_the_metrics_port_cannot_be_the_api_port(cli: Tracking) -> None:
    port = free_port()
    ran = cli.run(
        "serve", "--storage", "memory", "--port", str(port),
        env={"TRACKING_PROMETHEUS_PORT": str(port)},
    )  # fmt: skip

    assert ran.returncode == 1
    assert "TRACKING_PROMETHEUS_PORT: must differ from TRACKING_HTTP_PORT" in one_error_line(
        ran.stderr
    )
