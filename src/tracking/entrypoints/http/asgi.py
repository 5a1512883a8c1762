"""The app for uvicorn's worker processes: each builds its own from `TRACKING_*`, on the
storage and with the admin `serve` made ready before starting them."""

import os

from litestar import Litestar

from tracking.bootstrap import Container
from tracking.entrypoints.http.app import create_app
from tracking.entrypoints.logs import configure_logging
from tracking.entrypoints.server import tune_gc
from tracking.settings import load_settings


def app_from_environment() -> Litestar:
    settings = load_settings(os.environ)
    configure_logging(settings)
    app = create_app(Container(settings=settings), admin=False)
    tune_gc()
    return app
