"""PyJwtTokenCodec: HS256 tokens naming a client, checked with the algorithm pinned."""

import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
import pytest

from tests.fakes import FixedClock
from tests.unit.support import AUDIENCE, ISSUER, JWT_SECRET, codec, principal
from tracking.application.errors import Unauthenticated

ACME = principal()


def signed(claims: dict[str, object], algorithm: str = "HS256") -> str:
    return jwt.encode(claims, JWT_SECRET, algorithm=algorithm)


def valid_claims() -> dict[str, object]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(ACME.client_id),
        "iat": now,
        "exp": now + 600,
        "jti": uuid4().hex,
    }


def test_an_issued_token_verifies_to_its_client_id() -> None:
    tokens = codec()

    assert tokens.verify(tokens.issue(ACME).access_token) == ACME.client_id


def test_an_issued_token_lasts_its_ttl_and_names_client_role_issuer_and_audience() -> None:
    issued_at = datetime(2026, 1, 1, tzinfo=UTC)
    issued = codec(FixedClock(issued_at), ttl=timedelta(minutes=20)).issue(ACME)

    claims = jwt.decode(issued.access_token, options={"verify_signature": False})

    assert issued.expires_in == 1200
    assert jwt.get_unverified_header(issued.access_token)["alg"] == "HS256"
    assert {key: claims[key] for key in ("iss", "aud", "sub", "role", "iat", "exp")} == {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(ACME.client_id),
        "role": "client",
        "iat": int(issued_at.timestamp()),
        "exp": int(issued_at.timestamp()) + 1200,
    }


def test_two_tokens_for_one_client_differ() -> None:
    tokens = codec()

    assert tokens.issue(ACME).access_token != tokens.issue(ACME).access_token


def test_a_token_from_the_past_is_expired() -> None:
    token = codec(FixedClock(datetime.now(UTC) - timedelta(hours=1))).issue(ACME).access_token

    with pytest.raises(Unauthenticated) as refused:
        codec().verify(token)

    assert refused.value.code == "token_expired"


def test_a_token_signed_with_the_right_secret_but_another_algorithm_is_refused() -> None:
    with pytest.raises(Unauthenticated) as refused:
        codec().verify(signed(valid_claims(), algorithm="HS512"))

    assert refused.value.code == "invalid_token"


@pytest.mark.parametrize("missing", ["iss", "aud", "sub", "iat", "exp", "jti"])
def test_a_token_missing_a_required_claim_is_refused(missing: str) -> None:
    claims = valid_claims()
    del claims[missing]

    with pytest.raises(Unauthenticated) as refused:
        codec().verify(signed(claims))

    assert refused.value.code == "invalid_token"


@pytest.mark.parametrize("subject", ["not-a-uuid", 42, ""])
def test_a_token_whose_subject_is_not_a_client_id_is_refused(subject: object) -> None:
    claims = valid_claims() | {"sub": subject}

    with pytest.raises(Unauthenticated) as refused:
        codec().verify(signed(claims))

    assert refused.value.code == "invalid_token"
