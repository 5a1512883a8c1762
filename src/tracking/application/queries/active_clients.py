"""ActiveClients: which of these client ids may send events now."""

from collections.abc import Collection
from uuid import UUID

import msgspec

from tracking.application.ports import ClientReadModel


class ActiveClients(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    client_ids: Collection[UUID]


class ActiveClientsHandler:
    """A message on the topic names its client, as a credential does on HTTP: only an
    existing, active client's events are stored (deactivation takes effect within the
    principal cache's lifetime, as for API keys)."""

    def __init__(self, clients: ClientReadModel) -> None:
        self._clients = clients

    async def __call__(self, query: ActiveClients) -> set[UUID]:
        active: set[UUID] = set()
        for client_id in set(query.client_ids):
            if await self._clients.principal_for_token(client_id) is not None:
                active.add(client_id)
        return active
