"""ListClients: an admin sees every client, oldest first (keys never, only their prefixes)."""

import msgspec

from tracking.application.errors import Forbidden
from tracking.application.ports import ClientReadModel
from tracking.application.principal import Principal
from tracking.application.views import ClientView


class ListClients(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal


class ListClientsHandler:
    def __init__(self, clients: ClientReadModel) -> None:
        self._clients = clients

    async def __call__(self, query: ListClients) -> list[ClientView]:
        if not query.actor.is_admin:
            raise Forbidden("admin_required", "only an admin may list clients")
        return await self._clients.list_all()
