"""Who is asking: every use case that reads or changes tenant data is told, never guesses."""

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from tracking.domain.clients import MAX_EVENTS_PER_MINUTE, MAX_RATE_LIMIT_PER_MINUTE, Client, Role


class CredentialKind(StrEnum):
    API_KEY = "api_key"
    TOKEN = "token"  # noqa: S105 - a name, not a secret
    OPERATOR = "operator"


OPERATOR_ID = UUID(int=0)


@dataclass(frozen=True, slots=True)
class Principal:
    client_id: UUID
    role: Role
    credential: CredentialKind
    # The client's limits, read with its credential: enforcing them costs no further lookup.
    rate_limit_per_minute: int
    events_per_minute: int
    retention_days: int | None = None
    """Events older than this many days are refused (None: kept for ever)."""

    @classmethod
    def operator(cls) -> "Principal":
        """Whoever runs the `tracking` CLI on a machine with access to the storage: held
        back by no limit but the largest a client may have."""
        return cls(
            client_id=OPERATOR_ID,
            role=Role.ADMIN,
            credential=CredentialKind.OPERATOR,
            rate_limit_per_minute=MAX_RATE_LIMIT_PER_MINUTE,
            events_per_minute=MAX_EVENTS_PER_MINUTE,
        )

    @classmethod
    def of(cls, client: Client, credential: CredentialKind) -> "Principal":
        return cls(
            client_id=client.id,
            role=client.role,
            credential=credential,
            rate_limit_per_minute=client.rate_limit_per_minute,
            events_per_minute=client.events_per_minute,
            retention_days=client.retention_days,
        )

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def may_act_for(self, client_id: UUID) -> bool:
        return self.is_admin or self.client_id == client_id
