"""The rules of a client: its name, its rate limit and its API key."""

import hashlib
import re
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes import T0
from tracking.domain.clients import ApiKey, Client, Role, hash_api_key, name_of, rate_limit_of
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
        created_at=T0,
        api_key=key,
    )

    assert client.name == "acme"
    assert client.active
    assert not client.is_admin
    assert client.api_key_hash == key.digest
    assert key.secret not in (client.api_key_hash, client.api_key_prefix)
    assert key.secret.startswith(client.api_key_prefix)


@pytest.mark.parametrize(
    ("name", "rate_limit", "code"),
    [("", 100, "invalid_name"), ("acme", 0, "invalid_rate_limit")],
)
def test_registering_a_client_checks_its_rules(name: str, rate_limit: int, code: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        Client.register(
            id=uuid4(),
            name=name,
            role=Role.CLIENT,
            rate_limit_per_minute=rate_limit,
            created_at=T0,
            api_key=ApiKey.generate(),
        )
    assert refused.value.code == code
