"""RotateApiKey: a client (or an admin for it) gets a new key; the old one stops working at once."""

from uuid import UUID

import msgspec

from tracking.application.errors import NotFound
from tracking.application.ports import ClientChanges, UnitOfWorkFactory
from tracking.application.principal import Principal
from tracking.domain.clients import ApiKey, Client


class RotateApiKey(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    client_id: UUID


class RotatedKey(msgspec.Struct, frozen=True, kw_only=True):
    client: Client
    api_key: str


class RotateApiKeyHandler:
    """Another client's id answers 404 exactly like an unknown one, so nothing is revealed."""

    def __init__(self, uow: UnitOfWorkFactory, changes: ClientChanges) -> None:
        self._uow = uow
        self._changes = changes

    async def __call__(self, command: RotateApiKey) -> RotatedKey:
        api_key = ApiKey.generate()
        async with self._uow() as uow:
            client = await uow.clients.get(command.client_id)
            if client is None or not command.actor.may_act_for(client.id):
                raise NotFound("client_not_found", f"no client {command.client_id}")
            client = client.with_key(api_key)
            await uow.clients.save(client)
            await uow.commit()
        await self._changes.announce({client.id})
        return RotatedKey(client=client, api_key=api_key.secret)
