"""What the API's metrics are and where they are served: at `/metrics` on the API's port, or
on a port of their own (`TRACKING_PROMETHEUS_PORT`) for clusters that keep metrics private.

Under `serve --workers` a scrape reaches one worker of many: each worker writes its values
to files of its own in a directory the master makes for the run (prometheus_client's
multiprocess mode), and a scrape reads them all, so it answers the sum over the workers.
The consumer never reads that directory: it serves its own process's metrics only."""

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from tracking.bootstrap import StartupError
from tracking.entrypoints.http import observed
from tracking.settings import Settings

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""Read by prometheus_client when it is first imported: set before a worker starts."""


def api_registry(process: CollectorRegistry) -> CollectorRegistry:
    """The adapters' registry (`process`) and the HTTP requests'; under `--workers`, every
    worker's values summed."""
    directory = os.environ.get(MULTIPROCESS_DIR)
    if directory:
        return summed(directory)
    registry = CollectorRegistry()
    # Registered whole: a registry describes no names, so the two never clash here.
    registry.register(process)
    registry.register(observed.REGISTRY)
    return registry


def summed(directory: str) -> CollectorRegistry:
    """What every process writing to `directory` counted, added up."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return registry


def exposition(registry: CollectorRegistry) -> Callable[[], bytes]:
    return lambda: generate_latest(registry)


@contextlib.contextmanager
def workers_directory() -> Iterator[str]:
    """A fresh, empty directory for this run's workers (never one left by an earlier run,
    whose counts would be added to this one's), named in the environment they inherit, and
    removed once they are gone."""
    directory = tempfile.mkdtemp(prefix="tracking-metrics-")
    before = os.environ.get(MULTIPROCESS_DIR)
    os.environ[MULTIPROCESS_DIR] = directory
    try:
        yield directory
    finally:
        if before is None:
            os.environ.pop(MULTIPROCESS_DIR, None)
        else:
            os.environ[MULTIPROCESS_DIR] = before
        shutil.rmtree(directory, ignore_errors=True)


def worker_gone(directory: str, pid: int | None) -> None:
    """A worker that exited: its gauges leave the sums; its counters stay in them, since a
    counter never goes down."""
    if pid is not None:
        mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def metrics_port(settings: Settings, registry: CollectorRegistry) -> Iterator[None]:
    """`registry` served on `TRACKING_PROMETHEUS_PORT` (any path), from a thread of this
    process, while inside; nothing when that port is 0."""
    if not settings.prometheus_port:
        yield
        return
    host, port = settings.prometheus_host, settings.prometheus_port
    try:
        server, thread = start_http_server(port, host, registry)
    except OSError as error:
        raise StartupError(
            f"TRACKING_PROMETHEUS_PORT: cannot listen on {host}:{port}: {error.strerror}"
        ) from None
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
