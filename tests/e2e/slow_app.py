"""The real worker app, built slowly: a worker's start as a loaded machine makes it."""

import time

from litestar import Litestar

from tracking.entrypoints.http.asgi import app_from_environment

START_SECONDS = 8  # uvicorn's own worker health check gives up after 5


def app() -> Litestar:
    time.sleep(START_SECONDS)
    return app_from_environment()
