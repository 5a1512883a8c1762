"""GetClient: a client reads its own record; an admin reads any."""

from uuid import UUID

import msgspec

from tracking.application.errors import NotFound
from tracking.application.ports import ClientReadModel
from tracking.application.principal import Principal
from tracking.application.views import ClientView


class GetClient(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    client_id: UUID


class GetClientHandler:
    """Another client's id answers 404 exactly like an unknown one, so nothing is revealed."""

    def __init__(self, clients: ClientReadModel) -> None:
        self._clients = clients

    async def __call__(self, query: GetClient) -> ClientView:
        client = None
        if query.actor.may_act_for(query.client_id):
            client = await self._clients.get(query.client_id)
        if client is None:
            raise NotFound("client_not_found", f"no client {query.client_id}")
        return client
