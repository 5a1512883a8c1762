"""IssueAccessToken: exchange an API key for a short-lived JWT."""

import msgspec

from tracking.application.errors import Unauthenticated
from tracking.application.ports import IssuedToken, TokenCodec, TokenPurpose
from tracking.application.principal import CredentialKind, Principal


class IssueAccessToken(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    purpose: TokenPurpose = "access"


class IssueAccessTokenHandler:
    """Only an API key buys an access token: a token cannot renew itself, so a leaked one
    expires. A stream token (a minute, the live stream only) is bought with either."""

    def __init__(self, tokens: TokenCodec) -> None:
        self._tokens = tokens

    async def __call__(self, command: IssueAccessToken) -> IssuedToken:
        if command.purpose == "access" and command.actor.credential is not CredentialKind.API_KEY:
            raise Unauthenticated("api_key_required", "send X-API-Key to obtain a token")
        return self._tokens.issue(command.actor, command.purpose)
