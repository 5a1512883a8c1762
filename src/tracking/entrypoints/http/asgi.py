"""The app for uvicorn's worker processes: each builds its own from `TRACKING_*`."""

import os

from litestar import Litestar

from tracking.bootstrap import build_container
from tracking.entrypoints.http.app import create_app
from tracking.entrypoints.server import tune_gc
from tracking.settings import load_settings


def app_from_environment() -> Litestar:
    app = create_app(build_container(load_settings(os.environ)))
    tune_gc()
    return app
