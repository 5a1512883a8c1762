"""A transaction over the in-memory store: changes are staged and applied on commit."""

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from tracking.adapters.memory.privacy import InMemorySuppressionRepository
from tracking.adapters.memory.retention import InMemoryRetentionRepository
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.ports import (
    Added,
    ClientRepository,
    EventKey,
    EventRepository,
    UnitOfWork,
    WindowRepository,
)
from tracking.application.stream import Sequenced
from tracking.domain.clients import Client, Role
from tracking.domain.events import Event
from tracking.domain.windows import StaleMark


class InMemoryEventRepository(EventRepository):
    def __init__(self, store: InMemoryStore, suppressions: InMemorySuppressionRepository) -> None:
        self._store = store
        self._suppressions = suppressions
        self.pending: dict[EventKey, Event] = {}
        self.journaled: list[tuple[UUID, int, UUID]] = []
        self._taken: dict[UUID, int] = {}

    async def add_new(self, events: Sequence[Event]) -> Added:
        """Positions are taken under the store's lock, which the unit of work holds to its
        end: the next transaction takes the ones after, as in PostgreSQL."""
        duplicates: set[EventKey] = set()
        added: dict[UUID, list[Event]] = {}
        refused = await self._suppressions.suppressed_among(
            {(e.client_id, e.user_id) for e in events}
        )
        for event in events:
            if refused and (event.client_id, event.user_id) in refused:
                continue
            key = (event.client_id, event.id)
            if key in self.pending or event.id in self._store.events_of(event.client_id):
                duplicates.add(key)
                continue
            self.pending[key] = event
            added.setdefault(event.client_id, []).append(event)
        sequenced = []
        for client_id, stored in added.items():
            first = self._store.stream_last.get(client_id, 0) + self._taken.get(client_id, 0) + 1
            self._taken[client_id] = self._taken.get(client_id, 0) + len(stored)
            sequenced.append(Sequenced(client_id, first, stored))
            self.journaled.extend((client_id, first + i, e.id) for i, e in enumerate(stored))
        return Added(duplicates, sequenced, refused)

    def clear(self) -> None:
        self.pending.clear()
        self.journaled.clear()
        self._taken.clear()

    def apply(self) -> None:
        store, now = self._store, datetime.now(UTC)
        for (client_id, event_id), event in self.pending.items():
            store.events.setdefault(client_id, {})[event_id] = event
        for client_id, position, event_id in self.journaled:
            store.journal.setdefault(client_id, []).append((position, event_id, now))
        for client_id, taken in self._taken.items():
            store.stream_last[client_id] = store.stream_last.get(client_id, 0) + taken
        self.clear()


class InMemoryClientRepository(ClientRepository):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.pending: dict[UUID, Client] = {}

    def _visible(self) -> dict[UUID, Client]:
        return self._store.clients | self.pending

    async def add(self, client: Client) -> None:
        self.pending[client.id] = client

    async def save(self, client: Client) -> None:
        self.pending[client.id] = client

    async def get(self, client_id: UUID) -> Client | None:
        return self._visible().get(client_id)

    async def get_by_name(self, name: str) -> Client | None:
        return next((c for c in self._visible().values() if c.name == name), None)

    async def get_by_key_hash(self, api_key_hash: str) -> Client | None:
        staged = (c for c in self.pending.values() if c.api_key_hash == api_key_hash)
        committed = self._store.client_with_key(api_key_hash)
        if committed is not None and committed.id in self.pending:
            committed = None
        return next(staged, committed)

    async def count_active_admins(self) -> int:
        return sum(1 for c in self._visible().values() if c.active and c.role is Role.ADMIN)


class InMemoryWindowRepository(WindowRepository):
    def __init__(self) -> None:
        self.pending: set[StaleMark] = set()

    async def mark_stale(self, marks: Collection[StaleMark]) -> None:
        self.pending.update(marks)


class InMemoryUnitOfWork(UnitOfWork):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.suppressions = self._suppressions = InMemorySuppressionRepository(store)
        self.events = self._events = InMemoryEventRepository(store, self._suppressions)
        self.clients = self._clients = InMemoryClientRepository(store)
        self.windows = self._windows = InMemoryWindowRepository()
        self.retention = self._retention = InMemoryRetentionRepository(store)

    async def __aenter__(self) -> Self:
        await self._store.lock.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._events.clear()
        self._clients.pending.clear()
        self._windows.pending.clear()
        self._retention.pending.clear()
        self._suppressions.clear()
        self._store.lock.release()

    async def commit(self) -> None:
        self._events.apply()
        for client in self._clients.pending.values():
            self._store.put_client(client)
        self._store.stale.update(self._windows.pending)
        self._suppressions.apply()
        self._retention.pending.apply(self._store)
        self._retention.pending.clear()
        self._clients.pending.clear()
