"""The committed state of an in-memory installation, shared by its unit of work and readers."""

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from tracking.application.privacy import ErasureView
from tracking.application.usage import LoggedRequest
from tracking.application.views import UserMetricView, WindowView
from tracking.domain.clients import Client
from tracking.domain.events import Event
from tracking.domain.privacy import UserHashKey
from tracking.domain.windows import StaleMark


@dataclass
class InMemoryStore:
    """Writers hold `lock` for a whole unit of work, so transactions are serializable, as a
    unique index makes concurrent Postgres inserts of one id. Readers take no lock: every
    read completes without awaiting, so it sees one committed state."""

    events: dict[UUID, dict[UUID, Event]] = field(default_factory=dict)
    clients: dict[UUID, Client] = field(default_factory=dict)
    client_ids_by_key: dict[str, UUID] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Metrics: rows by (window_hours, window_start) then (client_id, user_id); the run log.
    metrics: dict[tuple[int, datetime], dict[tuple[UUID, str], UserMetricView]] = field(
        default_factory=dict
    )
    windows: dict[tuple[int, datetime], WindowView] = field(default_factory=dict)
    stale: set[StaleMark] = field(default_factory=set)
    run_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The request log: rows by UTC day of `requested_at`, then by their key.
    request_log: dict[date, dict[tuple[UUID, datetime, UUID], LoggedRequest]] = field(
        default_factory=dict
    )
    # Privacy: suppressed users by (client_id, user hash), when; the erasure log by id; and
    # the key of the hashes, made for this store (this process) unless one is configured.
    suppressed: dict[tuple[UUID, bytes], datetime] = field(default_factory=dict)
    erasures: dict[UUID, ErasureView] = field(default_factory=dict)
    user_hash_key: UserHashKey = field(default_factory=UserHashKey.random)
    # The event journal: each client's last committed position, and (position, event id,
    # committed at) in position order, for the stream's replay horizon.
    stream_last: dict[UUID, int] = field(default_factory=dict)
    journal: dict[UUID, list[tuple[int, UUID, datetime]]] = field(default_factory=dict)

    def events_of(self, client_id: UUID) -> dict[UUID, Event]:
        return self.events.get(client_id, {})

    def client_with_key(self, api_key_hash: str) -> Client | None:
        client_id = self.client_ids_by_key.get(api_key_hash)
        return None if client_id is None else self.clients[client_id]

    def put_client(self, client: Client) -> None:
        previous = self.clients.get(client.id)
        if previous is not None:
            del self.client_ids_by_key[previous.api_key_hash]
        self.clients[client.id] = client
        self.client_ids_by_key[client.api_key_hash] = client.id


class InMemoryStoreCheck:
    """The in-memory store lives in this process: if the process answers, so does the store."""

    name = "storage"
    required = True

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def check(self) -> None:
        return None
