"""Access tokens as HS256 JWTs (pyjwt), with the algorithm pinned when verifying."""

import uuid
from datetime import timedelta
from uuid import UUID

import jwt

from tracking.application.errors import Unauthenticated
from tracking.application.ports import Clock, IssuedToken, TokenCodec, TokenPurpose
from tracking.application.principal import Principal

_ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "jti"]
STREAM_TTL = timedelta(minutes=1)


class PyJwtTokenCodec(TokenCodec):
    def __init__(
        self, *, secret: str, issuer: str, audience: str, ttl: timedelta, clock: Clock
    ) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl
        self._clock = clock

    def issue(self, principal: Principal, purpose: TokenPurpose = "access") -> IssuedToken:
        issued_at = self._clock.now()
        ttl = self._ttl if purpose == "access" else STREAM_TTL
        claims = {
            "iss": self._issuer,
            "aud": self._audience_for(purpose),
            "sub": str(principal.client_id),
            "role": principal.role.value,
            "iat": issued_at,
            "exp": issued_at + ttl,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self._secret, algorithm=_ALGORITHM)
        return IssuedToken(access_token=token, expires_in=int(ttl.total_seconds()))

    def _audience_for(self, purpose: TokenPurpose) -> str:
        """A stream token's audience is its own, so no other route takes it (nor it another)."""
        return self._audience if purpose == "access" else f"{self._audience}:stream"

    def verify(self, token: str, purpose: TokenPurpose = "access") -> UUID:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=self._audience_for(purpose),
                issuer=self._issuer,
                # Expiry is checked below against our clock, the one time source.
                options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
            client_id = UUID(claims["sub"])
            expires = float(claims["exp"])
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise Unauthenticated("invalid_token", "the token is not valid") from None
        if expires <= self._clock.now().timestamp():
            raise Unauthenticated("token_expired", "the token has expired")
        return client_id
