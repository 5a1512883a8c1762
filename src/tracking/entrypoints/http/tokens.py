"""Token route: exchange an API key for a short-lived JWT."""

from litestar import Controller, post
from litestar.di import NamedDependency

from tracking.application.commands.issue_access_token import (
    IssueAccessToken,
    IssueAccessTokenHandler,
)
from tracking.application.handlers import Handlers
from tracking.entrypoints.http.auth import AuthenticatedRequest
from tracking.entrypoints.http.openapi import documented
from tracking.entrypoints.http.schemas import TokenOut


class TokenController(Controller):
    path = "/api/auth"
    tags = ("auth",)

    @post(
        "/token",
        status_code=200,
        summary="Exchange an API key for a JWT",
        description=IssueAccessTokenHandler.__doc__,
        responses=documented(401),
    )
    async def token(
        self,
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
    ) -> TokenOut:
        issued = await handlers.issue_access_token(IssueAccessToken(actor=request.user))
        return TokenOut(
            access_token=issued.access_token,
            token_type="Bearer",  # noqa: S106 - the scheme's name
            expires_in=issued.expires_in,
        )
