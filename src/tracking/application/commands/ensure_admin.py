"""EnsureAdmin: at start, make sure an operator can reach the admin API."""

from enum import StrEnum
from uuid import UUID

import msgspec

from tracking.application.commands.register_client import ClientDefaults
from tracking.application.errors import Conflict
from tracking.application.ports import (
    ClientChanges,
    Clock,
    IdGenerator,
    UnitOfWork,
    UnitOfWorkFactory,
)
from tracking.domain.clients import ApiKey, Client, Role

ADMIN_NAME = "admin"


class AdminChange(StrEnum):
    UNCHANGED = "unchanged"
    CREATED = "created"
    REKEYED = "rekeyed"


class EnsureAdmin(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    api_key: str | None = None


class AdminEnsured(msgspec.Struct, frozen=True, kw_only=True):
    change: AdminChange
    new_api_key: str | None = None
    """Set only when the key was generated here: the one moment it can be shown."""


class EnsureAdminHandler:
    """With a configured key, the client named `admin` holds exactly that key (created or
    re-keyed and reactivated as needed). Without one, an admin is created with a generated key
    only when no active admin exists, so a first start is never locked out."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        ids: IdGenerator,
        changes: ClientChanges,
        defaults: ClientDefaults,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._changes = changes
        self._defaults = defaults

    async def __call__(self, command: EnsureAdmin) -> AdminEnsured:
        configured = None if command.api_key is None else ApiKey.given(command.api_key)
        async with self._uow() as uow:
            if configured is None:
                if await uow.clients.count_active_admins() > 0:
                    return AdminEnsured(change=AdminChange.UNCHANGED)
                generated = ApiKey.generate()
                change, admin_id = await self._install(uow, generated)
                result = AdminEnsured(change=change, new_api_key=generated.secret)
            else:
                holder = await uow.clients.get_by_key_hash(configured.digest)
                if holder is not None and holder.is_admin and holder.active:
                    return AdminEnsured(change=AdminChange.UNCHANGED)
                change, admin_id = await self._install(uow, configured)
                result = AdminEnsured(change=change)
            await uow.commit()
        if result.change is AdminChange.REKEYED:
            # The old key stops working in every process, not only when caches expire.
            await self._changes.announce({admin_id})
        return result

    async def _install(self, uow: UnitOfWork, api_key: ApiKey) -> tuple[AdminChange, UUID]:
        existing = await uow.clients.get_by_name(ADMIN_NAME)
        if existing is None:
            admin = Client.register(
                id=self._ids.new_id(),
                name=ADMIN_NAME,
                role=Role.ADMIN,
                rate_limit_per_minute=self._defaults.rate_limit_per_minute,
                events_per_minute=self._defaults.events_per_minute,
                created_at=self._clock.now(),
                api_key=api_key,
            )
            await uow.clients.add(admin)
            return AdminChange.CREATED, admin.id
        if not existing.is_admin:
            raise Conflict(
                "admin_name_taken",
                f"a non-admin client is named {ADMIN_NAME!r}; rename it or register an admin",
            )
        await uow.clients.save(existing.with_key(api_key).reactivated())
        return AdminChange.REKEYED, existing.id
