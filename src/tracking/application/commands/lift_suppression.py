"""LiftSuppression: accept a suppressed user's events again."""

from uuid import UUID

import msgspec

from tracking.application.errors import NotFound
from tracking.application.ports import UnitOfWorkFactory
from tracking.application.principal import Principal
from tracking.application.privacy import user_of


class LiftSuppression(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    user_id: str
    client_id: UUID | None = None


class LiftSuppressionHandler:
    """A client lifts its own users' suppressions; an admin, any client's. A user who is not
    suppressed is `not_suppressed` (404)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def __call__(self, command: LiftSuppression) -> None:
        user = user_of(command.actor, command.client_id, command.user_id, "lift suppressions of")
        async with self._uow() as uow:
            lifted = await uow.suppressions.lift(user)
            await uow.commit()
        if not lifted:
            raise NotFound("not_suppressed", "this user is not suppressed")
