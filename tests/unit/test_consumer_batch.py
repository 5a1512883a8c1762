"""The consumer's batch: one write for every client in it, dead letters with their reason, ids
for messages that name none; and the delay between retries of a failing step."""

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest

from tests.fakes import T0, FixedClock
from tests.unit.support import ChangesSpy, WriterSpy, register, stats_cache, uow_factory
from tracking.adapters.kafka.batches import BatchOutcome, store_batch
from tracking.adapters.kafka.consumer import FIRST_RETRY_SECONDS, backoff
from tracking.adapters.kafka.messages import Message, encode_event, message_event_id
from tracking.adapters.memory.read_models import InMemoryClientReadModel
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.commands.deactivate_client import (
    DeactivateClient,
    DeactivateClientHandler,
)
from tracking.application.commands.record_events import RecordedEvents, Rejected
from tracking.application.commands.store_queued_events import (
    StoreQueuedEvents,
    StoreQueuedEventsHandler,
)
from tracking.application.errors import Unavailable
from tracking.application.principal import Principal
from tracking.domain.events import Event

TOPIC = "tracking.events"
T0_MS = int(T0.timestamp() * 1000)


class Consumer:
    """The batch step as the consume loop runs it, over an in-memory installation."""

    def __init__(self, store: InMemoryStore, clock: FixedClock) -> None:
        self.writer = WriterSpy(store, clock)
        self._store = StoreQueuedEventsHandler(
            self.writer, InMemoryClientReadModel(store), clock, timedelta(days=30), stats_cache()
        )

    async def __call__(self, *messages: Message) -> BatchOutcome:
        return await store_batch(self._store, list(messages))


@pytest.fixture
def consume(store: InMemoryStore, clock: FixedClock) -> Consumer:
    return Consumer(store, clock)


@pytest.fixture
async def acme(store: InMemoryStore) -> UUID:
    return (await register(store, "acme")).client.id


def event_value(client_id: UUID, **fields: Any) -> bytes:
    """An event message's value; a field given as None is left out."""
    value = {"client_id": client_id, "user_id": "u1", "action": "click", **fields}
    return msgspec.json.encode({k: v for k, v in value.items() if v is not None})


def message(
    value: bytes | None,
    partition: int = 0,
    offset: int = 0,
    *,
    timestamp_ms: int = T0_MS,
    topic: str = TOPIC,
) -> Message:
    return Message(
        topic=topic, partition=partition, offset=offset, timestamp_ms=timestamp_ms, value=value
    )


def letters(outcome: BatchOutcome) -> list[tuple[int, int, str, str]]:
    return [
        (d.message.partition, d.message.offset, d.reason, d.error.code)
        for d in outcome.dead_letters
    ]


# One write for the batch, each event once


