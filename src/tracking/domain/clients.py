"""The client: a tenant application that sends events and sees only its own data."""

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from tracking.domain.errors import RuleViolation
from tracking.domain.retention import retention_cutoff

API_KEY_PREFIX = "trk_"
API_KEY_RANDOM_BYTES = 32
API_KEY_MIN_LENGTH = len(API_KEY_PREFIX) + 43  # 32 random bytes, url-safe base64
DISPLAY_PREFIX_LENGTH = 12
NAME_MAX_LENGTH = 100
DEFAULT_RATE_LIMIT_PER_MINUTE = 1000
MAX_RATE_LIMIT_PER_MINUTE = 1_000_000
DEFAULT_EVENTS_PER_MINUTE = 60_000
MAX_EVENTS_PER_MINUTE = 10_000_000
MAX_RETENTION_DAYS = 36_500
"""A hundred years: longer is "for ever", which is said with no retention at all."""


class Role(StrEnum):
    ADMIN = "admin"
    CLIENT = "client"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A secret shown once. We keep only its SHA-256: keys are 256-bit random, so a fast hash
    is as safe as a slow one and lets authentication be a single indexed lookup."""

    secret: str

    @classmethod
    def generate(cls) -> "ApiKey":
        return cls(API_KEY_PREFIX + secrets.token_urlsafe(API_KEY_RANDOM_BYTES))

    @classmethod
    def given(cls, secret: str) -> "ApiKey":
        """A key chosen by an operator (the admin's, from the environment) must be as strong.
        Whitespace around it (a secret file's trailing newline) is not part of it, as HTTP
        servers drop it around a header's value."""
        secret = secret.strip()
        if not secret.startswith(API_KEY_PREFIX) or len(secret) < API_KEY_MIN_LENGTH:
            raise RuleViolation(
                "weak_api_key",
                "api_key",
                f"must start with {API_KEY_PREFIX!r} and be at least {API_KEY_MIN_LENGTH} "
                "characters long",
            )
        return cls(secret)

    @property
    def digest(self) -> str:
        return hash_api_key(self.secret)

    @property
    def display_prefix(self) -> str:
        return self.secret[:DISPLAY_PREFIX_LENGTH]


def hash_api_key(secret: str) -> str:
    """The digest a key is found by; whitespace around the key is not part of it."""
    return hashlib.sha256(secret.strip().encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Client:
    id: UUID
    name: str
    role: Role
    rate_limit_per_minute: int
    events_per_minute: int
    """A quota of events ingested per minute: a batch of N counts N, whatever its requests."""
    active: bool
    created_at: datetime
    api_key_hash: str
    api_key_prefix: str
    retention_days: int | None = None
    """How many days its events are kept, by when they occurred; None keeps them for ever."""

    @classmethod
    def register(
        cls,
        *,
        id: UUID,  # noqa: A002 - the domain's own name for it
        name: str,
        role: Role,
        rate_limit_per_minute: int,
        events_per_minute: int,
        created_at: datetime,
        api_key: ApiKey,
        retention_days: int | None = None,
    ) -> "Client":
        return cls(
            id=id,
            name=name_of(name),
            role=role,
            rate_limit_per_minute=rate_limit_of(rate_limit_per_minute),
            events_per_minute=events_per_minute_of(events_per_minute),
            active=True,
            created_at=created_at,
            api_key_hash=api_key.digest,
            api_key_prefix=api_key.display_prefix,
            retention_days=retention_days_of(retention_days),
        )

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_active_admin(self) -> bool:
        """One who can reach the admin API: the last of them must stay one."""
        return self.active and self.is_admin

    def with_key(self, api_key: ApiKey) -> "Client":
        return replace(self, api_key_hash=api_key.digest, api_key_prefix=api_key.display_prefix)

    def deactivated(self) -> "Client":
        return replace(self, active=False)

    def reactivated(self) -> "Client":
        return replace(self, active=True)

    def changed(
        self,
        *,
        rate_limit_per_minute: int | None = None,
        events_per_minute: int | None = None,
        role: Role | None = None,
        active: bool | None = None,
    ) -> "Client":
        """This client with the limits, role or activity given; None keeps what it has."""
        return replace(
            self,
            rate_limit_per_minute=self.rate_limit_per_minute
            if rate_limit_per_minute is None
            else rate_limit_of(rate_limit_per_minute),
            events_per_minute=self.events_per_minute
            if events_per_minute is None
            else events_per_minute_of(events_per_minute),
            role=self.role if role is None else role,
            active=self.active if active is None else active,
        )

    def retained_for(self, days: int | None) -> "Client":
        """This client keeping its events `days` days; None keeps them for ever."""
        return replace(self, retention_days=retention_days_of(days))

    def retention_cutoff(self, now: datetime) -> datetime | None:
        """Its events that occurred before this instant are past retention; None: none are."""
        return retention_cutoff(self.retention_days, now)


def name_of(value: str) -> str:
    name = value.strip()
    if not 1 <= len(name) <= NAME_MAX_LENGTH or not name.isprintable():
        raise RuleViolation(
            "invalid_name", "name", f"must be 1 to {NAME_MAX_LENGTH} printable characters"
        )
    return name


def rate_limit_of(value: int) -> int:
    if not 1 <= value <= MAX_RATE_LIMIT_PER_MINUTE:
        raise RuleViolation(
            "invalid_rate_limit",
            "rate_limit_per_minute",
            f"must be between 1 and {MAX_RATE_LIMIT_PER_MINUTE}",
        )
    return value


def events_per_minute_of(value: int) -> int:
    if not 1 <= value <= MAX_EVENTS_PER_MINUTE:
        raise RuleViolation(
            "invalid_events_per_minute",
            "events_per_minute",
            f"must be between 1 and {MAX_EVENTS_PER_MINUTE}",
        )
    return value


def retention_days_of(value: int | None) -> int | None:
    """None (kept for ever), or a whole number of days from 1 to MAX_RETENTION_DAYS."""
    if value is None:
        return None
    whole = isinstance(value, int) and not isinstance(value, bool)
    if not whole or not 1 <= value <= MAX_RETENTION_DAYS:
        raise RuleViolation(
            "invalid_retention_days",
            "retention_days",
            f"must be a whole number of days between 1 and {MAX_RETENTION_DAYS}, "
            "or null to keep events for ever",
        )
    return value
