"""RegisterClient: an admin adds a tenant; its API key is shown in the answer and never again."""

from dataclasses import dataclass

import msgspec

from tracking.application.errors import Conflict, Forbidden
from tracking.application.ports import Clock, IdGenerator, UnitOfWorkFactory
from tracking.application.principal import Principal
from tracking.domain.clients import (
    DEFAULT_EVENTS_PER_MINUTE,
    DEFAULT_RATE_LIMIT_PER_MINUTE,
    ApiKey,
    Client,
    Role,
    events_per_minute_of,
    rate_limit_of,
)


@dataclass(frozen=True, slots=True)
class ClientDefaults:
    """The limits a client gets when its registration names none: the installation's
    settings, else the domain's defaults. Checked here, so a bad setting fails at start and
    not at the first registration."""

    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT_PER_MINUTE
    events_per_minute: int = DEFAULT_EVENTS_PER_MINUTE

    def __post_init__(self) -> None:
        rate_limit_of(self.rate_limit_per_minute)
        events_per_minute_of(self.events_per_minute)


class RegisterClient(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    name: str
    role: Role = Role.CLIENT
    rate_limit_per_minute: int | None = None
    events_per_minute: int | None = None
    """None: the handler's defaults."""
    retention_days: int | None = None
    """None: its events are kept for ever."""


class RegisteredClient(msgspec.Struct, frozen=True, kw_only=True):
    client: Client
    api_key: str


class RegisterClientHandler:
    """Only an admin registers clients; names are unique. Limits not given are the
    installation's defaults; a client given no retention keeps its events for ever."""

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, ids: IdGenerator, defaults: ClientDefaults
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._defaults = defaults

    async def __call__(self, command: RegisterClient) -> RegisteredClient:
        if not command.actor.is_admin:
            raise Forbidden("admin_required", "only an admin may register clients")
        api_key = ApiKey.generate()
        rate_limit = command.rate_limit_per_minute
        events = command.events_per_minute
        client = Client.register(
            id=self._ids.new_id(),
            name=command.name,
            role=command.role,
            rate_limit_per_minute=self._defaults.rate_limit_per_minute
            if rate_limit is None
            else rate_limit,
            events_per_minute=self._defaults.events_per_minute if events is None else events,
            created_at=self._clock.now(),
            api_key=api_key,
            retention_days=command.retention_days,
        )
        async with self._uow() as uow:
            if await uow.clients.get_by_name(client.name) is not None:
                raise Conflict("client_name_taken", f"a client named {client.name!r} exists")
            await uow.clients.add(client)
            await uow.commit()
        return RegisteredClient(client=client, api_key=api_key.secret)
