"""Analytics answers (the stats', the usage's), kept through the `Cache` port by tenant and
question, and kept exact.

Each kind of answer has its namespace (`stats`, `usage`). Tags: an answer carries one tag per
UTC day its periods span (`stats:{<client>}:d:2026-03-01`) or, spanning more than 31 days,
one per UTC month (`stats:{<client>}:m:2026-03`). A late row (an event, a logged request:
`domain/stats.py`) drops its UTC day's and month's tags: a batch's tags go in one round
trip, after one write per tenant and month touched (the marks below), whatever is cached.
Rows of the current hour touch no settled answer, so live writes cost a comparison per row
and no cache call. The tenant (a client id, or `all` for an answer about every client) is in
braces in every key and tag, so under Redis Cluster one tenant's entries share a slot.

One race remains for tags alone: a reader's snapshot taken before a late event committed, its
answer kept after that event's invalidation ran. So the writer first marks each UTC month it
touches with a new token (`stats:{<client>}:late:2026-03`, for `guard_seconds`), then
invalidates; a reader of a settled period reads the marks of its months before its query and
again after keeping its answer, and drops the answer if one changed. In either order no stale
answer stays, as long as a mark outlives the longest query; a reader that did not overlap a
late write keeps its answer."""

import hashlib
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import msgspec

from tracking.application.ports import Cache
from tracking.domain.stats import late_days

_DAYS_TAGGED = 31
_MICROSECOND = timedelta(microseconds=1)


class CachedAnswer(msgspec.Struct, frozen=True, kw_only=True):
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


Tenant = UUID | None
"""Whose answer: a client's, or every client's (None)."""


def _tenant(namespace: str, tenant: Tenant) -> str:
    return f"{namespace}:{{{'all' if tenant is None else tenant}}}"


def _tags(prefix: str, start: datetime, end: datetime) -> list[str]:
    """The tags of an answer about `[start, end)`: its UTC days, or months when many."""
    first = start.astimezone(UTC).date()
    last = max(first, (end.astimezone(UTC) - _MICROSECOND).date())
    if (last - first).days < _DAYS_TAGGED:
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        return [_day_tag(prefix, day) for day in days]
    return [_month_tag(prefix, month) for month in _months(start, end)]


def _day_tag(prefix: str, day: date) -> str:
    return f"{prefix}:d:{day.isoformat()}"


def _month_tag(prefix: str, day: date) -> str:
    return f"{prefix}:m:{day.year:04d}-{day.month:02d}"


def _mark(prefix: str, month: date) -> str:
    return f"{prefix}:late:{month.year:04d}-{month.month:02d}"


def _months(start: datetime, end: datetime) -> list[date]:
    """The first day of each UTC month of `[start, end)` (of `start`'s, when empty)."""
    first = start.astimezone(UTC).date().replace(day=1)
    last = max(first, (end.astimezone(UTC) - _MICROSECOND).date().replace(day=1))
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    return [_month_after(first, n) for n in range(count)]


def _month_after(first: date, months: int) -> date:
    index = first.month - 1 + months
    return date(first.year + index // 12, index % 12 + 1, 1)


class AnswerCache:
    """One kind of answer (`namespace`). `settled_ttl`: how long a settled answer is kept (a
    late row drops it sooner); `open_ttl`: an answer about a period still open (0: not
    kept)."""

    def __init__(
        self,
        cache: Cache,
        *,
        namespace: str,
        open_ttl: float,
        settled_ttl: float,
        guard_seconds: float,
    ) -> None:
        self._cache = cache
        self._namespace = namespace
        self._open_ttl = open_ttl
        self._settled_ttl = settled_ttl
        self._guard = guard_seconds

    async def answer(
        self,
        tenant: Tenant,
        question: tuple[object, ...],
        span: tuple[datetime, datetime],
        compute: Callable[[], Awaitable[bytes]],
        *,
        settled: bool,
        now: datetime,
    ) -> CachedAnswer:
        """The tenant's answer to `question` (the words that tell it from every other),
        kept, or the one `compute` gives, kept. `span`: the instants the answer is about;
        `settled` and `now` judged before computing."""
        prefix = _tenant(self._namespace, tenant)
        key = ":".join([prefix, *map(str, question)])
        found = await self._find(key, now)
        if found is not None:
            return found
        months = _months(*span)
        marks = await self._marks(prefix, months) if settled else []
        body = await compute()
        ttl = self._settled_ttl if settled else self._open_ttl
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        kept = _Kept(settled, now.timestamp() + ttl, etag, msgspec.Raw(body))
        if ttl > 0:
            await self._cache.set(key, _ENCODE(kept), ttl, tags=_tags(prefix, *span))
            if settled and await self._marks(prefix, months) != marks:
                await self._cache.delete(key)  # a late write overlapped: its row may be missing
        return _answer(kept, now)

    async def forget_late(self, written: Iterable[tuple[Tenant, datetime]], now: datetime) -> None:
        """After the commit that wrote rows (at `now`), each of a tenant at an instant:
        drops the answers their late ones change. Live rows give no cache call."""
        late = late_days(written, now)
        if late:
            await self._forget(late)

    async def forget_removed(self, tenant: Tenant, first: datetime, last: datetime) -> None:
        """After the commit that removed a tenant's rows in bulk (past their retention), the
        first of them at `first` and the last at `last`: drops every answer about any UTC day
        from `first`'s to `last`'s, as `forget_late` does a late row's (its months marked
        first, then its days' and months' tags dropped), and no other answer."""
        start, end = first.astimezone(UTC).date(), last.astimezone(UTC).date()
        await self._forget(
            (tenant, start + timedelta(days=n)) for n in range((end - start).days + 1)
        )

    async def _forget(self, days: Iterable[tuple[Tenant, date]]) -> None:
        """Each tenant's day: its months marked first (an answer being made across the
        change is not kept), then the day's and month's tags dropped."""
        tags: set[str] = set()
        months: set[tuple[str, date]] = set()
        for tenant, day in days:
            prefix = _tenant(self._namespace, tenant)
            tags.update((_day_tag(prefix, day), _month_tag(prefix, day)))
            months.add((prefix, day.replace(day=1)))
        for prefix, month in months:
            await self._cache.set(_mark(prefix, month), uuid4().bytes, self._guard)
        await self._cache.invalidate_tags(tags)

    async def forget_all(self) -> None:
        """Drops every answer of this kind (rows removed in bulk, past their retention)."""
        await self._cache.invalidate_prefix(self._namespace + ":")

    async def _find(self, key: str, now: datetime) -> CachedAnswer | None:
        raw = await self._cache.get(key)
        if raw is None:
            return None
        try:
            kept = _DECODE(raw)
        except msgspec.DecodeError:
            return None  # written by another version: computed afresh, and replaced
        return _answer(kept, now)

    async def _marks(self, prefix: str, months: list[date]) -> list[bytes | None]:
        return [await self._cache.get(_mark(prefix, month)) for month in months]


def _answer(kept: _Kept, now: datetime) -> CachedAnswer:
    left = 0 if kept.settled else max(0, int(kept.until - now.timestamp()))
    return CachedAnswer(body=bytes(kept.body), etag=kept.etag, settled=kept.settled, max_age=left)
