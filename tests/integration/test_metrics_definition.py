"""Each storage computes user activity exactly as the domain defines it (`user_activity`): the
SQL aggregation and the Python one are two implementations of one definition."""

import random
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from tests.integration.metrics_helpers import hour, metrics_of
from tracking.application.commands.record_events import NewEvent
from tracking.bootstrap import Container
from tracking.domain.activity import UserActivity, user_activity
from tracking.domain.events import Event
from tracking.domain.windows import Window, WindowSize

WINDOW = Window(start=hour(4), size=WindowSize(4))
ACTIONS = ["view", "click", "checkout.completed", "a:b", "x-y"]


def random_events(seed: int, clients: list[UUID]) -> list[Event]:
    """Events in, before and after the window, its edges included, of users shared by name
    between clients, at microsecond precision."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    edges = [WINDOW.start, WINDOW.end - timedelta(microseconds=1), WINDOW.end]
    events = []
    for _ in range(300):
        at = (
            rng.choice(edges)
            if rng.random() < 0.1
            else WINDOW.start
            + timedelta(microseconds=rng.randrange(-3_600_000_000, 18_000_000_000))
        )
        events.append(
            Event(
                id=uuid4(),
                client_id=rng.choice(clients),
                user_id=f"u{rng.randrange(12)}",
                action=rng.choice(ACTIONS),
                occurred_at=at,
                received_at=at,
                metadata="{}",
            )
        )
    return events


@pytest.mark.parametrize("seed", range(3))
async def test_a_computed_window_holds_the_domains_user_activity(
    container: Container, seed: int
) -> None:
    metrics = await metrics_of(container)
    clients = [uuid4(), uuid4()]
    events = random_events(seed, clients)
    for event in events:
        metrics.clock.current = event.occurred_at
        recorded = await metrics.record(
            event.client_id,
            NewEvent(
                id=event.id,
                user_id=event.user_id,
                action=event.action,
                occurred_at=event.occurred_at,
            ),
        )
        assert recorded.count("stored") == 1
    metrics.clock.current = hour(12) + timedelta(hours=1)

    await metrics.run()

    computed = {
        (client, row.user_id): UserActivity(
            event_count=row.event_count,
            distinct_actions=row.distinct_actions,
            action_counts=row.action_counts,
            first_event_at=row.first_event_at,
            last_event_at=row.last_event_at,
        )
        for client in clients
        for row in await metrics.rows(client, starts_from=WINDOW.start, starts_till=WINDOW.end)
    }
    expected = user_activity(WINDOW, events)
    assert computed == expected
    assert len(expected) > 10
