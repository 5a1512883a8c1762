"""The app for uvicorn's worker processes: each builds its own from `TRACKING_*`."""

import os

from litestar import Litestar

from tracking.bootstrap import build_container
from tracking.entrypoints.http.app import create_app
from tracking.settings import load_settings


def app_from_environment() -> Litestar:
    return create_app(build_container(load_settings(os.environ)))
