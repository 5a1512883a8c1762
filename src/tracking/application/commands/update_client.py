"""UpdateClient: an admin changes a tenant's limits, role or activity; it takes effect on the
client's very next request."""

from uuid import UUID

import msgspec

from tracking.application.errors import Forbidden, NotFound
from tracking.application.last_admin import keep_an_active_admin
from tracking.application.ports import ClientChanges, UnitOfWorkFactory
from tracking.application.principal import Principal
from tracking.application.views import ClientView, client_view
from tracking.domain.clients import Role
from tracking.domain.errors import InvalidInput


class UpdateClient(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """None leaves a field as it is; at least one must be given. `retention_days` is left as
    it is when unset; None there keeps the client's events for ever."""

    actor: Principal
    client_id: UUID
    rate_limit_per_minute: int | None = None
    events_per_minute: int | None = None
    role: Role | None = None
    active: bool | None = None
    retention_days: int | msgspec.UnsetType | None = msgspec.UNSET


class UpdateClientHandler:
    """Only an admin changes clients. `active: true` reactivates a client, and its current key
    works again; `retention_days: null` keeps its events for ever. The last active admin
    cannot be demoted nor deactivated: that would lock every operator out of the API. A change
    that changes nothing writes nothing."""

    def __init__(self, uow: UnitOfWorkFactory, changes: ClientChanges) -> None:
        self._uow = uow
        self._changes = changes

    async def __call__(self, command: UpdateClient) -> ClientView:
        if not command.actor.is_admin:
            raise Forbidden("admin_required", "only an admin may change clients")
        wanted = (
            command.rate_limit_per_minute,
            command.events_per_minute,
            command.role,
            command.active,
        )
        if all(value is None for value in wanted) and command.retention_days is msgspec.UNSET:
            raise InvalidInput(
                "nothing_to_change",
                "name at least one of rate_limit_per_minute, events_per_minute, role, active, "
                "retention_days",
            )
        async with self._uow() as uow:
            client = await uow.clients.get(command.client_id)
            if client is None:
                raise NotFound("client_not_found", f"no client {command.client_id}")
            changed = client.changed(
                rate_limit_per_minute=command.rate_limit_per_minute,
                events_per_minute=command.events_per_minute,
                role=command.role,
                active=command.active,
            )
            if not isinstance(command.retention_days, msgspec.UnsetType):
                changed = changed.retained_for(command.retention_days)
            if changed == client:
                return client_view(client)
            await keep_an_active_admin(uow.clients, client, changed)
            await uow.clients.save(changed)
            await uow.commit()
        await self._changes.announce({changed.id})
        return client_view(changed)
