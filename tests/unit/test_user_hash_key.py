"""A user's hash is HMAC-SHA256 of the client id's bytes and the user id, whatever the key's
length and whether the key remembers the user or not."""

import hmac
import uuid

import pytest

from tracking.domain import privacy
from tracking.domain.privacy import UserHashKey


@pytest.mark.parametrize("length", [32, 63, 64, 65, 200])
def test_the_hash_is_hmac_sha256_of_the_client_and_the_user(length: int) -> None:
    secret = bytes(range(256))[:length]
    key = UserHashKey(secret)
    client = uuid.uuid4()
    for user in ["u1", "ü-2", "3" * 128]:
        expected = hmac.digest(secret, client.bytes + user.encode(), "sha256")
        assert key.hash(client, user) == expected
        assert key.hash(client, user) == expected  # remembered, the same


def test_a_key_that_starts_over_still_answers_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(privacy, "RECENT_USERS", 2)
    key = UserHashKey(b"k" * 32)
    client = uuid.uuid4()
    first = [key.hash(client, f"u{n}") for n in range(5)]
    assert [key.hash(client, f"u{n}") for n in range(5)] == first
    assert len(set(first)) == 5


def test_the_same_user_id_under_another_client_is_another_hash() -> None:
    key = UserHashKey(b"k" * 32)
    assert key.hash(uuid.uuid4(), "u1") != key.hash(uuid.uuid4(), "u1")
