"""Bearer tokens: only an unexpired HS256 JWT this service signed, for us, of an active client."""

import uuid
from datetime import timedelta

import pytest

from tests.conftest import JWT_SECRET
from tests.fakes import FixedClock
from tests.integration.http_helpers import (
    Http,
    Tenant,
    assert_problem,
    bearer,
    claims,
    segment,
    signed,
)
from tracking.adapters.jwt_tokens import PyJwtTokenCodec
from tracking.application.principal import CredentialKind, Principal
from tracking.domain.clients import DEFAULT_EVENTS_PER_MINUTE, DEFAULT_RATE_LIMIT_PER_MINUTE, Role
from tracking.settings import Settings


async def test_an_expired_token_is_a_401(
    http: Http, settings: Settings, tenant_a: Tenant, clock: FixedClock
) -> None:
    codec = PyJwtTokenCodec(
        secret=JWT_SECRET,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl=timedelta(minutes=15),
        clock=clock,
    )
    principal = Principal(
        client_id=uuid.UUID(tenant_a.id),
        role=Role.CLIENT,
        credential=CredentialKind.API_KEY,
        rate_limit_per_minute=DEFAULT_RATE_LIMIT_PER_MINUTE,
        events_per_minute=DEFAULT_EVENTS_PER_MINUTE,
    )
    token = codec.issue(principal).access_token

    answer = await http.get("/api/events", headers={"Authorization": f"Bearer {token}"})

    assert_problem(answer, 401, "token_expired")


async def test_a_hand_made_valid_token_is_accepted(
    http: Http, settings: Settings, tenant_a: Tenant
) -> None:
    answer = await http.get("/api/clients/me", headers=signed(claims(settings, tenant_a.id)))

    assert answer.status_code == 200
    assert answer.json()["id"] == tenant_a.id


async def test_a_token_with_a_rewritten_subject_is_a_401(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant, settings: Settings
) -> None:
    admin_id = (await http.get("/api/clients/me", headers=admin_headers)).json()["id"]
    token = (await bearer(http, tenant_a.api_key))["Authorization"].removeprefix("Bearer ")
    header, _, signature = token.split(".")
    forged = segment(claims(settings, admin_id, role="admin"))

    answer = await http.get(
        "/api/clients", headers={"Authorization": f"Bearer {header}.{forged}.{signature}"}
    )

    assert_problem(answer, 401, "invalid_token")


async def test_an_unsigned_alg_none_token_is_a_401(
    http: Http, settings: Settings, tenant_a: Tenant
) -> None:
    token = f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims(settings, tenant_a.id))}."

    answer = await http.get("/api/events", headers={"Authorization": f"Bearer {token}"})

    assert_problem(answer, 401, "invalid_token")


@pytest.mark.parametrize(
    "changes",
    [{"aud": "someone-else"}, {"iss": "someone-else"}, {"sub": "not-a-uuid"}],
    ids=["wrong-aud", "wrong-iss", "bad-sub"],
)
async def test_a_token_not_meant_for_us_is_a_401(
    http: Http, settings: Settings, tenant_a: Tenant, changes: dict[str, str]
) -> None:
    token = signed(claims(settings, tenant_a.id, **changes))

    answer = await http.get("/api/events", headers=token)

    assert_problem(answer, 401, "invalid_token")


async def test_a_token_signed_with_another_secret_is_a_401(
    http: Http, settings: Settings, tenant_a: Tenant
) -> None:
    token = signed(claims(settings, tenant_a.id), secret="another-secret-" + "x" * 40)

    assert_problem(await http.get("/api/events", headers=token), 401, "invalid_token")


async def test_a_token_missing_a_required_claim_is_a_401(
    http: Http, settings: Settings, tenant_a: Tenant
) -> None:
    payload = claims(settings, tenant_a.id)
    del payload["jti"]

    assert_problem(await http.get("/api/events", headers=signed(payload)), 401, "invalid_token")


async def test_a_token_for_an_unknown_client_is_a_401(http: Http, settings: Settings) -> None:
    token = signed(claims(settings, str(uuid.uuid4())))

    assert_problem(await http.get("/api/events", headers=token), 401, "invalid_token")
