"""Two tenants registered through the API, for tests that need callers other than the admin."""

import pytest

from tests.integration.http_helpers import Http, Tenant, register
from tests.integration.storage import STORAGES, Storage, build_storage


@pytest.fixture
async def tenant_a(http: Http, admin_headers: dict[str, str]) -> Tenant:
    return await register(http, admin_headers)


@pytest.fixture
async def tenant_b(http: Http, admin_headers: dict[str, str]) -> Tenant:
    return await register(http, admin_headers)


@pytest.fixture(params=STORAGES)
def storage(request: pytest.FixtureRequest) -> Storage:
    return build_storage(request.param)
