"""Two tenants registered through the API, for tests that need callers other than the admin."""

import pytest

from tests.conftest import ADMIN_KEY, JWT_SECRET
from tests.integration.http_helpers import Http, Tenant, register
from tests.integration.storage import Storage, storage_of
from tracking.bootstrap import Container
from tracking.settings import Settings


@pytest.fixture
async def tenant_a(http: Http, admin_headers: dict[str, str]) -> Tenant:
    return await register(http, admin_headers)


@pytest.fixture
async def tenant_b(http: Http, admin_headers: dict[str, str]) -> Tenant:
    return await register(http, admin_headers)


@pytest.fixture
async def storage(container: Container) -> Storage:
    """Each storage adapter (see `storage_name` in tests/conftest.py), for the contract suites."""
    return await storage_of(container)


@pytest.fixture
def shared(database_url: str, redis_url: str) -> Settings:
    """What processes sharing one database and one Redis are configured with."""
    return Settings(
        storage="postgres",
        database_url=database_url,
        redis_url=redis_url,
        admin_api_key=ADMIN_KEY,
        jwt_secret=JWT_SECRET,
    )
