"""`serve --workers N`: N worker processes on one listening socket, behaving like one server.

- SIGTERM or SIGINT to the master is passed on to every worker, which finishes the requests in
  flight (those waiting in the listen backlog included) and exits; the master exits 0 once
  they have, and kills any still running after the graceful timeout.
- The master's death, even by SIGKILL, takes the workers with it (`die_with`): nothing
  keeps the port after it is gone.
- A worker that exits is replaced; one that fails to start (exit 3) stops the whole server
  with exit 1, since its replacements would fail alike. No health check runs against a
  worker that is starting, so a slow machine's slow start is never killed for it.
- Metrics are the sum over the workers, at whichever one a scrape reaches, or at the
  master on TRACKING_PROMETHEUS_PORT (`prometheus.py`).

uvicorn's own supervisor does none of the first three (it resets the backlog, leaves orphans,
and kills workers that answer its ping late)."""

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from tracking.entrypoints.prometheus import (
    metrics_port,
    summed,
    worker_gone,
    workers_directory,
)
from tracking.entrypoints.server import GRACEFUL_SHUTDOWN_SECONDS, GracefulServer, http_config
from tracking.settings import Settings

log = logging.getLogger(__name__)

FACTORY = "tracking.entrypoints.http.asgi:app_from_environment"
POLL_SECONDS = 0.2
STOP_MARGIN_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1
_MASTER_POLL_SECONDS = 1.0


def serve_workers(settings: Settings, workers: int, sock: socket.socket) -> None:
    """Each worker builds the app from the environment (`http/asgi.py`) and serves on `sock`,
    bound by the caller (`server.listening_socket`)."""
    config = http_config(FACTORY, settings, factory=True)
    try:
        with workers_directory() as metrics, metrics_port(settings, summed(metrics)):
            _supervise(workers, config, sock, metrics)
    finally:
        sock.close()


def _supervise(workers: int, config: uvicorn.Config, sock: socket.socket, metrics: str) -> None:
    context = multiprocessing.get_context("spawn")
    stopping: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda sig, _: stopping.append(sig))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    running = [_start(context, config, sock) for _ in range(workers)]
    failed = False
    try:
        while not stopping and not failed:
            time.sleep(POLL_SECONDS)
            for index, worker in enumerate(running):
                if worker.is_alive():
                    continue
                if worker.exitcode == STARTUP_FAILURE:
                    log.error("worker %s failed to start: stopping", worker.pid)
                    failed = True
                    break
                log.warning(
                    "worker %s exited with %s: starting another", worker.pid, worker.exitcode
                )
                worker_gone(metrics, worker.pid)
                running[index] = _start(context, config, sock)
    finally:
        # Closed first: once the workers have closed theirs, a new connection is refused at
        # once (and can be retried elsewhere) rather than queued for a socket nobody serves.
        sock.close()
        _stop(running)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed:
        raise SystemExit(1)


def _start(
    context: multiprocessing.context.SpawnContext, config: uvicorn.Config, sock: socket.socket
) -> BaseProcess:
    worker = context.Process(
        target=_serve, args=(config, sock, os.getpid()), name="tracking-worker"
    )
    worker.start()
    return worker


def _serve(config: uvicorn.Config, sock: socket.socket, master: int) -> None:  # pragma: no cover
    """A worker: first of all bound to its master's life, then serving."""
    die_with(master)
    config.configure_logging()  # uvicorn's loggers, as the master set them (access log off)
    GracefulServer(config).run(sockets=[sock])


def die_with(master: int) -> None:
    """A worker whose master died (even by SIGKILL) stops as if told to, gracefully, so no
    orphan keeps the port after the master is gone. Linux says so with a signal; elsewhere a
    thread looks for the master every second. A master gone already (before the signal was
    asked for) is seen at once."""
    if not _signalled_when_parent_dies():
        threading.Thread(target=_watch, args=(master,), daemon=True).start()
    if os.getppid() != master:
        os.kill(os.getpid(), signal.SIGTERM)


def _signalled_when_parent_dies() -> bool:
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    try:
        failed: int = ctypes.CDLL(libc_name).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return False
    return failed == 0


def _watch(master: int) -> None:
    while os.getppid() == master:
        time.sleep(_MASTER_POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


def _stop(running: list[BaseProcess]) -> None:
    for worker in running:
        if worker.is_alive() and worker.pid is not None:
            os.kill(worker.pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACEFUL_SHUTDOWN_SECONDS + STOP_MARGIN_SECONDS
    for worker in running:
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            log.error("worker %s did not stop in time: killed", worker.pid)
            worker.kill()
            worker.join()
