"""Privacy: a user named without their id in clear, and the rule that refuses the events of a
user who asked to be forgotten and left alone (a suppressed user).

A user is identified, wherever the service keeps something about them beyond their events (a
suppression, the erasure log), by a keyed hash: HMAC-SHA256 of the client id's 16 bytes
followed by the user id in UTF-8, under a secret of the installation. The client id has a
fixed length, so no two (client, user) pairs give the same message; and without the secret,
nobody holding a hash can try user ids against it (user ids are often guessable: `321`)."""

import hmac
import secrets
from uuid import UUID

from tracking.domain.errors import Category, FieldError, TrackingError

USER_HASH_KEY_MIN_BYTES = 32
"""The shortest secret a user hash may be keyed with: HMAC-SHA256's own output size."""
RECENT_USERS = 32_768
"""How many users' hashes a key keeps at hand (a few MB); past that it starts over."""


class UserHashKey:
    """The installation's secret for user hashes. Every process must hold the same one, or a
    suppression made by one would not be found by another."""

    __slots__ = ("_keyed", "_recent")

    def __init__(self, secret: bytes) -> None:
        if len(secret) < USER_HASH_KEY_MIN_BYTES:
            raise ValueError(f"a user hash key is at least {USER_HASH_KEY_MIN_BYTES} bytes long")
        self._keyed = hmac.new(secret, digestmod="sha256")  # copied for each user: keyed once
        self._recent: dict[bytes, bytes] = {}

    @classmethod
    def random(cls) -> "UserHashKey":
        return cls(secrets.token_bytes(USER_HASH_KEY_MIN_BYTES))

    def hash(self, client_id: UUID, user_id: str) -> bytes:
        """The user's hash: 32 bytes, the same for the same user under the same key. The
        users hashed lately are remembered: the same users send event after event."""
        message = client_id.bytes + user_id.encode()
        known = self._recent.get(message)
        if known is not None:
            return known
        keyed = self._keyed.copy()
        keyed.update(message)
        digest = keyed.digest()
        if len(self._recent) >= RECENT_USERS:
            self._recent.clear()
        self._recent[message] = digest
        return digest

    def __repr__(self) -> str:
        return "UserHashKey(...)"  # never the secret, in a log or a traceback


class UserSuppressed(TrackingError):
    """The event's user was erased with suppression: their events are refused until an admin
    or their client lifts it. Refused for good (a dead letter on Kafka), never retried."""

    category = Category.FORBIDDEN

    def __init__(self) -> None:
        message = "is suppressed: this user's events are refused until the suppression is lifted"
        super().__init__(
            "user_suppressed",
            f"user_id {message}",
            errors=[FieldError(field="user_id", message=message)],
        )
