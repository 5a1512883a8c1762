"""Client routes: register, read, change, rotate keys, deactivate."""

from typing import TypeVar
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from tracking.application.commands.deactivate_client import (
    DeactivateClient,
    DeactivateClientHandler,
)
from tracking.application.commands.register_client import RegisterClient
from tracking.application.commands.rotate_api_key import RotateApiKey
from tracking.application.commands.update_client import UpdateClient, UpdateClientHandler
from tracking.application.handlers import Handlers
from tracking.application.queries.get_client import GetClient
from tracking.application.queries.list_clients import ListClients
from tracking.application.views import ClientView
from tracking.entrypoints.http.auth import AuthenticatedRequest
from tracking.entrypoints.http.body import JsonBody
from tracking.entrypoints.http.openapi import documented
from tracking.entrypoints.http.schemas import ClientIn, ClientUpdateIn, ClientWithKey

T = TypeVar("T")


class ClientBody(JsonBody[ClientIn]):
    pass


class ClientUpdateBody(JsonBody[ClientUpdateIn]):
    pass


def _given(value: T | msgspec.UnsetType) -> T | None:
    """A body's field as a command takes it: None when the body left it out."""
    return None if isinstance(value, msgspec.UnsetType) else value


class ClientController(Controller):
    path = "/api/clients"
    tags = ("clients",)

    @post(
        "/",
        dto=ClientBody,
        return_dto=None,
        summary="Register a client (admin)",
        description="The answer holds the client's API key: it is shown this once only.",
        responses=documented(400, 401, 403, 409, 415),
    )
    async def register(
        self,
        data: JSONBody[ClientIn],
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
    ) -> ClientWithKey:
        command = RegisterClient(
            actor=request.user,
            name=data.name,
            role=data.role,
            rate_limit_per_minute=_given(data.rate_limit_per_minute),
            events_per_minute=_given(data.events_per_minute),
            retention_days=_given(data.retention_days),
        )
        registered = await handlers.register_client(command)
        return ClientWithKey.of(registered.client, registered.api_key)

    @get("/", summary="List clients (admin)", responses=documented(401, 403))
    async def list_all(
        self,
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
    ) -> list[ClientView]:
        return await handlers.list_clients(ListClients(actor=request.user))

    @get("/me", summary="The calling client", responses=documented(401))
    async def me(
        self, request: AuthenticatedRequest, handlers: NamedDependency[Handlers]
    ) -> ClientView:
        return await handlers.get_client(
            GetClient(actor=request.user, client_id=request.user.client_id)
        )

    @get(
        "/{client_id:uuid}",
        summary="One client (admin, or the client itself)",
        responses=documented(401, 404),
    )
    async def one(
        self,
        client_id: FromPath[UUID],
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
    ) -> ClientView:
        return await handlers.get_client(GetClient(actor=request.user, client_id=client_id))

    @patch(
        "/{client_id:uuid}",
        dto=ClientUpdateBody,
        return_dto=None,
        summary="Change a client's limits, role, activity or retention (admin)",
        description=UpdateClientHandler.__doc__,
        responses=documented(400, 401, 403, 404, 409, 415),
    )
    async def update(
        self,
        client_id: FromPath[UUID],
        data: JSONBody[ClientUpdateIn],
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
    ) -> ClientView:
        command = UpdateClient(
            actor=request.user,
            client_id=client_id,
            rate_limit_per_minute=_given(data.rate_limit_per_minute),
            events_per_minute=_given(data.events_per_minute),
            role=_given(data.role),
            active=_given(data.active),
            retention_days=data.retention_days,
        )
        return await handlers.update_client(command)

    @post(
        "/{client_id:uuid}/rotate-key",
        status_code=200,
        summary="Rotate a client's API key (admin, or the client itself)",
        description="The old key stops working at once; the new one is shown this once only.",
        responses=documented(401, 404),
    )
    async def rotate_key(
        self,
        client_id: FromPath[UUID],
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
    ) -> ClientWithKey:
        rotated = await handlers.rotate_api_key(
            RotateApiKey(actor=request.user, client_id=client_id)
        )
        return ClientWithKey.of(rotated.client, rotated.api_key)

    @delete(
        "/{client_id:uuid}",
        summary="Deactivate a client (admin)",
        description=DeactivateClientHandler.__doc__,
        responses=documented(401, 403, 404, 409),
    )
    async def deactivate(
        self,
        client_id: FromPath[UUID],
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
    ) -> None:
        await handlers.deactivate_client(DeactivateClient(actor=request.user, client_id=client_id))
