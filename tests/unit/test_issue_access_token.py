"""IssueAccessToken: an API key buys a token; a token cannot buy another."""

import pytest

from tests.unit.support import TOKEN_TTL, authenticator, codec, principal_of, register
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.commands.issue_access_token import (
    IssueAccessToken,
    IssueAccessTokenHandler,
)
from tracking.application.errors import Unauthenticated
from tracking.application.principal import CredentialKind
from tracking.application.queries.authenticate import Authenticate


@pytest.fixture
def handler() -> IssueAccessTokenHandler:
    return IssueAccessTokenHandler(codec())


async def test_an_api_key_principal_gets_a_token_that_authenticates_it(
    handler: IssueAccessTokenHandler, store: InMemoryStore
) -> None:
    acme = (await register(store, "acme")).client

    issued = await handler(IssueAccessToken(actor=principal_of(acme)))

    assert issued.expires_in == TOKEN_TTL.total_seconds()
    principal = await authenticator(store)(Authenticate(bearer_token=issued.access_token))
    assert principal == principal_of(acme, CredentialKind.TOKEN)


@pytest.mark.parametrize("credential", [CredentialKind.TOKEN, CredentialKind.OPERATOR])
async def test_a_principal_without_an_api_key_gets_no_token(
    handler: IssueAccessTokenHandler, store: InMemoryStore, credential: CredentialKind
) -> None:
    acme = (await register(store, "acme")).client

    with pytest.raises(Unauthenticated) as refused:
        await handler(IssueAccessToken(actor=principal_of(acme, credential)))

    assert refused.value.code == "api_key_required"
