"""Privacy over the in-memory store: suppressions (in the unit of work), erasure, the erasure
log and a user's export, with the same observable behaviour as PostgreSQL's."""

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

import msgspec

from tracking.adapters.memory.store import InMemoryStore
from tracking.application.ports import (
    ErasureLogReadModel,
    ErasureStore,
    SuppressionRepository,
    UserDataReadModel,
    UserKey,
)
from tracking.application.privacy import (
    ErasedMetrics,
    ErasureEntry,
    ErasureView,
    ExportedEvent,
    ExportedMetric,
)
from tracking.domain.windows import Window, WindowSize


class InMemorySuppressionRepository(SuppressionRepository):
    """Changes are staged, and applied by the unit of work's commit."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.added: dict[tuple[UUID, bytes], datetime] = {}
        self.lifted: set[tuple[UUID, bytes]] = set()

    def _key(self, user: UserKey) -> tuple[UUID, bytes]:
        client_id, user_id = user
        return client_id, self._store.user_hash_key.hash(client_id, user_id)

    def _is_suppressed(self, key: tuple[UUID, bytes]) -> bool:
        return key in self.added or (key in self._store.suppressed and key not in self.lifted)

    async def suppressed_among(self, users: Collection[UserKey]) -> set[UserKey]:
        if not self._store.suppressed and not self.added:
            return set()  # nobody is: no hash to make
        return {user for user in users if self._is_suppressed(self._key(user))}

    async def suppress(self, user: UserKey, at: datetime) -> None:
        key = self._key(user)
        if not self._is_suppressed(key):
            self.added[key] = at
        self.lifted.discard(key)

    async def lift(self, user: UserKey) -> bool:
        key = self._key(user)
        if not self._is_suppressed(key):
            return False
        self.added.pop(key, None)
        if key in self._store.suppressed:
            self.lifted.add(key)
        return True

    def apply(self) -> None:
        for key in self.lifted:
            self._store.suppressed.pop(key, None)
        for key, at in self.added.items():
            self._store.suppressed.setdefault(key, at)
        self.clear()

    def clear(self) -> None:
        self.added.clear()
        self.lifted.clear()


class InMemoryErasureStore(ErasureStore):
    """Each step holds the store's write lock, as a transaction of its own would: a write or a
    metrics computation happens wholly before it or wholly after."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def settle_writes(self) -> None:
        # Writes hold the store's lock from their suppression lookup to their commit: once the
        # lock is free, none that looked before the suppression committed is left.
        async with self._store.lock:
            return

    async def delete_events(self, user: UserKey, limit: int) -> list[datetime]:
        client_id, user_id = user
        async with self._store.lock:
            events = self._store.events_of(client_id)
            doomed = sorted((e.occurred_at, e.id) for e in events.values() if e.user_id == user_id)[
                :limit
            ]
            for _, event_id in doomed:
                del events[event_id]
        return [at for at, _ in doomed]

    async def delete_metrics(
        self,
        user: UserKey,
        windows: Collection[Window],  # noqa: ARG002 - under the lock, no computation is in flight
    ) -> ErasedMetrics:
        async with self._store.lock:
            gone: set[Window] = set()
            for (hours, start), rows in self._store.metrics.items():
                row = rows.pop(user, None)
                if row is None:
                    continue
                gone.add(Window(start=start, size=WindowSize(hours)))
                logged = self._store.windows.get((hours, start))
                if logged is not None and logged.computed_at is not None:
                    self._store.windows[(hours, start)] = msgspec.structs.replace(
                        logged,
                        users=(logged.users or 0) - 1,
                        events=(logged.events or 0) - row.event_count,
                    )
        return ErasedMetrics(rows=len(gone), windows=frozenset(gone))

    async def log(self, entry: ErasureEntry) -> None:
        async with self._store.lock:
            self._store.erasures[entry.id] = ErasureView(
                id=entry.id,
                client_id=entry.client_id,
                user_hash=self._store.user_hash_key.hash(entry.client_id, entry.user_id).hex(),
                erased_by=entry.erased_by,
                erased_at=entry.erased_at,
                events_deleted=entry.events_deleted,
                metric_rows_deleted=entry.metric_rows_deleted,
                windows_affected=entry.windows_affected,
                suppressed=entry.suppressed,
            )


class InMemoryErasureLogReadModel(ErasureLogReadModel):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def list_erasures(
        self, client_id: UUID | None, after: tuple[datetime, UUID] | None, limit: int
    ) -> list[ErasureView]:
        found = [
            view
            for view in self._store.erasures.values()
            if (client_id is None or view.client_id == client_id)
            and (after is None or (view.erased_at, view.id) < after)
        ]
        found.sort(key=lambda view: (view.erased_at, view.id), reverse=True)
        return found[:limit]


class InMemoryUserDataReadModel(UserDataReadModel):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def events_of(
        self, user: UserKey, after: tuple[datetime, UUID] | None, limit: int
    ) -> list[ExportedEvent]:
        client_id, user_id = user
        found = sorted(
            (
                e
                for e in self._store.events_of(client_id).values()
                if e.user_id == user_id and (after is None or (e.occurred_at, e.id) > after)
            ),
            key=lambda e: (e.occurred_at, e.id),
        )
        return [
            ExportedEvent(
                id=e.id,
                user_id=e.user_id,
                action=e.action,
                occurred_at=e.occurred_at,
                received_at=e.received_at,
                metadata=msgspec.Raw(e.metadata.encode()),
            )
            for e in found[:limit]
        ]

    async def metrics_of(
        self, user: UserKey, after: tuple[int, datetime] | None, limit: int
    ) -> list[ExportedMetric]:
        found = sorted(
            (
                (hours, start, row)
                for (hours, start), rows in self._store.metrics.items()
                if (row := rows.get(user)) is not None and (after is None or (hours, start) > after)
            ),
            key=lambda found: (found[0], found[1]),
        )
        return [
            ExportedMetric(
                user_id=row.user_id,
                window_hours=hours,
                window_start=row.window_start,
                window_end=row.window_end,
                event_count=row.event_count,
                distinct_actions=row.distinct_actions,
                action_counts=dict(row.action_counts),
                first_event_at=row.first_event_at,
                last_event_at=row.last_event_at,
                computed_at=row.computed_at,
            )
            for hours, start, row in found[:limit]
        ]
