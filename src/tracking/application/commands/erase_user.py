"""EraseUser: remove every event and metric row of one user of a client, in batches, and log
it; optionally suppress the user, so their later events are refused."""

from datetime import datetime
from uuid import UUID

import msgspec

from tracking.application.answer_cache import AnswerCache
from tracking.application.errors import NotFound
from tracking.application.ports import (
    ClientReadModel,
    Clock,
    ErasureStore,
    IdGenerator,
    UnitOfWorkFactory,
)
from tracking.application.principal import Principal
from tracking.application.privacy import ERASE_BATCH, ErasureEntry, user_of
from tracking.domain.windows import Window, WindowSize


class EraseUser(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    user_id: str
    client_id: UUID | None = None
    """Admins only: another client's user (by default, the caller's own)."""
    suppress: bool = False


class ErasureReceipt(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    client_id: UUID
    events_deleted: int
    metric_rows_deleted: int
    windows_affected: int
    """The metrics windows that held any of the user's events or metric rows."""
    suppressed: bool
    erased_at: datetime
    erasure_id: UUID


class EraseUserHandler:
    """With `suppress`, the suppression commits first, and the writes in flight are waited
    for; then the user's events are deleted a batch at a time (each its own transaction),
    then their metric rows, taken out of the run log's totals; then the erasure is logged.
    The stats answers of the days the events occurred are dropped after each batch, as a late
    event's are. Repeated, it deletes nothing and says so (zeros), and logs that too."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        erasure: ErasureStore,
        clients: ClientReadModel,
        *,
        clock: Clock,
        ids: IdGenerator,
        window_size: WindowSize,
        stats: AnswerCache,
        batch: int = ERASE_BATCH,
    ) -> None:
        self._uow = uow
        self._erasure = erasure
        self._clients = clients
        self._clock = clock
        self._ids = ids
        self._size = window_size
        self._stats = stats
        self._batch = batch

    async def __call__(self, command: EraseUser) -> ErasureReceipt:
        user = user_of(command.actor, command.client_id, command.user_id, "erase")
        client_id, user_id = user
        if await self._clients.get(client_id) is None:
            raise NotFound("client_not_found", f"no client {client_id}")
        if command.suppress:
            async with self._uow() as uow:
                await uow.suppressions.suppress(user, self._clock.now())
                await uow.commit()
            await self._erasure.settle_writes()
        deleted = 0
        windows: set[Window] = set()
        while True:
            gone = await self._erasure.delete_events(user, self._batch)
            deleted += len(gone)
            windows.update(self._size.window_of(at) for at in gone)
            await self._stats.forget_late(((client_id, at) for at in gone), self._clock.now())
            if len(gone) < self._batch:
                break
        metrics = await self._erasure.delete_metrics(user, windows)
        entry = ErasureEntry(
            id=self._ids.new_id(),
            client_id=client_id,
            user_id=user_id,
            erased_by=command.actor.client_id,
            erased_at=self._clock.now(),
            events_deleted=deleted,
            metric_rows_deleted=metrics.rows,
            windows_affected=len(windows | metrics.windows),
            suppressed=command.suppress,
        )
        await self._erasure.log(entry)
        return ErasureReceipt(
            user_id=user_id,
            client_id=client_id,
            events_deleted=deleted,
            metric_rows_deleted=metrics.rows,
            windows_affected=entry.windows_affected,
            suppressed=command.suppress,
            erased_at=entry.erased_at,
            erasure_id=entry.id,
        )
