"""Authenticate: exactly one credential, of an active client, gives the caller's principal."""

import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from tests.fakes import FixedClock
from tests.unit.support import (
    AUDIENCE,
    ISSUER,
    JWT_SECRET,
    ChangesSpy,
    authenticator,
    codec,
    principal_of,
    register,
    uow_factory,
)
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.commands.deactivate_client import (
    DeactivateClient,
    DeactivateClientHandler,
)
from tracking.application.commands.register_client import RegisteredClient
from tracking.application.errors import Unauthenticated
from tracking.application.principal import CredentialKind, Principal
from tracking.application.queries.authenticate import Authenticate
from tracking.domain.clients import Role


def b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def b64_json(value: object) -> str:
    return b64(json.dumps(value).encode())


def claims_for(client_id: object) -> dict[str, object]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(client_id),
        "role": "admin",
        "iat": now,
        "exp": now + 600,
        "jti": uuid4().hex,
    }


def token_for(acme: RegisteredClient) -> str:
    return codec().issue(principal_of(acme.client)).access_token


@pytest.fixture
async def acme(store: InMemoryStore) -> RegisteredClient:
    return await register(store, "acme")


async def test_a_valid_api_key_gives_its_clients_principal(
    store: InMemoryStore, acme: RegisteredClient
) -> None:
    principal = await authenticator(store)(Authenticate(api_key=acme.api_key))

    assert principal == Principal(
        client_id=acme.client.id,
        role=Role.CLIENT,
        credential=CredentialKind.API_KEY,
        rate_limit_per_minute=acme.client.rate_limit_per_minute,
        events_per_minute=acme.client.events_per_minute,
    )


@pytest.mark.parametrize("api_key", ["trk_" + "Z" * 43, "", "not-a-key"])
async def test_an_unknown_api_key_is_refused(
    store: InMemoryStore, acme: RegisteredClient, api_key: str
) -> None:
    with pytest.raises(Unauthenticated) as refused:
        await authenticator(store)(Authenticate(api_key=api_key))

    assert refused.value.code == "invalid_api_key"


async def test_both_credentials_at_once_are_refused_even_when_both_are_valid(
    store: InMemoryStore, acme: RegisteredClient
) -> None:
    query = Authenticate(api_key=acme.api_key, bearer_token=token_for(acme))

    with pytest.raises(Unauthenticated) as refused:
        await authenticator(store)(query)

    assert refused.value.code == "ambiguous_credentials"


async def test_no_credential_is_refused(store: InMemoryStore) -> None:
    with pytest.raises(Unauthenticated) as refused:
        await authenticator(store)(Authenticate())

    assert refused.value.code == "missing_credentials"


async def test_a_token_this_service_issued_gives_its_clients_principal(
    store: InMemoryStore, acme: RegisteredClient
) -> None:
    principal = await authenticator(store)(Authenticate(bearer_token=token_for(acme)))

    assert principal == principal_of(acme.client, CredentialKind.TOKEN)


async def test_an_expired_token_is_refused_as_expired(
    store: InMemoryStore, acme: RegisteredClient
) -> None:
    an_hour_ago = FixedClock(datetime.now(UTC) - timedelta(hours=1))
    token = codec(an_hour_ago, ttl=timedelta(minutes=15)).issue(principal_of(acme.client))

    with pytest.raises(Unauthenticated) as refused:
        await authenticator(store)(Authenticate(bearer_token=token.access_token))

    assert refused.value.code == "token_expired"


def tampered_signature(acme: RegisteredClient) -> str:
    header, payload, signature = token_for(acme).split(".")
    first = "B" if signature[0] == "A" else "A"
    return f"{header}.{payload}.{first}{signature[1:]}"


def claims_swapped_to_another_client(acme: RegisteredClient) -> str:
    header, _, signature = token_for(acme).split(".")
    return f"{header}.{b64_json(claims_for(uuid4()))}.{signature}"


def unsigned(acme: RegisteredClient) -> str:
    header = b64_json({"alg": "none", "typ": "JWT"})
    return f"{header}.{b64_json(claims_for(acme.client.id))}."


def for_another_audience(acme: RegisteredClient) -> str:
    return codec(audience="another-api").issue(principal_of(acme.client)).access_token


def from_another_issuer(acme: RegisteredClient) -> str:
    return codec(issuer="someone-else").issue(principal_of(acme.client)).access_token


def signed_with_another_secret(acme: RegisteredClient) -> str:
    other = JWT_SECRET[::-1] + "-other"
    return codec(secret=other).issue(principal_of(acme.client)).access_token


def garbage(acme: RegisteredClient) -> str:
    return "not.a.token"


FORGERIES: list[Callable[[RegisteredClient], str]] = [
    tampered_signature,
    claims_swapped_to_another_client,
    unsigned,
    for_another_audience,
    from_another_issuer,
    signed_with_another_secret,
    garbage,
]


@pytest.mark.parametrize("forge", FORGERIES)
async def test_a_token_this_service_did_not_issue_as_it_is_is_refused(
    store: InMemoryStore, acme: RegisteredClient, forge: Callable[[RegisteredClient], str]
) -> None:
    token = forge(acme)

    with pytest.raises(Unauthenticated) as refused:
        await authenticator(store)(Authenticate(bearer_token=token))

    assert refused.value.code == "invalid_token"


async def test_a_deactivated_client_is_refused_with_its_still_unexpired_token_and_key(
    store: InMemoryStore, acme: RegisteredClient
) -> None:
    token = token_for(acme)
    deactivate = DeactivateClientHandler(uow_factory(store), ChangesSpy(store))
    await deactivate(DeactivateClient(actor=Principal.operator(), client_id=acme.client.id))

    with pytest.raises(Unauthenticated) as by_token:
        await authenticator(store)(Authenticate(bearer_token=token))
    with pytest.raises(Unauthenticated) as by_key:
        await authenticator(store)(Authenticate(api_key=acme.api_key))

    assert (by_token.value.code, by_key.value.code) == ("invalid_token", "invalid_api_key")
