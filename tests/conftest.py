"""Shared fixtures: a composed in-memory container and an HTTP client over it."""

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.fakes import FixedClock
from tracking.bootstrap import Container, build_container
from tracking.entrypoints.http.app import create_app
from tracking.settings import Settings

ADMIN_KEY = "trk_" + "A" * 43
JWT_SECRET = "s" * 48


@pytest.fixture
def settings() -> Settings:
    return Settings(admin_api_key=ADMIN_KEY, jwt_secret=JWT_SECRET)


@pytest.fixture
def container(settings: Settings) -> Container:
    return build_container(settings)


@pytest.fixture
def app(container: Container) -> Litestar:
    return create_app(container)


@pytest.fixture
async def http(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app) as client:
        yield client


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"X-API-Key": ADMIN_KEY}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()
