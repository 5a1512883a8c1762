"""ApplyRetention over each storage: what is past a client's retention (and the metrics'
retention) goes, in batches, and nothing else; a dry run removes nothing; the stats answers
are exact after it; the metrics of removed events stay, and are not computed again."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest

from tests.integration.metrics_helpers import ADMIN, DAY, Metrics, due_after, hour, metrics_of
from tracking.application.commands.apply_retention import ApplyRetention
from tracking.application.commands.register_client import RegisterClient
from tracking.application.handlers import Handlers
from tracking.application.queries.daily_stats import DailyStats
from tracking.application.retention import RetentionReport
from tracking.bootstrap import Container, resolved
from tracking.settings import Settings

MICRO = timedelta(microseconds=1)
BATCH = 3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Small batches, so a run takes several; metric rows kept 10 days."""
    return msgspec.structs.replace(settings, retention_batch_rows=BATCH, metrics_retention_days=10)


async def setup(container: Container) -> tuple[Metrics, Handlers]:
    metrics = await metrics_of(container)
    return metrics, await resolved(container.handlers())


async def client(handlers: Handlers, name: str, days: int | None) -> UUID:
    command = RegisterClient(actor=ADMIN, name=name, retention_days=days)
    return (await handlers.register_client(command)).client.id


async def apply(handlers: Handlers, now: datetime, *, dry_run: bool = False) -> RetentionReport:
    return await handlers.apply_retention(ApplyRetention(actor=ADMIN, now=now, dry_run=dry_run))


async def event_times(handlers: Handlers, metrics: Metrics, client_id: UUID) -> list[datetime]:
    from tracking.application.queries.list_events import ListEvents  # noqa: PLC0415

    page = await handlers.list_events(ListEvents(actor=ADMIN, client_id=client_id, limit=1000))
    return sorted(event.occurred_at for event in page.events)


async def test_events_older_than_the_retention_go_in_batches_and_nothing_else(
    container: Container,
) -> None:
    metrics, handlers = await setup(container)
    shop = await client(handlers, "shop", 7)
    forever = await client(handlers, "forever", None)
    now = DAY + timedelta(days=20)
    cutoff = now - timedelta(days=7)
    old = [DAY + timedelta(hours=n) for n in range(7)]
    kept = [cutoff, cutoff + timedelta(hours=1)]
    for at in [*old, cutoff - MICRO, *kept]:
        await metrics.record_on_time(shop, at)
    for at in old:
        await metrics.record_on_time(forever, at)

    planned = await apply(handlers, now, dry_run=True)
    after_plan = await event_times(handlers, metrics, shop)
    report = await apply(handlers, now)
    again = await apply(handlers, now)

    (planned_shop,) = planned.clients
    assert (planned_shop.client_id, planned_shop.events_removed) == (shop, 8)
    assert planned.dry_run
    assert planned.batches == 0
    assert len(after_plan) == 10  # a dry run removes nothing
    (shop_report,) = report.clients
    assert (shop_report.retention_days, shop_report.cutoff) == (7, cutoff)
    assert shop_report.events_removed == 8
    assert report.batches == 3  # 3 + 3 + 2
    # An event on the cutoff is not older than it: kept, as every later one.
    assert await event_times(handlers, metrics, shop) == kept
    assert len(await event_times(handlers, metrics, forever)) == 7
    assert report.kept_for_ever == 1
    assert again.events_removed == 0


async def months_kept_apart(container: Container) -> None:
    """PostgreSQL: the months of the events recorded (in its default partition until then)
    made partitions, as its hourly upkeep does. The memory keeps every month apart."""
    partitions = await resolved(container.event_partitions())
    if partitions is not None:
        await partitions.upkeep()


