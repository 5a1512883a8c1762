"""DeactivateClient: an admin switches a tenant off; its keys and tokens stop working at once."""

from uuid import UUID

import msgspec

from tracking.application.errors import Forbidden, NotFound
from tracking.application.last_admin import keep_an_active_admin
from tracking.application.ports import ClientChanges, UnitOfWorkFactory
from tracking.application.principal import Principal


class DeactivateClient(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    client_id: UUID


class DeactivateClientHandler:
    """Deactivating twice is harmless. The last active admin cannot be deactivated: that would
    lock every operator out of the API."""

    def __init__(self, uow: UnitOfWorkFactory, changes: ClientChanges) -> None:
        self._uow = uow
        self._changes = changes

    async def __call__(self, command: DeactivateClient) -> None:
        if not command.actor.is_admin:
            raise Forbidden("admin_required", "only an admin may deactivate clients")
        async with self._uow() as uow:
            client = await uow.clients.get(command.client_id)
            if client is None:
                raise NotFound("client_not_found", f"no client {command.client_id}")
            if not client.active:
                return
            deactivated = client.deactivated()
            await keep_an_active_admin(uow.clients, client, deactivated)
            await uow.clients.save(deactivated)
            await uow.commit()
        await self._changes.announce({client.id})
