"""Authenticate: turn a credential into the principal every other use case is told about."""

import msgspec

from tracking.application.errors import Unauthenticated
from tracking.application.ports import ClientReadModel, TokenCodec
from tracking.application.principal import Principal
from tracking.domain.clients import hash_api_key


class Authenticate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    api_key: str | None = None
    bearer_token: str | None = None


class AuthenticateHandler:
    """Exactly one credential: an API key, or a JWT this service issued. Either way the client
    must exist and be active now, so deactivation takes effect at once."""

    def __init__(self, clients: ClientReadModel, tokens: TokenCodec) -> None:
        self._clients = clients
        self._tokens = tokens

    async def __call__(self, query: Authenticate) -> Principal:
        if query.api_key is not None and query.bearer_token is not None:
            raise Unauthenticated(
                "ambiguous_credentials", "send either Authorization or X-API-Key, not both"
            )
        if query.api_key is not None:
            principal = await self._clients.principal_for_key(hash_api_key(query.api_key))
            if principal is None:
                raise Unauthenticated("invalid_api_key", "the API key is not valid")
            return principal
        if query.bearer_token is not None:
            client_id = self._tokens.verify(query.bearer_token)
            principal = await self._clients.principal_for_token(client_id)
            if principal is None:
                raise Unauthenticated("invalid_token", "the token's client is not active")
            return principal
        raise Unauthenticated(
            "missing_credentials", "send Authorization: Bearer <token> or X-API-Key: <key>"
        )
