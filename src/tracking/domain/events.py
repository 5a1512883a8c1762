"""The event: one thing one user of a client's application did, stored exactly once."""

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from tracking.domain.errors import RuleViolation
from tracking.domain.instants import EARLIEST, instant_of

USER_ID_MAX_LENGTH = 128
ACTION_MAX_LENGTH = 64
METADATA_MAX_BYTES = 16 * 1024
METADATA_MAX_DEPTH = 32
MAX_CLOCK_SKEW = timedelta(minutes=5)
NO_METADATA = "{}"
"""The metadata of an event sent without any."""
_INT_WITH_TOO_MANY_DIGITS = 10**USER_ID_MAX_LENGTH

_ACTION = re.compile(rf"[A-Za-z0-9_.:\-]{{1,{ACTION_MAX_LENGTH}}}")
# A JSON \u0000 escape that is not itself an escaped backslash followed by "u0000".
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


class Event(NamedTuple):
    """An event as stored. `metadata` is the sender's JSON object as compact JSON text:
    the service keeps it and never interprets it. Immutable, and a named tuple rather than
    a frozen dataclass: made for every event ingested, it is built in a third of the time."""

    id: UUID
    client_id: UUID
    user_id: str
    action: str
    occurred_at: datetime
    received_at: datetime
    metadata: str

    @classmethod
    def record(
        cls,
        *,
        id: UUID,  # noqa: A002 - the domain's own name for it
        client_id: UUID,
        user_id: str | int,
        action: str,
        occurred_at: str | datetime | None,
        received_at: datetime,
        metadata: str,
        max_age: timedelta | None,
    ) -> "Event":
        """Checks every rule, so an `Event` recorded is one we may store. `max_age` bounds how
        long before its receipt an event may have happened (None: an import of history)."""
        return cls(
            id,
            client_id,
            user_id_of(user_id),
            action_of(action),
            occurred_at_of(occurred_at, received_at, max_age),
            received_at,
            metadata_of(metadata),
        )


def user_id_of(value: str | int) -> str:
    """A user id is a string of 1-128 characters; a JSON integer is kept as its decimal string."""
    if isinstance(value, bool):
        raise RuleViolation("invalid_user_id", "user_id", "must be a string or an integer")
    if isinstance(value, int):
        text = "" if abs(value) >= _INT_WITH_TOO_MANY_DIGITS else str(value)
    else:
        text = value
    if not 1 <= len(text) <= USER_ID_MAX_LENGTH:
        raise RuleViolation(
            "invalid_user_id", "user_id", f"must be 1 to {USER_ID_MAX_LENGTH} characters long"
        )
    if not text.isprintable():
        raise RuleViolation(
            "invalid_user_id", "user_id", "must not contain control or non-printable characters"
        )
    return text


def action_of(value: str) -> str:
    if _ACTION.fullmatch(value) is None:
        raise RuleViolation(
            "invalid_action",
            "action",
            f"must be 1 to {ACTION_MAX_LENGTH} characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'",
        )
    return value


def occurred_at_of(
    value: str | datetime | None, received_at: datetime, max_age: timedelta | None
) -> datetime:
    """The sender's time, defaulting to ours, kept in UTC. A clock more than five minutes ahead
    is refused, and so is a time more than `max_age` before the receipt: live ingest takes
    recent events, history comes in as an import, from the Unix epoch on."""
    if value is None:
        return received_at
    at = instant_of(value, "occurred_at")
    if at - received_at > MAX_CLOCK_SKEW:
        raise RuleViolation(
            "occurred_at_in_future",
            "occurred_at",
            f"is more than {int(MAX_CLOCK_SKEW.total_seconds() // 60)} minutes in the future",
        )
    if max_age is not None and received_at - at > max_age:
        raise RuleViolation(
            "occurred_at_too_old",
            "occurred_at",
            f"is more than {max_age.days} days before its receipt: older history is imported",
        )
    if at < EARLIEST:
        raise RuleViolation("invalid_occurred_at", "occurred_at", "must not be before 1970")
    return at


def received_at_of(value: str | datetime) -> datetime:
    """A receipt time given by a queue in front of us (Kafka): with an offset, kept in UTC."""
    at = instant_of(value, "received_at")
    if at < EARLIEST:
        raise RuleViolation("invalid_received_at", "received_at", "must not be before 1970")
    return at


def metadata_of(encoded: str) -> str:
    """Metadata is a JSON object of at most 16 KiB once compactly encoded.

    A NUL character cannot be stored by PostgreSQL in text or jsonb, so it is refused here
    rather than failing later in one storage and not in another."""
    if not encoded.startswith("{"):
        raise RuleViolation("invalid_metadata", "metadata", "must be a JSON object")
    if len(encoded) * 4 > METADATA_MAX_BYTES and len(encoded.encode()) > METADATA_MAX_BYTES:
        raise RuleViolation(
            "metadata_too_large", "metadata", f"must be at most {METADATA_MAX_BYTES} bytes encoded"
        )
    if "\\u0000" in encoded and _JSON_NUL.search(encoded):
        raise RuleViolation("invalid_metadata", "metadata", "must not contain the NUL character")
    return encoded


_CONTAINERS = (dict, list)


def check_metadata_depth(metadata: object) -> None:
    """Nesting is allowed, to a depth any reader can follow: JSON nested hundreds of levels
    deep breaks recursive encoders and decoders downstream (ours included)."""
    if type(metadata) is dict and not any(isinstance(v, _CONTAINERS) for v in metadata.values()):
        return  # flat, as most metadata is: no walk needed
    level: list[tuple[object, int]] = [(metadata, 1)]
    while level:
        value, depth = level.pop()
        if depth > METADATA_MAX_DEPTH:
            raise _too_deep()
        children: Iterable[object] = (
            value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        )
        level.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def check_encoded_depth(encoded: str) -> None:
    """`check_metadata_depth` for metadata still as JSON text, never decoded: text with fewer
    brackets than the limit cannot nest deeper (the common case, decided at C speed)."""
    if encoded.count("{") + encoded.count("[") <= METADATA_MAX_DEPTH:
        return
    depth, in_string, escaped = 0, False, False
    for char in encoded:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            if depth > METADATA_MAX_DEPTH:
                raise _too_deep()
        elif char in "}]":
            depth -= 1


def _too_deep() -> RuleViolation:
    return RuleViolation(
        "invalid_metadata", "metadata", f"must not nest more than {METADATA_MAX_DEPTH} levels deep"
    )