async def test_a_month_whose_every_event_is_expired_goes_whole_and_the_rest_row_by_row(
    container: Container,
) -> None:
    metrics, handlers = await setup(container)
    shop = await client(handlers, "shop", 30)
    brief = await client(handlers, "brief", 10)
    forever = await client(handlers, "forever", None)
    june, july = datetime(2025, 6, 10, tzinfo=UTC), datetime(2025, 7, 10, tzinfo=UTC)
    for n in range(4):
        await metrics.record_on_time(shop, june + timedelta(hours=n))
        await metrics.record_on_time(brief, june + timedelta(hours=n))
    await metrics.record_on_time(shop, july)
    await metrics.record_on_time(forever, july)  # July is kept apart for it
    await months_kept_apart(container)
    now = datetime(2025, 9, 15, tzinfo=UTC)  # cutoffs: shop August 16, brief September 5

    planned = await apply(handlers, now, dry_run=True)
    kept_by_plan = len(await event_times(handlers, metrics, shop))
    report = await apply(handlers, now)
    again = await apply(handlers, now)

    for each in (planned, report):
        assert [(m.start, m.events) for m in each.months_dropped] == [
            (datetime(2025, 6, 1, tzinfo=UTC), 8)
        ]
        by_client = {c.client_id: c.events_removed for c in each.clients}
        assert by_client == {shop: 5, brief: 4}  # the shop's July event goes row by row
    assert kept_by_plan == 5
    # PostgreSQL trims the dropped events' keys after, in batches of 3; the memory has none.
    keys = 8 if container.settings().storage == "postgres" else 0
    assert report.keys_trimmed == keys
    assert report.batches == 2 + -(-keys // BATCH)  # the month, the shop's July row, keys
    assert await event_times(handlers, metrics, shop) == []
    assert await event_times(handlers, metrics, brief) == []
    assert await event_times(handlers, metrics, forever) == [july]
    assert (again.months_dropped, again.events_removed, again.keys_trimmed) == ([], 0, 0)


async def test_a_month_with_events_of_a_client_that_keeps_them_is_not_dropped(
    container: Container,
) -> None:
    metrics, handlers = await setup(container)
    shop = await client(handlers, "shop", 10)
    forever = await client(handlers, "forever", None)
    june = datetime(2025, 6, 10, tzinfo=UTC)
    await metrics.record_on_time(shop, june)
    await metrics.record_on_time(forever, june)
    await months_kept_apart(container)

    report = await apply(handlers, datetime(2025, 9, 15, tzinfo=UTC))

    assert report.months_dropped == []
    assert report.events_removed == 1
    assert await event_times(handlers, metrics, forever) == [june]


async def test_the_stats_answer_of_a_day_cached_before_is_exact_after(
    container: Container,
) -> None:
    metrics, handlers = await setup(container)
    shop = await client(handlers, "shop", 3)
    for hours in (1, 2, 40):  # two events on DAY, one the day after, past the cutoff
        await metrics.record_on_time(shop, hour(hours))
    now = DAY + timedelta(days=4, hours=12)  # cutoff: DAY + 1.5 days
    metrics.clock.current = now

    async def total(day: str) -> Any:
        answer = await handlers.daily_stats(DailyStats(actor=ADMIN, client_id=shop, date=day))
        return json.loads(answer.body)["total_events"]

    before = (await total("2025-10-20"), await total("2025-10-21"))
    await apply(handlers, now)
    after = (await total("2025-10-20"), await total("2025-10-21"))

    assert before == (2, 1)
    assert after == (0, 1)


async def test_metrics_of_removed_events_stay_and_are_not_computed_again(
    container: Container,
) -> None:
    metrics, handlers = await setup(container)
    shop = await client(handlers, "shop", 1)
    await metrics.record_on_time(shop, hour(1))
    await metrics.record_on_time(shop, hour(5))
    metrics.clock.current = due_after(hour(4))
    await metrics.run()
    # A late event in the first window marks it stale for the shop.
    await metrics.record(shop, *_late(hour(2)))
    before = await metrics.rows(shop)
    now = DAY + timedelta(days=3)
    metrics.clock.current = now

    planned = await apply(handlers, now, dry_run=True)
    report = await apply(handlers, now)
    run = await metrics.run()

    assert planned.clients[0].stale_marks_removed == 1
    assert (report.clients[0].events_removed, report.clients[0].stale_marks_removed) == (3, 1)
    assert await metrics.rows(shop) == before
    assert [(c.window.start, c.recomputed) for c in run.computed] == []
    assert all(window.computed_at is not None for window in (await metrics.windows()).values())


async def test_metric_rows_older_than_their_retention_go_and_the_run_log_within_backfill_stays(
    container: Container,
) -> None:
    metrics, handlers = await setup(container)
    shop = await client(handlers, "shop", None)
    for n in range(4):  # users in windows of DAY 00:00 and 04:00
        await metrics.record_on_time(shop, hour(1), user_id=f"u{n}")
        await metrics.record_on_time(shop, hour(5), user_id=f"u{n}")
    metrics.clock.current = due_after(hour(4))
    await metrics.run()
    # Metric rows are kept 10 days: windows ended by then go, rows a batch at a time.
    ten_days_on = hour(8) + timedelta(days=10)

    planned = await apply(handlers, ten_days_on, dry_run=True)
    report = await apply(handlers, ten_days_on)
    left_within_backfill = await metrics.windows()
    next_run = await metrics.run()
    far_on = await apply(handlers, hour(8) + timedelta(days=31))

    assert planned.metrics is not None
    assert planned.metrics.rows_removed == 8
    assert report.metrics is not None
    assert (report.metrics.rows_removed, report.metrics.windows_removed) == (8, 0)
    assert report.metrics.run_log_cutoff == ten_days_on - timedelta(days=30)
    assert report.batches == 3  # 3 + 3 + 2
    assert await metrics.rows(shop) == []
    # Still logged as computed: the next metrics run does not compute them again.
    assert {hour(0), hour(4)} <= set(left_within_backfill)
    assert next_run.computed == []
    assert far_on.metrics is not None
    assert far_on.metrics.windows_removed >= 2


async def test_only_an_admin_applies_retention(container: Container) -> None:
    from tracking.application.errors import Forbidden  # noqa: PLC0415
    from tracking.application.principal import CredentialKind, Principal  # noqa: PLC0415
    from tracking.domain.clients import Role  # noqa: PLC0415

    _, handlers = await setup(container)
    shop = Principal(
        client_id=await client(handlers, "shop", 1),
        role=Role.CLIENT,
        credential=CredentialKind.API_KEY,
        rate_limit_per_minute=1,
        events_per_minute=1,
    )

    with pytest.raises(Forbidden):
        await handlers.apply_retention(ApplyRetention(actor=shop))


def _late(at: datetime) -> list[Any]:
    from tracking.application.commands.record_events import NewEvent  # noqa: PLC0415

    return [NewEvent(user_id="u1", action="view", occurred_at=at)]
