"""Privacy routes: erase a user (and suppress them), lift a suppression, export a user's data;
and the erasure log, for an admin."""

from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import unquote
from uuid import UUID

from litestar import Controller, Request, delete, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream

from tracking.application.commands.erase_user import EraseUser, EraseUserHandler, ErasureReceipt
from tracking.application.commands.lift_suppression import (
    LiftSuppression,
    LiftSuppressionHandler,
)
from tracking.application.handlers import Handlers
from tracking.application.queries.export_user import ExportUser, ExportUserHandler
from tracking.application.queries.list_erasures import (
    ErasurePage,
    ListErasures,
    ListErasuresHandler,
)
from tracking.entrypoints.http.auth import AuthenticatedRequest
from tracking.entrypoints.http.listing import DEFAULT_LIMIT, ClientId, Cursor, Limit
from tracking.entrypoints.http.openapi import documented

NDJSON = "application/x-ndjson"
_PREFIX = "/api/users/"
Suppress = Annotated[
    bool,
    QueryParameter(description="Also refuse the user's later events (`user_suppressed`)."),
]


def _user_id(request: Request[Any, Any, Any], suffix: str) -> str:
    """The user id as sent, from the raw path: one percent-encoded segment. A user id holding
    an encoded `/` would otherwise be matched against another route (`x%2Fsuppression` as the
    user `x`'s suppression): such a path names no route here (404)."""
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    # Some servers keep the query string in it (the ASGI spec says they should not).
    rest = raw.decode("latin-1").partition("?")[0].removeprefix(_PREFIX)
    segment = rest.removesuffix(suffix) if suffix else rest
    if (suffix and not rest.endswith(suffix)) or "/" in segment or not segment:
        raise NotFoundException()
    return unquote(segment)


class UserController(Controller):
    path = "/api/users"
    tags = ("privacy",)

    @delete(
        "/{user_id:str}",
        status_code=200,
        summary="Erase a user (and suppress them)",
        description=EraseUserHandler.__doc__,
        responses=documented(400, 401, 403, 404),
    )
    async def erase(
        self,
        *,
        user_id: FromPath[str],  # noqa: ARG002 - read from the raw path
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
        client_id: ClientId = None,
        suppress: Suppress = False,
    ) -> ErasureReceipt:
        command = EraseUser(
            actor=request.user,
            user_id=_user_id(request, ""),
            client_id=client_id,
            suppress=suppress,
        )
        return await handlers.erase_user(command)

    @delete(
        "/{user_id:str}/suppression",
        summary="Lift a user's suppression",
        description=LiftSuppressionHandler.__doc__,
        responses=documented(400, 401, 403, 404),
    )
    async def lift(
        self,
        user_id: FromPath[str],  # noqa: ARG002 - read from the raw path
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
        client_id: ClientId = None,
    ) -> None:
        command = LiftSuppression(
            actor=request.user, user_id=_user_id(request, "/suppression"), client_id=client_id
        )
        await handlers.lift_suppression(command)

    @get(
        "/{user_id:str}/export",
        summary="Export a user's events and metric rows (NDJSON)",
        description=ExportUserHandler.__doc__,
        media_type=NDJSON,
        responses={
            200: ResponseSpec(str, description="One JSON object a line", media_type=NDJSON),
            **documented(400, 401, 403, 404),
        },
    )
    async def export(
        self,
        user_id: FromPath[str],  # noqa: ARG002 - read from the raw path
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
        client_id: ClientId = None,
    ) -> Stream:
        query = ExportUser(
            actor=request.user, user_id=_user_id(request, "/export"), client_id=client_id
        )
        lines: AsyncIterator[bytes] = await handlers.export_user(query)
        return Stream(lines, media_type=NDJSON)


class ErasureController(Controller):
    path = "/api/erasures"
    tags = ("privacy",)

    @get(
        "/",
        summary="The erasure log (admin)",
        description=ListErasuresHandler.__doc__,
        responses=documented(400, 401, 403),
    )
    async def list_erasures(
        self,
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
        client_id: FromQuery[UUID | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> ErasurePage:
        query = ListErasures(actor=request.user, client_id=client_id, limit=limit, cursor=cursor)
        return await handlers.list_erasures(query)
