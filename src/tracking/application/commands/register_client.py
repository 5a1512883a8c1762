"""RegisterClient: an admin adds a tenant; its API key is shown in the answer and never again."""

import msgspec

from tracking.application.errors import Conflict, Forbidden
from tracking.application.ports import Clock, IdGenerator, UnitOfWorkFactory
from tracking.application.principal import Principal
from tracking.domain.clients import DEFAULT_RATE_LIMIT_PER_MINUTE, ApiKey, Client, Role


class RegisterClient(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    name: str
    role: Role = Role.CLIENT
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT_PER_MINUTE


class RegisteredClient(msgspec.Struct, frozen=True, kw_only=True):
    client: Client
    api_key: str


class RegisterClientHandler:
    """Only an admin registers clients; names are unique."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, ids: IdGenerator) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids

    async def __call__(self, command: RegisterClient) -> RegisteredClient:
        if not command.actor.is_admin:
            raise Forbidden("admin_required", "only an admin may register clients")
        api_key = ApiKey.generate()
        client = Client.register(
            id=self._ids.new_id(),
            name=command.name,
            role=command.role,
            rate_limit_per_minute=command.rate_limit_per_minute,
            created_at=self._clock.now(),
            api_key=api_key,
        )
        async with self._uow() as uow:
            if await uow.clients.get_by_name(client.name) is not None:
                raise Conflict("client_name_taken", f"a client named {client.name!r} exists")
            await uow.clients.add(client)
            await uow.commit()
        return RegisteredClient(client=client, api_key=api_key.secret)
