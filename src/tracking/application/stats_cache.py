"""The stats' answers, kept through the `Cache` port by tenant and question, and kept exact.

Tags: an answer carries one tag per UTC day its periods span (`stats:{<client>}:d:2026-03-01`)
or, spanning more than 31 days, one per UTC month (`stats:{<client>}:m:2026-03`). A late
event (`domain/stats.py`) drops its UTC day's and month's tags: a batch's tags go in one round
trip, after one write per client and month touched (the marks below), whatever is cached.
Events of the current hour touch no settled answer, so live ingest costs a comparison per
event and no cache call. The client id is in braces in every key and tag, so under Redis
Cluster one client's entries share a slot.

One race remains for tags alone: a reader's snapshot taken before a late event committed, its
answer kept after that event's invalidation ran. So the writer first marks each UTC month it
touches with a new token (`stats:{<client>}:late:2026-03`, for `guard_seconds`), then
invalidates; a reader of a settled period reads the marks of its months before its query and
again after keeping its answer, and drops the answer if one changed. In either order no stale
answer stays, as long as a mark outlives the longest query; a reader that did not overlap a
late write keeps its answer."""

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import msgspec

from tracking.application.ports import Cache
from tracking.domain.events import Event
from tracking.domain.stats import late_before, late_days

_DAYS_TAGGED = 31
_MICROSECOND = timedelta(microseconds=1)


class StatsAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """An answer as it is sent: its JSON, a version of it (`etag`), and whether it is settled
    (it changes only by a late event, which drops it) or may still grow, for `max_age`
    seconds at most."""

    body: bytes
    etag: str
    settled: bool
    max_age: int


class _Kept(msgspec.Struct, frozen=True, array_like=True):
    settled: bool
    until: float
    etag: str
    body: msgspec.Raw


_ENCODE = msgspec.json.Encoder().encode
_DECODE = msgspec.json.Decoder(_Kept).decode


def answer_key(client_id: UUID, *question: object) -> str:
    return ":".join([f"stats:{{{client_id}}}", *map(str, question)])


def _tags(client_id: UUID, start: datetime, end: datetime) -> list[str]:
    """The tags of an answer about `[start, end)`: its UTC days, or months when many."""
    first = start.astimezone(UTC).date()
    last = max(first, (end.astimezone(UTC) - _MICROSECOND).date())
    if (last - first).days < _DAYS_TAGGED:
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        return [_day_tag(client_id, day) for day in days]
    return [_month_tag(client_id, month) for month in _months(start, end)]


def _day_tag(client_id: UUID, day: date) -> str:
    return f"stats:{{{client_id}}}:d:{day.isoformat()}"


def _month_tag(client_id: UUID, day: date) -> str:
    return f"stats:{{{client_id}}}:m:{day.year:04d}-{day.month:02d}"


def _mark(client_id: UUID, month: date) -> str:
    return f"stats:{{{client_id}}}:late:{month.year:04d}-{month.month:02d}"


def _months(start: datetime, end: datetime) -> list[date]:
    """The first day of each UTC month of `[start, end)` (of `start`'s, when empty)."""
    first = start.astimezone(UTC).date().replace(day=1)
    last = max(first, (end.astimezone(UTC) - _MICROSECOND).date().replace(day=1))
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    return [_month_after(first, n) for n in range(count)]


def _month_after(first: date, months: int) -> date:
    index = first.month - 1 + months
    return date(first.year + index // 12, index % 12 + 1, 1)


class StatsCache:
    """`settled_ttl`: how long a settled answer is kept (a late event drops it sooner);
    `open_ttl`: an answer about a period still open (0: not kept)."""

    def __init__(
        self, cache: Cache, *, open_ttl: float, settled_ttl: float, guard_seconds: float
    ) -> None:
        self._cache = cache
        self._open_ttl = open_ttl
        self._settled_ttl = settled_ttl
        self._guard = guard_seconds

    async def answer(
        self,
        key: str,
        client_id: UUID,
        span: tuple[datetime, datetime],
        compute: Callable[[], Awaitable[bytes]],
        *,
        settled: bool,
        now: datetime,
    ) -> StatsAnswer:
        """The answer kept under `key`, or the one `compute` gives, kept. `span`: the
        instants the answer is about; `settled` and `now` judged before computing."""
        found = await self._find(key, now)
        if found is not None:
            return found
        months = _months(*span)
        marks = await self._marks(client_id, months) if settled else []
        body = await compute()
        ttl = self._settled_ttl if settled else self._open_ttl
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        kept = _Kept(settled, now.timestamp() + ttl, etag, msgspec.Raw(body))
        if ttl > 0:
            await self._cache.set(key, _ENCODE(kept), ttl, tags=_tags(client_id, *span))
            if settled and await self._marks(client_id, months) != marks:
                await self._cache.delete(key)  # a late write overlapped: its event may be missing
        return _answer(kept, now)

    async def forget_late(self, events: Sequence[Event], now: datetime) -> None:
        """After the commit that stored `events` (at `now`): drops the answers their late
        ones change."""
        horizon = late_before(now)
        if all(e.occurred_at >= horizon for e in events):
            return  # live ingest: nothing settled can hold these events
        late = late_days(((e.client_id, e.occurred_at) for e in events), now)
        tags: set[str] = set()
        months: set[tuple[UUID, date]] = set()
        for client_id, day in late:
            tags.update((_day_tag(client_id, day), _month_tag(client_id, day)))
            months.add((client_id, day.replace(day=1)))
        for client_id, month in months:
            await self._cache.set(_mark(client_id, month), uuid4().bytes, self._guard)
        await self._cache.invalidate_tags(tags)

    async def _find(self, key: str, now: datetime) -> StatsAnswer | None:
        raw = await self._cache.get(key)
        if raw is None:
            return None
        try:
            kept = _DECODE(raw)
        except msgspec.DecodeError:
            return None  # written by another version: computed afresh, and replaced
        return _answer(kept, now)

    async def _marks(self, client_id: UUID, months: list[date]) -> list[bytes | None]:
        return [await self._cache.get(_mark(client_id, month)) for month in months]


def _answer(kept: _Kept, now: datetime) -> StatsAnswer:
    left = 0 if kept.settled else max(0, int(kept.until - now.timestamp()))
    return StatsAnswer(body=bytes(kept.body), etag=kept.etag, settled=kept.settled, max_age=left)
