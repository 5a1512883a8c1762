"""IssueAccessToken: exchange an API key for a short-lived JWT."""

import msgspec

from tracking.application.errors import Unauthenticated
from tracking.application.ports import IssuedToken, TokenCodec
from tracking.application.principal import CredentialKind, Principal


class IssueAccessToken(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal


class IssueAccessTokenHandler:
    """Only an API key buys a token: a token cannot renew itself, so a leaked one expires."""

    def __init__(self, tokens: TokenCodec) -> None:
        self._tokens = tokens

    async def __call__(self, command: IssueAccessToken) -> IssuedToken:
        if command.actor.credential is not CredentialKind.API_KEY:
            raise Unauthenticated("api_key_required", "send X-API-Key to obtain a token")
        return self._tokens.issue(command.actor)
