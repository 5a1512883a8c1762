"""`tracking serve`: the HTTP API, in one process or several."""

import os

import click

from tracking.bootstrap import resolved
from tracking.entrypoints.admin import ensure_admin
from tracking.entrypoints.cli.common import ANY_STORAGE, handlers_of, load, opened
from tracking.entrypoints.http.app import create_app
from tracking.entrypoints.server import serve_http
from tracking.entrypoints.workers import serve_workers


@click.command()
@click.option("--host", default=None, help="Interface to listen on  [default: 127.0.0.1]")
@click.option("--port", type=int, default=None, help="Port to listen on  [default: 8000]")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--storage", type=ANY_STORAGE, default=None, help="[default: embedded]")
def serve(host: str | None, port: int | None, workers: int, storage: str | None) -> None:
    """Serve the HTTP API until SIGINT or SIGTERM, then finish in-flight requests and stop."""
    settings = load(storage=storage, http_host=host, http_port=port)
    if workers > 1 and settings.storage_kind == "memory":
        raise click.UsageError(
            "--workers: memory storage lives inside one process, so it runs one worker"
        )
    if settings.jwt_secret is None:
        click.echo(
            "tracking: TRACKING_JWT_SECRET is not set: tokens are signed with a key made for "
            "this run and stop working when it stops",
            err=True,
        )
    with opened(settings) as (loop, container):
        handlers = loop.run(handlers_of(container))
        if workers == 1:
            loop.run(serve_http(create_app(container), settings))
            return
        # The admin is ensured once, here, before any worker runs; each worker builds its own
        # app from the environment, on this run's storage.
        loop.run(ensure_admin(handlers, settings))
        os.environ.update(
            TRACKING_STORAGE="postgres",
            TRACKING_DATABASE_URL=loop.run(resolved(container.database())) or "",
            TRACKING_JWT_SECRET=container.jwt_secret(),
        )
        # The workers share this run's Redis (the embedded one, started here); while it is
        # down, each admits its share of a limit.
        redis_url = loop.run(resolved(container.redis_url()))
        if redis_url is not None:
            os.environ["TRACKING_REDIS_URL"] = redis_url
        os.environ.setdefault("TRACKING_RATE_LIMIT_PROCESSES", str(workers))
        serve_workers(settings, workers)