async def test_a_batch_of_several_clients_is_stored_in_one_write(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    globex = (await register(store, "globex")).client.id
    a1, a2, g1 = uuid4(), uuid4(), uuid4()

    outcome = await consume(
        message(event_value(acme, id=a1), partition=0, offset=0),
        message(event_value(globex, id=g1), partition=1, offset=0),
        message(event_value(acme, id=a2), partition=0, offset=1),
    )

    assert (outcome.stored, outcome.duplicates, outcome.dead_letters) == (3, 0, [])
    assert len(consume.writer.writes) == 1
    assert set(store.events_of(acme)) == {a1, a2}
    assert set(store.events_of(globex)) == {g1}


async def test_a_batch_delivered_again_is_all_duplicates_and_changes_nothing(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    batch = [
        message(event_value(acme, id=uuid4())),
        message(event_value(acme)),  # no id: made from its place in the log
        message(event_value(acme, user_id="late"), offset=1),
    ]
    first = await consume(*batch)
    stored_before = dict(store.events_of(acme))

    again = await consume(*batch)

    assert (first.stored, first.duplicates) == (3, 0)
    assert (again.stored, again.duplicates, again.dead_letters) == (0, 3, [])
    assert store.events_of(acme) == stored_before


async def test_one_id_in_two_messages_of_a_batch_is_stored_once_and_the_first_kept(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    event_id = uuid4()

    outcome = await consume(
        message(event_value(acme, id=event_id, user_id="first"), offset=0),
        message(event_value(acme, id=event_id, user_id="second"), offset=1),
    )

    assert (outcome.stored, outcome.duplicates) == (1, 1)
    assert [e.user_id for e in store.events_of(acme).values()] == ["first"]


async def test_a_batch_with_nothing_to_store_writes_nothing(consume: Consumer, acme: UUID) -> None:
    outcome = await consume(
        message(b"{", offset=0), message(event_value(acme, action="no spaces"), offset=1)
    )

    assert outcome.stored == 0
    assert len(outcome.dead_letters) == 2
    assert consume.writer.writes == []


# Dead letters


@pytest.mark.parametrize(
    "value",
    [b"{not json", b'{"client_id": ', b"", None, b"\xff\xfe"],
    ids=["bad-json", "truncated", "empty", "none", "not-utf8"],
)
async def test_a_message_that_is_not_json_is_a_dead_letter_and_its_neighbours_are_stored(
    store: InMemoryStore, consume: Consumer, acme: UUID, value: bytes | None
) -> None:
    bad = message(value, offset=1)

    outcome = await consume(
        message(event_value(acme), offset=0), bad, message(event_value(acme), offset=2)
    )

    assert outcome.stored == 2
    [letter] = outcome.dead_letters
    assert (letter.message, letter.reason, letter.error.code) == (
        bad,
        "undecodable",
        "invalid_json",
    )
    assert letter.error.detail
    assert len(store.events_of(acme)) == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"colour": "red"},
        {"action": None},
        {"user_id": None},
        {"user_id": ["u1"]},
        {"occurred_at": 1761220800},
        {"metadata": [1, 2]},
        {"id": "not-a-uuid"},
    ],
    ids=[
        "unknown-field",
        "no-action",
        "no-user-id",
        "user-id-list",
        "occurred-at-number",
        "metadata-array",
        "id-not-uuid",
    ],
)
async def test_a_message_that_is_no_event_is_an_invalid_event(
    store: InMemoryStore, consume: Consumer, acme: UUID, fields: dict[str, Any]
) -> None:
    bad = message(event_value(acme, **fields), offset=1)

    outcome = await consume(message(event_value(acme), offset=0), bad)

    assert outcome.stored == 1
    [letter] = outcome.dead_letters
    assert (letter.message, letter.reason, letter.error.code) == (
        bad,
        "invalid_event",
        "invalid_event",
    )
    assert letter.error.detail
    assert len(store.events_of(acme)) == 1


@pytest.mark.parametrize(
    "value",
    [b"[1, 2]", b'"text"', b"{}", b'{"client_id": "acme", "user_id": "u", "action": "a"}'],
    ids=["array", "string", "empty-object", "client-id-not-uuid"],
)
async def test_json_that_is_no_event_message_is_an_invalid_event(
    consume: Consumer, value: bytes
) -> None:
    outcome = await consume(message(value))

    assert letters(outcome) == [(0, 0, "invalid_event", "invalid_event")]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"action": "no spaces"}, "invalid_action"),
        ({"user_id": ""}, "invalid_user_id"),
        ({"occurred_at": "2025-10-23T12:00:00"}, "invalid_occurred_at"),
        ({"metadata": {"k": "x" * 16384}}, "metadata_too_large"),
        # Six minutes ahead of when it was received, though long before now.
        (
            {
                "received_at": (T0 - timedelta(hours=1)).isoformat(),
                "occurred_at": (T0 - timedelta(minutes=54)).isoformat(),
            },
            "occurred_at_in_future",
        ),
    ],
)
async def test_an_event_that_breaks_a_rule_is_an_invalid_event_with_the_rules_code(
    store: InMemoryStore, consume: Consumer, acme: UUID, fields: dict[str, Any], code: str
) -> None:
    bad = message(event_value(acme, **fields), offset=1)

    outcome = await consume(
        message(event_value(acme), offset=0), bad, message(event_value(acme), offset=2)
    )

    assert outcome.stored == 2
    [letter] = outcome.dead_letters
    assert (letter.message, letter.reason, letter.error.code) == (bad, "invalid_event", code)
    assert letter.error.detail.startswith(("action ", "user_id ", "occurred_at ", "metadata "))
    assert len(store.events_of(acme)) == 2


