"""Client changes announced to this process only: enough while it is the only one."""

from collections.abc import Callable, Collection
from uuid import UUID

from tracking.application.ports import ClientChanges


class LocalClientChanges(ClientChanges):
    """Tells `forget` (the principal cache's) of each change; other processes learn of it
    only when their own cached answers expire."""

    def __init__(self, forget: Callable[[Collection[UUID]], None]) -> None:
        self._forget = forget

    async def announce(self, client_ids: Collection[UUID]) -> None:
        self._forget(client_ids)
