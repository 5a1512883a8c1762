"""Read models over the in-memory store, with the same order and bounds as SQL would give."""

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from tracking.adapters.memory.store import InMemoryStore
from tracking.application.ports import ClientReadModel, EventReadModel
from tracking.application.principal import CredentialKind, Principal
from tracking.application.views import (
    ClientView,
    EventCriteria,
    EventView,
    Order,
    client_view,
    event_view,
)
from tracking.domain.clients import Client
from tracking.domain.events import Event


class InMemoryEventReadModel(EventReadModel):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def list_events(self, criteria: EventCriteria) -> list[EventView]:
        newest_first = criteria.order is Order.NEWEST_FIRST
        matching = [
            e for e in self._store.events_of(criteria.client_id).values() if _matches(e, criteria)
        ]
        matching.sort(key=lambda e: (e.occurred_at, e.id), reverse=newest_first)
        return [event_view(event) for event in matching[: criteria.limit]]


def _matches(event: Event, criteria: EventCriteria) -> bool:
    return (
        (criteria.user_id is None or event.user_id == criteria.user_id)
        and (criteria.action is None or event.action == criteria.action)
        and (criteria.occurred_from is None or event.occurred_at >= criteria.occurred_from)
        and (criteria.occurred_till is None or event.occurred_at < criteria.occurred_till)
        and (criteria.after is None or _beyond(event, criteria.after, criteria.order))
    )


def _beyond(event: Event, after: tuple[datetime, UUID], order: Order) -> bool:
    position = (event.occurred_at, event.id)
    return position < after if order is Order.NEWEST_FIRST else position > after


class InMemoryClientReadModel(ClientReadModel):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def get(self, client_id: UUID) -> ClientView | None:
        client = self._store.clients.get(client_id)
        return None if client is None else client_view(client)

    async def list_all(self) -> list[ClientView]:
        clients = sorted(self._store.clients.values(), key=lambda c: (c.created_at, c.id))
        return [client_view(client) for client in clients]

    async def principal_for_key(self, api_key_hash: str) -> Principal | None:
        client = self._store.client_with_key(api_key_hash)
        return _principal(client, CredentialKind.API_KEY)

    async def principal_for_token(self, client_id: UUID) -> Principal | None:
        return _principal(self._store.clients.get(client_id), CredentialKind.TOKEN)

    async def active_among(self, client_ids: Collection[UUID]) -> dict[UUID, Principal]:
        clients = self._store.clients
        return {
            id_: Principal.of(clients[id_], CredentialKind.TOKEN)
            for id_ in client_ids
            if id_ in clients and clients[id_].active
        }


def _principal(client: Client | None, credential: CredentialKind) -> Principal | None:
    if client is None or not client.active:
        return None
    return Principal.of(client, credential)
