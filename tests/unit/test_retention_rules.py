"""Retention's rules on their own: the bounds of a client's retention_days and of the
settings, the cutoff, and the internal schedule's rhythm."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from tests.fakes import FixedClock
from tests.unit.support import stats_cache, uow_factory
from tracking.adapters.memory.read_models import InMemoryClientReadModel
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.commands.apply_retention import (
    ApplyRetention,
    ApplyRetentionHandler,
    RetentionPolicy,
)
from tracking.domain.clients import MAX_RETENTION_DAYS, ApiKey, Client, Role, retention_days_of
from tracking.domain.errors import InvalidInput, RuleViolation
from tracking.entrypoints.schedule import run_retention_schedule
from tracking.settings import SettingsError, load_settings

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def shop(days: int | None = None) -> Client:
    return Client.register(
        id=uuid4(),
        name="shop",
        role=Role.CLIENT,
        rate_limit_per_minute=1,
        events_per_minute=1,
        created_at=T0,
        api_key=ApiKey.generate(),
        retention_days=days,
    )


@pytest.mark.parametrize("days", [1, 30, MAX_RETENTION_DAYS, None])
def test_a_retention_is_none_or_1_to_36500_days(days: int | None) -> None:
    assert shop(days).retention_days == days
    assert retention_days_of(days) == days


@pytest.mark.parametrize("days", [0, -1, MAX_RETENTION_DAYS + 1, True])
def test_any_other_retention_is_refused_naming_the_field(days: int) -> None:
    with pytest.raises(RuleViolation) as refused:
        shop().retained_for(days)

    assert (refused.value.code, refused.value.field) == ("invalid_retention_days", "retention_days")
    assert "between 1 and 36500" in refused.value.message


def test_the_cutoff_is_now_less_the_days_and_none_keeps_for_ever() -> None:
    assert shop(7).retention_cutoff(T0) == T0 - timedelta(days=7)
    assert shop().retention_cutoff(T0) is None
    assert shop(7).retained_for(None).retention_days is None


def test_the_settings_default_to_no_metrics_retention_and_no_schedule() -> None:
    settings = load_settings({})

    assert settings.metrics_retention_days is None
    assert (settings.retention_batch_rows, settings.retention_interval_seconds) == (10_000, 0)
    read = load_settings(
        {
            "TRACKING_METRICS_RETENTION_DAYS": "90",
            "TRACKING_RETENTION_BATCH_ROWS": "500",
            "TRACKING_RETENTION_INTERVAL_SECONDS": "86400",
        }
    )
    assert (read.metrics_retention_days, read.retention_batch_rows) == (90, 500)
    assert read.retention_interval_seconds == 86_400


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("TRACKING_METRICS_RETENTION_DAYS", "0", ">= 1"),
        ("TRACKING_METRICS_RETENTION_DAYS", "36501", "<= 36500"),
        ("TRACKING_RETENTION_BATCH_ROWS", "0", ">= 1"),
        ("TRACKING_RETENTION_INTERVAL_SECONDS", "30", "0 (off) or at least 60"),
    ],
)
def test_a_bad_retention_setting_is_one_line_naming_it(
    variable: str, value: str, said: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({variable: value})

    assert str(refused.value).startswith(f"{variable}: ")
    assert said in str(refused.value)


async def test_a_now_without_an_offset_is_refused() -> None:
    store = InMemoryStore()
    handler = ApplyRetentionHandler(
        uow_factory(store),
        InMemoryClientReadModel(store),
        FixedClock(T0),
        stats_cache(),
        RetentionPolicy(),
    )
    from tracking.application.principal import Principal  # noqa: PLC0415

    with pytest.raises(InvalidInput):
        await handler(ApplyRetention(actor=Principal.operator(), now=datetime(2026, 3, 1)))  # noqa: DTZ001


class Stop(Exception):
    pass


async def test_the_schedule_applies_retention_at_start_then_every_interval() -> None:
    store = InMemoryStore()
    handler = ApplyRetentionHandler(
        uow_factory(store),
        InMemoryClientReadModel(store),
        FixedClock(T0),
        stats_cache(),
        RetentionPolicy(),
    )
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            raise Stop

    with pytest.raises(Stop):
        await run_retention_schedule(handler, 3600, sleep)

    assert slept == [3600, 3600, 3600]


async def test_a_failed_scheduled_run_is_tried_again_a_minute_later() -> None:
    calls = 0

    async def failing(_command: ApplyRetention) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("database down")

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        raise Stop

    with pytest.raises(Stop):
        await run_retention_schedule(failing, 86_400, sleep)  # type: ignore[arg-type]

    assert (calls, slept) == (1, [60.0])


def test_an_event_is_refused_when_the_next_retention_run_would_remove_it() -> None:
    from tracking.domain.retention import check_retained  # noqa: PLC0415

    check_retained(T0 - timedelta(days=7), 7, T0)  # on the cutoff: kept, as retention keeps it
    check_retained(T0 - timedelta(days=900), None, T0)  # kept for ever
    with pytest.raises(RuleViolation) as refused:
        check_retained(T0 - timedelta(days=7, microseconds=1), 7, T0)
    assert refused.value.code == "occurred_at_past_retention"


def test_a_month_goes_whole_only_when_each_of_its_clients_has_expired_all_of_it() -> None:
    from tracking.domain.retention import expired_whole  # noqa: PLC0415

    end = datetime(2025, 7, 1, tzinfo=UTC)
    shop, brief, forever, stranger = uuid4(), uuid4(), uuid4(), uuid4()
    cutoffs = {shop: end, brief: end + timedelta(days=3), forever: None}

    assert expired_whole(end, {shop, brief}, cutoffs)
    assert not expired_whole(end, {shop, forever}, cutoffs)
    assert not expired_whole(end, {shop, stranger}, cutoffs)  # unknown: its events are kept
    assert not expired_whole(end + timedelta(microseconds=1), {shop}, cutoffs)
    assert not expired_whole(end, set(), cutoffs)  # nothing to drop