async def test_an_event_of_a_client_that_does_not_exist_is_an_unknown_client(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    stranger = uuid4()
    bad = message(event_value(stranger), offset=1)

    outcome = await consume(message(event_value(acme), offset=0), bad)

    assert outcome.stored == 1
    [letter] = outcome.dead_letters
    assert (letter.message, letter.reason, letter.error.code) == (
        bad,
        "unknown_client",
        "unknown_client",
    )
    assert str(stranger) in letter.error.detail
    assert store.events_of(stranger) == {}


async def test_an_event_of_a_deactivated_client_is_an_unknown_client(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    globex = (await register(store, "globex")).client.id
    await DeactivateClientHandler(uow_factory(store), ChangesSpy(store))(
        DeactivateClient(actor=Principal.operator(), client_id=globex)
    )

    outcome = await consume(
        message(event_value(acme), offset=0), message(event_value(globex), offset=1)
    )

    assert outcome.stored == 1
    assert letters(outcome) == [(0, 1, "unknown_client", "unknown_client")]
    assert store.events_of(globex) == {}
    assert len(store.events_of(acme)) == 1


async def test_dead_letters_of_every_kind_come_in_log_order_and_the_rest_is_stored(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    good = [uuid4() for _ in range(3)]

    outcome = await consume(
        message(event_value(acme, action="bad action"), partition=1, offset=7),
        message(event_value(acme, id=good[0]), partition=1, offset=3),
        message(event_value(uuid4()), partition=0, offset=9),
        message(event_value(acme, id=good[1]), partition=0, offset=8),
        message(b"nope", partition=1, offset=2),
        message(event_value(acme, colour="red"), partition=0, offset=4),
        message(event_value(acme, id=good[2]), partition=2, offset=0),
        message(event_value(acme, user_id=""), partition=0, offset=1),
    )

    assert letters(outcome) == [
        (0, 1, "invalid_event", "invalid_user_id"),
        (0, 4, "invalid_event", "invalid_event"),
        (0, 9, "unknown_client", "unknown_client"),
        (1, 2, "undecodable", "invalid_json"),
        (1, 7, "invalid_event", "invalid_action"),
    ]
    assert outcome.stored == 3
    assert set(store.events_of(acme)) == set(good)


async def test_a_rejected_event_is_reported_with_its_own_message_among_several_clients(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    globex = (await register(store, "globex")).client.id
    bad = message(event_value(globex, action="no spaces"), partition=3, offset=5)

    outcome = await consume(
        message(event_value(acme), partition=3, offset=1),
        message(event_value(globex), partition=3, offset=2),
        message(event_value(acme), partition=3, offset=3),
        bad,
    )

    assert [d.message for d in outcome.dead_letters] == [bad]
    assert outcome.stored == 3


# Ids for messages that name none


async def test_a_message_without_id_gets_the_same_id_each_time_it_is_delivered(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    sent = message(event_value(acme), partition=2, offset=41, timestamp_ms=T0_MS - 5000)

    first = await consume(sent)
    [stored] = store.events_of(acme).values()
    again = await consume(sent)

    assert (first.stored, again.stored, again.duplicates) == (1, 0, 1)
    assert list(store.events_of(acme).values()) == [stored]
    assert stored.id == message_event_id(TOPIC, 2, 41, T0_MS - 5000)
    assert (stored.id.version, stored.id.variant) == (7, uuid.RFC_4122)
    assert stored.id.int >> 80 == T0_MS - 5000


async def test_messages_without_id_in_other_places_of_the_log_are_other_events(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    value = event_value(acme)

    outcome = await consume(
        message(value, partition=0, offset=0),
        message(value, partition=0, offset=1),
        message(value, partition=1, offset=0),
        message(value, partition=0, offset=0, topic="other.events"),
    )

    assert (outcome.stored, outcome.duplicates) == (4, 0)
    assert len(store.events_of(acme)) == 4


async def test_an_id_named_in_the_message_is_kept(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    event_id = uuid4()

    await consume(message(event_value(acme, id=event_id), offset=3))

    assert list(store.events_of(acme)) == [event_id]


# The time of receipt


async def test_the_receipt_time_in_the_message_is_the_one_stored(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    received = datetime(2025, 10, 23, 9, 30, 15, 250000, tzinfo=UTC)

    await consume(message(event_value(acme, received_at="2025-10-23T11:30:15.25+02:00")))

    [stored] = store.events_of(acme).values()
    assert (stored.received_at, stored.occurred_at) == (received, received)


async def test_without_a_receipt_time_the_kafka_timestamp_is_the_receipt_time(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    await consume(message(event_value(acme), timestamp_ms=T0_MS - 90_250))

    [stored] = store.events_of(acme).values()
    assert stored.received_at == T0 - timedelta(seconds=90.25)


async def test_without_a_receipt_time_or_a_kafka_timestamp_the_clock_is_the_receipt_time(
    store: InMemoryStore, clock: FixedClock, consume: Consumer, acme: UUID
) -> None:
    clock.advance(timedelta(minutes=7))

    await consume(message(event_value(acme), timestamp_ms=-1))

    [stored] = store.events_of(acme).values()
    assert stored.received_at == T0 + timedelta(minutes=7)


async def test_the_future_is_judged_from_the_kafka_timestamp_when_the_message_has_no_receipt(
    consume: Consumer, acme: UUID
) -> None:
    occurred = (T0 - timedelta(minutes=50)).isoformat()

    outcome = await consume(
        message(event_value(acme, occurred_at=occurred), timestamp_ms=T0_MS - 3_600_000)
    )

    assert letters(outcome) == [(0, 0, "invalid_event", "occurred_at_in_future")]


async def test_an_event_published_by_http_ingest_is_stored_as_it_was_published(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    published = Event(
        id=uuid4(),
        client_id=acme,
        user_id="42",
        action="page.view",
        occurred_at=datetime(2025, 10, 23, 11, 59, 1, 123456, tzinfo=UTC),
        received_at=datetime(2025, 10, 23, 11, 59, 2, 654321, tzinfo=UTC),
        metadata='{"path":"/ä","n":[1,2.5,null]}',
    )

    outcome = await consume(message(encode_event(published), timestamp_ms=T0_MS))

    assert outcome.stored == 1
    assert store.events_of(acme) == {published.id: published}


# Bad times from a producer: each was once a batch retried forever (a stalled partition).


async def test_a_receipt_time_without_utc_offset_is_a_dead_letter_not_a_stalled_batch(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    """A naive `received_at` is refused by the domain rule, not compared with aware times."""
    naive = "2025-10-23T12:00:00"
    bad = [
        message(event_value(acme, received_at=naive, occurred_at=T0.isoformat()), offset=1),
        message(event_value(acme, received_at=naive), offset=2),
    ]

    outcome = await consume(message(event_value(acme), offset=0), *bad)

    assert [d.message for d in outcome.dead_letters] == bad
    assert {d.reason for d in outcome.dead_letters} == {"invalid_event"}
    assert outcome.stored == 1
    assert all(e.received_at.utcoffset() is not None for e in store.events_of(acme).values())


async def test_a_kafka_timestamp_beyond_the_year_9999_does_not_fail_the_batch(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    """A producer may set any CreateTime; one past the year 9999 stands for now."""
    outcome = await consume(
        message(event_value(acme), offset=0),
        message(event_value(acme), offset=1, timestamp_ms=2**62),
    )

    assert outcome.stored + len(outcome.dead_letters) == 2
    assert outcome.stored >= 1
    assert len(store.events_of(acme)) == outcome.stored


async def test_a_receipt_time_with_another_offset_is_kept_in_utc(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    """As `occurred_at` is: so memory and PostgreSQL list the same times."""
    await consume(message(event_value(acme, received_at="2025-10-23T11:30:15+02:00")))

    [stored] = store.events_of(acme).values()
    assert stored.received_at.utcoffset() == timedelta(0)
    assert stored.occurred_at.utcoffset() == timedelta(0)


# The delay between retries of a failing step


def jitter(monkeypatch: pytest.MonkeyPatch, pick: Callable[[float, float], float]) -> None:
    monkeypatch.setattr(random, "uniform", pick)


@pytest.mark.parametrize("cap", [0.05, 1.0, 30.0])
def test_a_delay_is_never_above_the_cap_nor_below_half_the_unjittered_one(cap: float) -> None:
    for attempt in range(1, 40):
        unjittered = min(cap, FIRST_RETRY_SECONDS * 2 ** (attempt - 1))
        delays = [backoff(attempt, cap) for _ in range(50)]

        assert all(unjittered / 2 <= d <= unjittered <= cap for d in delays), (attempt, delays)


def test_the_delay_doubles_with_each_attempt_until_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jitter(monkeypatch, lambda _low, high: high)

    delays = [backoff(attempt, 30.0) for attempt in range(1, 12)]

    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0])


def test_the_shortest_delay_is_half_the_unjittered_one(monkeypatch: pytest.MonkeyPatch) -> None:
    jitter(monkeypatch, lambda low, _high: low)

    delays = [backoff(attempt, 1.0) for attempt in (1, 2, 3, 4, 5, 6)]

    assert delays == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.5, 0.5])


def test_below_the_cap_a_later_attempt_never_waits_less_than_an_earlier_one() -> None:
    for attempt in range(1, 8):
        earlier = max(backoff(attempt, 60.0) for _ in range(50))
        later = min(backoff(attempt + 1, 60.0) for _ in range(50))

        assert later >= earlier, attempt


@pytest.mark.parametrize("attempt", [1024, 1025, 5000])
def test_a_long_outage_keeps_the_delay_at_the_cap(attempt: int) -> None:
    """`2.0 ** (attempt - 1)` would overflow from attempt 1025, hours into an outage."""
    assert 15.0 <= backoff(attempt, 30.0) <= 30.0


async def test_metadata_that_is_not_utf8_is_an_undecodable_dead_letter_not_a_stalled_batch(
    store: InMemoryStore, consume: Consumer, acme: UUID
) -> None:
    good = event_value(acme)
    bad = good.replace(b'"action"', b'"metadata":{"k":"\xff"},"action"')

    outcome = await consume(message(good, offset=0), message(bad, offset=1))

    assert outcome.stored == 1
    assert letters(outcome) == [(0, 1, "undecodable", "invalid_json")]
    assert len(store.events_of(acme)) == 1


async def test_a_rejection_whose_category_is_retried_fails_the_whole_batch_to_be_retried(
    store: InMemoryStore, clock: FixedClock, acme: UUID
) -> None:
    class Refusing(StoreQueuedEventsHandler):
        async def __call__(self, command: StoreQueuedEvents) -> RecordedEvents:
            recorded = await super().__call__(command)
            down = Unavailable("database_unavailable", "retry shortly")
            return RecordedEvents(
                results=[Rejected(index=r.index, id=r.id, error=down) for r in recorded.results]
            )

    handler = Refusing(
        WriterSpy(store, clock),
        InMemoryClientReadModel(store),
        clock,
        timedelta(days=30),
        stats_cache(),
    )
    messages = [message(event_value(acme), offset=0)]

    with pytest.raises(Unavailable):
        await store_batch(handler, messages)
