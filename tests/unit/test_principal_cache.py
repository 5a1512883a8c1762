"""The authentication cache: short-lived, and forgetful of the clients this process changes."""

import time
from uuid import uuid4

import pytest

from tracking.adapters.postgres.principal_cache import PrincipalCache
from tracking.application.principal import CredentialKind, Principal
from tracking.domain.clients import DEFAULT_EVENTS_PER_MINUTE, DEFAULT_RATE_LIMIT_PER_MINUTE, Role


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(time, "monotonic", fake)
    return fake


def principal() -> Principal:
    return Principal(
        client_id=uuid4(),
        role=Role.CLIENT,
        credential=CredentialKind.API_KEY,
        rate_limit_per_minute=DEFAULT_RATE_LIMIT_PER_MINUTE,
        events_per_minute=DEFAULT_EVENTS_PER_MINUTE,
    )


def test_an_answer_is_kept_for_its_lifetime_only(clock: Clock) -> None:
    cache = PrincipalCache(ttl_seconds=1.0)
    shop = principal()
    cache.put(("api_key_hash", "h"), shop, cache.generation)

    assert cache.get(("api_key_hash", "h")) == (True, shop)
    clock.now += 1.01
    assert cache.get(("api_key_hash", "h")) == (False, None)


def test_no_such_client_is_an_answer_too(clock: Clock) -> None:
    cache = PrincipalCache(ttl_seconds=1.0)
    cache.put(("api_key_hash", "unknown"), None, cache.generation)

    assert cache.get(("api_key_hash", "unknown")) == (True, None)


def test_forgetting_a_client_drops_it_under_every_credential(clock: Clock) -> None:
    cache = PrincipalCache(ttl_seconds=60)
    shop, other = principal(), principal()
    cache.put(("api_key_hash", "h1"), shop, cache.generation)
    cache.put(("id", shop.client_id), shop, cache.generation)
    cache.put(("id", other.client_id), other, cache.generation)

    cache.forget([shop.client_id])

    assert cache.get(("api_key_hash", "h1")) == (False, None)
    assert cache.get(("id", shop.client_id)) == (False, None)
    assert cache.get(("id", other.client_id)) == (True, other)


def test_forgetting_a_client_drops_a_cached_absence_of_it(clock: Clock) -> None:
    cache = PrincipalCache(ttl_seconds=60)
    client_id = uuid4()
    cache.put(("id", client_id), None, cache.generation)

    cache.forget([client_id])

    assert cache.get(("id", client_id)) == (False, None)


def test_a_lifetime_of_zero_caches_nothing(clock: Clock) -> None:
    cache = PrincipalCache(ttl_seconds=0)
    cache.put(("api_key_hash", "h"), principal(), cache.generation)

    assert cache.get(("api_key_hash", "h")) == (False, None)


def test_an_answer_read_before_a_change_committed_is_not_kept(clock: Clock) -> None:
    cache = PrincipalCache(ttl_seconds=60)
    shop = principal()
    read_while = cache.generation  # the read started ...
    cache.forget([shop.client_id])  # ... a deactivation committed meanwhile ...
    cache.put(("api_key_hash", "h"), shop, read_while)  # ... and the read ends

    assert cache.get(("api_key_hash", "h")) == (False, None)


def test_forgetting_any_client_drops_every_cached_absence(clock: Clock) -> None:
    """A key that found no active client may be a deactivated client's: once it is
    reactivated, the key must work at once, though the absence named no client."""
    cache = PrincipalCache(ttl_seconds=60)
    shop = principal()
    cache.put(("api_key_hash", "inactive"), None, cache.generation)
    cache.put(("api_key_hash", "h"), shop, cache.generation)

    cache.forget([uuid4()])

    assert cache.get(("api_key_hash", "inactive")) == (False, None)
    assert cache.get(("api_key_hash", "h")) == (True, shop)
