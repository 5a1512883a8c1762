"""`tracking serve`: the HTTP API, in one process or several."""

import logging
import os
import socket

import click

from tracking.entrypoints.cli.common import (
    ANY_STORAGE,
    FromEnvironment,
    environment_default,
    load,
    storage_default,
)
from tracking.settings import Settings

log = logging.getLogger(__name__)


@click.command()
@click.option(
    "--host",
    cls=FromEnvironment,
    shown=environment_default("http_host"),
    help="Interface to listen on.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    cls=FromEnvironment,
    shown=environment_default("http_port"),
    help="Port to listen on.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes, on one listening socket.",
)
@click.option(
    "--storage",
    type=ANY_STORAGE,
    cls=FromEnvironment,
    shown=storage_default,
    help="Where the data lives.",
)
def serve(host: str | None, port: int | None, workers: int, storage: str | None) -> None:
    """Serve the HTTP API until SIGINT or SIGTERM, then finish in-flight requests and stop."""
    settings = load(storage=storage, http_host=host, http_port=port)
    if workers > 1 and settings.storage_kind == "memory":
        raise click.UsageError(
            "--workers: memory storage lives inside one process, so it runs one worker"
        )
    from tracking.entrypoints.server import CannotListen, listening_socket  # noqa: PLC0415

    # Bound before anything starts: a port in use is the one thing said, before the
    # embedded PostgreSQL starts or an admin key is printed.
    try:
        sock = listening_socket(settings)
    except CannotListen as error:
        raise click.ClickException(str(error)) from None
    with sock:
        if settings.jwt_secret is None:
            log.warning(
                "TRACKING_JWT_SECRET is not set: tokens are signed with a key made for this "
                "run and stop working when it stops"
            )
        _serve(settings, workers, sock)


def _serve(settings: Settings, workers: int, sock: socket.socket) -> None:
    from tracking.bootstrap import resolved  # noqa: PLC0415
    from tracking.entrypoints.admin import ensure_admin  # noqa: PLC0415
    from tracking.entrypoints.cli.running import handlers_of, opened  # noqa: PLC0415
    from tracking.entrypoints.http.app import create_app  # noqa: PLC0415
    from tracking.entrypoints.server import serve_http  # noqa: PLC0415
    from tracking.entrypoints.workers import serve_workers  # noqa: PLC0415

    with opened(settings) as (loop, container):
        handlers = loop.run(handlers_of(container))
        if workers == 1:
            loop.run(serve_http(create_app(container), settings, sock))
            return
        # The admin is ensured once, here, before any worker runs; each worker builds its own
        # app from the environment, on this run's storage, logging as this run does.
        loop.run(ensure_admin(handlers, settings))
        os.environ.update(
            TRACKING_STORAGE="postgres",
            TRACKING_DATABASE_URL=loop.run(resolved(container.database())) or "",
            TRACKING_JWT_SECRET=container.jwt_secret(),
            TRACKING_LOG_LEVEL=settings.log_level,
        )
        # The workers share this run's Redis (the embedded one, started here); while it is
        # down, each admits its share of a limit.
        redis_url = loop.run(resolved(container.redis_url()))
        if redis_url is not None:
            os.environ["TRACKING_REDIS_URL"] = redis_url
        os.environ.setdefault("TRACKING_RATE_LIMIT_PROCESSES", str(workers))
        serve_workers(settings, workers, sock)
