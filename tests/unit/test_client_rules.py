"""The rules of a client: its name, its limits, its API key and how it may be changed."""

import hashlib
import re
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes import T0
from tracking.domain.clients import (
    ApiKey,
    Client,
    Role,
    events_per_minute_of,
    hash_api_key,
    name_of,
    rate_limit_of,
)
from tracking.domain.errors import RuleViolation

PRINTABLE = st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"))


@given(st.text(PRINTABLE, min_size=1, max_size=100), st.sampled_from(["", " ", "  "]))
def test_a_name_is_kept_without_surrounding_spaces(name: str, padding: str) -> None:
    assert name_of(padding + name + padding) == name


@pytest.mark.parametrize("name", ["", "   ", "n" * 101, "line\nbreak", "tab\tname", "nul\x00"])
def test_an_empty_too_long_or_unprintable_name_is_refused(name: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        name_of(name)
    assert (refused.value.code, refused.value.field) == ("invalid_name", "name")


def test_a_name_of_100_characters_after_trimming_is_accepted() -> None:
    assert name_of("  " + "n" * 100 + "  ") == "n" * 100


@pytest.mark.parametrize("limit", [1, 60, 1_000_000])
def test_a_rate_limit_from_1_to_a_million_is_accepted(limit: int) -> None:
    assert rate_limit_of(limit) == limit


@pytest.mark.parametrize("limit", [0, -1, 1_000_001])
def test_a_rate_limit_outside_1_to_a_million_is_refused(limit: int) -> None:
    with pytest.raises(RuleViolation) as refused:
        rate_limit_of(limit)
    assert (refused.value.code, refused.value.field) == (
        "invalid_rate_limit",
        "rate_limit_per_minute",
    )


@pytest.mark.parametrize("quota", [1, 60_000, 10_000_000])
def test_an_events_quota_from_1_to_ten_million_is_accepted(quota: int) -> None:
    assert events_per_minute_of(quota) == quota


@pytest.mark.parametrize("quota", [0, -5, 10_000_001])
def test_an_events_quota_outside_1_to_ten_million_is_refused(quota: int) -> None:
    with pytest.raises(RuleViolation) as refused:
        events_per_minute_of(quota)
    assert (refused.value.code, refused.value.field) == (
        "invalid_events_per_minute",
        "events_per_minute",
    )


def test_a_generated_api_key_is_prefixed_long_and_url_safe() -> None:
    secret = ApiKey.generate().secret

    assert secret.startswith("trk_")
    assert len(secret) >= 47
    assert re.fullmatch(r"trk_[A-Za-z0-9_\-]+", secret)


def test_generated_api_keys_differ() -> None:
    assert len({ApiKey.generate().secret for _ in range(50)}) == 50


def test_an_api_key_digest_is_the_sha256_hex_of_the_secret() -> None:
    key = ApiKey.generate()

    assert key.digest == hashlib.sha256(key.secret.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", key.digest)


def test_a_strong_chosen_key_is_accepted() -> None:
    assert ApiKey.given("trk_" + "A" * 43).secret == "trk_" + "A" * 43


def test_a_chosen_key_read_with_a_trailing_newline_is_the_same_key_a_client_sends() -> None:
    """A key mounted from a secret file often ends in a newline; HTTP servers drop the
    whitespace around a header's value. Both ends drop it, so the two agree."""
    configured = ApiKey.given(" trk_" + "A" * 43 + "\n")

    assert configured.secret == "trk_" + "A" * 43
    assert configured.digest == hash_api_key("trk_" + "A" * 43) == hash_api_key(configured.secret)


@pytest.mark.parametrize(
    "secret", ["", "trk_", "trk_" + "A" * 42, "key_" + "A" * 43, "TRK_" + "A" * 43, "A" * 60]
)
def test_a_weak_chosen_key_is_refused(secret: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        ApiKey.given(secret)
    assert (refused.value.code, refused.value.field) == ("weak_api_key", "api_key")


def test_a_registered_client_is_active_and_keeps_only_the_digest_of_its_key() -> None:
    key = ApiKey.generate()

    client = Client.register(
        id=uuid4(),
        name="  acme  ",
        role=Role.CLIENT,
        rate_limit_per_minute=100,
        events_per_minute=5000,
        created_at=T0,
        api_key=key,
    )

    assert client.name == "acme"
    assert (client.rate_limit_per_minute, client.events_per_minute) == (100, 5000)
    assert client.active
    assert not client.is_admin
    assert client.api_key_hash == key.digest
    assert key.secret not in (client.api_key_hash, client.api_key_prefix)
    assert key.secret.startswith(client.api_key_prefix)


@pytest.mark.parametrize(
    ("name", "rate_limit", "events", "code"),
    [
        ("", 100, 100, "invalid_name"),
        ("acme", 0, 100, "invalid_rate_limit"),
        ("acme", 100, 0, "invalid_events_per_minute"),
    ],
)
def test_registering_a_client_checks_its_rules(
    name: str, rate_limit: int, events: int, code: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        Client.register(
            id=uuid4(),
            name=name,
            role=Role.CLIENT,
            rate_limit_per_minute=rate_limit,
            events_per_minute=events,
            created_at=T0,
            api_key=ApiKey.generate(),
        )
    assert refused.value.code == code


def acme(role: Role = Role.CLIENT) -> Client:
    return Client.register(
        id=uuid4(),
        name="acme",
        role=role,
        rate_limit_per_minute=100,
        events_per_minute=5000,
        created_at=T0,
        api_key=ApiKey.generate(),
    )


def test_a_change_sets_what_it_names_and_keeps_the_rest() -> None:
    before = acme()

    after = before.changed(events_per_minute=9000, role=Role.ADMIN)

    assert (after.events_per_minute, after.role) == (9000, Role.ADMIN)
    assert after.rate_limit_per_minute == before.rate_limit_per_minute
    assert (after.id, after.name, after.active, after.api_key_hash) == (
        before.id,
        before.name,
        before.active,
        before.api_key_hash,
    )
    assert before.changed() == before


def test_a_change_deactivates_and_reactivates() -> None:
    retired = acme().changed(active=False)

    assert not retired.active
    assert retired.changed(active=True).active


@pytest.mark.parametrize(
    ("rate_limit", "events", "code"),
    [
        (0, None, "invalid_rate_limit"),
        (1_000_001, None, "invalid_rate_limit"),
        (None, 0, "invalid_events_per_minute"),
        (None, 10_000_001, "invalid_events_per_minute"),
    ],
)
def test_a_change_checks_the_limits_as_registration_does(
    rate_limit: int | None, events: int | None, code: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        acme().changed(rate_limit_per_minute=rate_limit, events_per_minute=events)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("client", "active_admin"),
    [
        (acme(Role.ADMIN), True),
        (acme(Role.ADMIN).deactivated(), False),
        (acme(Role.CLIENT), False),
    ],
)
def test_only_an_active_admin_is_one(client: Client, active_admin: bool) -> None:
    assert client.is_active_admin is active_admin
