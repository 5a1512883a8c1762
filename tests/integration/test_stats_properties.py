"""Stats over random events, on every storage, equal a straightforward computation here: a
day is the events whose local date is that day; an hour, those whose local clock shows that
hour with that offset; a path, a string `path`, else a string `page`. Events and questions
fall around daylight saving changes of zones with whole-, half- and quarter-hour offsets."""

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracking.application.commands.record_events import NewEvent, RecordEvents
from tracking.application.handlers import Handlers
from tracking.application.principal import Principal
from tracking.application.queries.daily_stats import DailyStats
from tracking.application.queries.stats_series import StatsSeries
from tracking.domain.periods import Interval

# (zone, an instant near one of its clock changes)
CHANGES = [
    ("America/New_York", datetime(2025, 11, 2, 6, tzinfo=UTC)),
    ("America/New_York", datetime(2025, 3, 9, 7, tzinfo=UTC)),
    ("Europe/Paris", datetime(2025, 10, 26, 1, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2025, 4, 5, 15, tzinfo=UTC)),
    ("America/Santiago", datetime(2025, 9, 7, 4, tzinfo=UTC)),
    ("Asia/Kathmandu", datetime(2025, 6, 1, tzinfo=UTC)),
    ("Pacific/Chatham", datetime(2025, 4, 5, 14, tzinfo=UTC)),
    ("UTC", datetime(2025, 6, 1, tzinfo=UTC)),
]
USERS = ["u1", "u2", "u3", "42", "ü"]
ACTIONS = ["view", "click", "View", "checkout.completed"]
METADATA = [
    None,
    {"path": "/a"},
    {"path": "/b"},
    {"page": "/a"},
    {"path": 3, "page": "/c"},
    {"path": None, "page": "/b"},
    {"page": ["/x"]},
    {"path": {"nested": "/y"}},
    {"path": ""},
    {"path": "é"},
    {"path": "Z"},
]
HOURS = 36

events = st.lists(
    st.tuples(
        st.sampled_from(USERS),
        st.sampled_from(ACTIONS),
        st.sampled_from(METADATA),
        st.integers(-HOURS * 3600, HOURS * 3600),  # seconds from the change
    ),
    max_size=40,
)


def path_of(metadata: dict[str, Any] | None) -> str | None:
    for key in ("path", "page"):
        if metadata and isinstance(metadata.get(key), str):
            return str(metadata[key])
    return None


def top(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]


def hour_key(at: datetime, zone: ZoneInfo) -> tuple[datetime, timedelta | None]:
    local = at.astimezone(zone)
    return local.replace(minute=0, second=0, microsecond=0, tzinfo=None), local.utcoffset()


def first_instants(since: datetime, till: datetime, key: Any) -> list[tuple[Any, datetime]]:
    """Each key's first instant, stepping by a quarter of an hour (every zone's clock
    changes on one), for the keys first seen in `[since, till)`."""
    seen: dict[Any, datetime] = {}
    at = since - timedelta(days=2)
    while at < till:
        seen.setdefault(key(at), at)
        at += timedelta(minutes=15)
    return sorted(((k, t) for k, t in seen.items() if t >= since), key=lambda kt: kt[1])


async def import_all(handlers: Handlers, made: list[tuple[str, str, Any, datetime]]) -> Any:
    client_id = uuid4()
    items = [NewEvent(user_id=u, action=a, metadata=m, occurred_at=t) for u, a, m, t in made]
    recorded = await handlers.import_events(RecordEvents(client_id=client_id, events=items))
    assert recorded.count("stored") == len(items)
    return client_id


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(change=st.sampled_from(CHANGES), drawn=events)
async def test_a_day_is_the_events_of_its_local_date(
    handlers: Handlers, change: tuple[str, datetime], drawn: list[tuple[str, str, Any, int]]
) -> None:
    name, center = change
    zone = ZoneInfo(name)
    made = [(u, a, m, center + timedelta(seconds=s)) for u, a, m, s in drawn]
    client_id = await import_all(handlers, made)
    days = {t.astimezone(zone).date() for *_, t in made} | {center.astimezone(zone).date()}

    for day in sorted(days):
        mine = [(u, a, m) for u, a, m, t in made if t.astimezone(zone).date() == day]
        query = DailyStats(
            actor=Principal.operator(), client_id=client_id, date=day.isoformat(), tz=name
        )
        answer = json.loads((await handlers.daily_stats(query)).body)

        assert answer["total_events"] == len(mine)
        assert answer["unique_users"] == len({u for u, _, _ in mine})
        assert [(t["action"], t["events"]) for t in answer["top_actions"]] == top(
            Counter(a for _, a, _ in mine)
        )
        paths = Counter(p for _, _, m in mine if (p := path_of(m)) is not None)
        assert [(t["path"], t["events"]) for t in answer["top_paths"]] == top(paths)
        assert date.fromisoformat(answer["date"]) == day


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    change=st.sampled_from(CHANGES),
    drawn=events,
    interval=st.sampled_from(Interval),
    action=st.sampled_from([None, "view"]),
)
async def test_a_series_is_the_events_of_each_local_hour_or_date(
    handlers: Handlers,
    change: tuple[str, datetime],
    drawn: list[tuple[str, str, Any, int]],
    interval: Interval,
    action: str | None,
) -> None:
    name, center = change
    zone = ZoneInfo(name)
    made = [(u, a, m, center + timedelta(seconds=s)) for u, a, m, s in drawn]
    client_id = await import_all(handlers, made)
    span = timedelta(hours=HOURS) if interval is Interval.HOUR else timedelta(days=3)
    since, till = center - span, center + span
    if interval is Interval.HOUR:
        key: Any = lambda at: hour_key(at, zone)  # noqa: E731
    else:
        key = lambda at: at.astimezone(zone).date()  # noqa: E731
    counted = [(u, key(t)) for u, a, _, t in made if action in (None, a)]

    query = StatsSeries(
        actor=Principal.operator(),
        client_id=client_id,
        since=since.isoformat(),
        till=till.isoformat(),
        interval=interval,
        tz=name,
        action=action,
    )
    answer = json.loads((await handlers.stats_series(query)).body)

    expected = [
        (first, sum(k == wanted for _, k in counted), len({u for u, k in counted if k == wanted}))
        for wanted, first in first_instants(since, till, key)
    ]
    got = [
        (datetime.fromisoformat(p["start"]), p["events"], p["unique_users"])
        for p in answer["points"]
    ]
    assert got == expected
    assert [datetime.fromisoformat(p["start"]).utcoffset() for p in answer["points"]] == [
        first.astimezone(zone).utcoffset() for first, _, _ in expected
    ]
