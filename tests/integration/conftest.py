"""Two tenants registered through the API, for tests that need callers other than the admin."""

import pytest

from tests.integration.http_helpers import Http, Tenant, register
from tests.integration.storage import Storage, storage_of
from tracking.bootstrap import Container


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
