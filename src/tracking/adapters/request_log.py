"""The request log's writer: a request is kept in a bounded buffer as it is answered (an
append, nothing awaited), and a task of each process writes the buffer in batches, at least
every second, and keeps the days' partitions: made ahead, dropped past retention.

What it guarantees: a request is written within about a second, unless the process dies
first (then the buffer's last second or so is lost). While the database cannot be written,
the buffer keeps the newest `max_rows` requests and drops the oldest, counting each drop
(`tracking_request_log_dropped_total`); stopping writes what is left, for a few seconds at
most. A batch written twice (a retry after a lost answer) is stored once: its ids are made
when it is taken from the buffer, and kept across retries.

Written rows keep the usage answers exact: a row of an hour already over (a batch held up
at the turn of the hour, or through an outage) drops the cached answers of its day, its
client's and every client's; days dropped past retention drop them all."""

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from prometheus_client import Counter, Gauge

from tracking.adapters.prometheus import REGISTRY
from tracking.application.answer_cache import AnswerCache, Tenant
from tracking.application.errors import Unavailable
from tracking.application.ports import Clock, IdGenerator, RequestLog, RequestLogStore
from tracking.application.usage import LoggedRequest
from tracking.domain.stats import late_before

log = logging.getLogger(__name__)

DROPPED = Counter(
    "tracking_request_log_dropped",
    "Requests the request log dropped: the oldest, while the buffer was full (the database "
    "could not be written), or left unwritten when the process stopped",
    registry=REGISTRY,
)
BUFFERED = Gauge(
    "tracking_request_log_buffered",
    "Requests waiting in this process's buffer to be written to the request log",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
WRITTEN = Counter(
    "tracking_request_log_written", "Requests written to the request log", registry=REGISTRY
)

BATCH_ROWS = 1000
_INDEX_BITS = 0xFFFF
"""A batch's rows are told apart by the last bits of their ids: batches stay below this."""
INTERVAL_SECONDS = 1.0
DAYS_AHEAD = 2
"""Partitions made ahead: today's and the next two days', so a write never waits for one."""
CLOSE_SECONDS = 5.0

_Entry = tuple[UUID, str, str, int, float, str, datetime]
"""What the request path keeps: client, method, route, status, seconds, request id, when it
was answered. Made into a row off the request path."""


def utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def _days(earliest: datetime, latest: datetime) -> set[date]:
    first, last = utc_day(earliest), utc_day(latest)
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


class BufferedRequestLog(RequestLog):
    def __init__(
        self,
        store: RequestLogStore,
        clock: Clock,
        ids: IdGenerator,
        answers: AnswerCache,
        *,
        max_rows: int,
        retention_days: int,
        batch_rows: int = BATCH_ROWS,
        interval: float = INTERVAL_SECONDS,
    ) -> None:
        self._store = store
        self._answers = answers
        self._clock = clock
        self._ids = ids
        self._max_rows = max_rows
        self._retention = timedelta(days=retention_days)
        self._batch_rows = min(batch_rows, _INDEX_BITS + 1)
        self._interval = interval
        self._buffer: deque[_Entry] = deque(maxlen=max_rows)
        self._taken: list[LoggedRequest] = []
        """Taken from the buffer, not written yet: written first, with the same ids."""
        self._wake = asyncio.Event()
        self._prepared: set[date] = set()
        self._upkept: date | None = None
        self._upkeep_said: date | None = None
        self._dropped = 0
        self._failing = False
        self._closing = False

    def record(
        self,
        client_id: UUID,
        method: str,
        route: str,
        status: int,
        seconds: float,
        *,
        request_id: str,
    ) -> None:
        buffer = self._buffer
        if len(buffer) == self._max_rows:
            DROPPED.inc()  # the append below pushes the oldest out
            self._dropped += 1
        buffer.append((client_id, method, route, status, seconds, request_id, self._clock.now()))
        if len(buffer) >= self._batch_rows:
            self._wake.set()

    @property
    def buffered(self) -> int:
        return len(self._buffer) + len(self._taken)

    async def run(self) -> None:
        """Writes at once (the partitions' upkeep first), then every `interval` seconds, or
        as soon as a batch is full; until `close`."""
        while not self._closing:
            await self.write()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()

    async def write(self) -> bool:
        """Writes everything buffered, a batch at a time, after the partitions' upkeep. True
        when it all went; a failure leaves the rest for the next time."""
        try:
            await self._upkeep()
            while self._taken or self._buffer:
                if not self._taken:
                    self._taken = self._take()
                earliest = min(row.requested_at for row in self._taken)
                latest = max(row.requested_at for row in self._taken)
                if not await self._prepared_for(_days(earliest, latest)):
                    return False
                await self._store.add_all(self._taken)
                rows, self._taken = self._taken, []
                WRITTEN.inc(len(rows))
                if earliest < late_before(self._clock.now()):
                    await self._forget_late(rows)  # else live: no answer kept can hold them
        except Unavailable:
            self._bound()  # said once by the database's outage; retried next time
            return False
        except Exception:
            # Not an outage: a row or a statement the database refuses. Retrying would stop
            # the log for good, so the batch is dropped, counted and said once.
            if not self._failing:
                log.exception("request log: writing %d requests failed", len(self._taken))
            self._failing = True
            self._drop(len(self._taken))
            self._taken = []
            return False
        else:
            self._recovered()
            return True
        finally:
            BUFFERED.set(self.buffered)

    async def _forget_late(self, rows: list[LoggedRequest]) -> None:
        """Each row counts in its client's answers and in every client's (None)."""
        written: list[tuple[Tenant, datetime]] = [(r.client_id, r.requested_at) for r in rows]
        written += [(None, row.requested_at) for row in rows]
        await self._answers.forget_late(written, self._clock.now())

    def _take(self) -> list[LoggedRequest]:
        """Up to a batch of rows. Their ids are the batch's (a time-ordered id, unique in
        this process and, by its random bits, across processes) with the row's index in its
        last 16 bits: unique, for one id made per batch rather than per row."""
        buffer = self._buffer
        batch_id = self._ids.new_id().int & ~_INDEX_BITS
        batch = []
        for index in range(min(len(buffer), self._batch_rows)):
            client_id, method, route, status, seconds, request_id, answered = buffer.popleft()
            batch.append(
                LoggedRequest(
                    client_id=client_id,
                    requested_at=answered - timedelta(seconds=seconds),
                    id=UUID(int=batch_id | index),
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=seconds * 1000,
                    request_id=request_id,
                )
            )
        return batch

    async def _upkeep(self) -> None:
        """Once a (UTC) day, at the first write of it: the coming days' partitions made, and
        the days past retention dropped."""
        today = utc_day(self._clock.now())
        if self._upkept == today:
            return
        oldest_kept = today - self._retention
        try:
            await self._prepare({today + timedelta(days=n) for n in range(DAYS_AHEAD + 1)})
            dropped = await self._store.drop_before(oldest_kept)
        except Unavailable:
            raise
        except Exception:
            # A lock not granted in time, say. The rows' own days are still made as they
            # are written; this is tried again at the next write, and said once a day.
            if self._upkeep_said != today:
                log.exception("request log: the partitions' upkeep failed")
                self._upkeep_said = today
            return
        self._prepared = {day for day in self._prepared if day >= oldest_kept}
        if dropped:
            await self._answers.forget_all()
            log.info(
                "request log: dropped %d days past retention (%s to %s)",
                len(dropped),
                dropped[0],
                dropped[-1],
            )
        self._upkept = today

    async def _prepared_for(self, days: set[date]) -> bool:
        """The batch's days made. A lock not granted in time (another process's DDL, a long
        query) keeps the batch for the next write, within the buffer's bound: the rows are
        fine, their partition is late."""
        try:
            await self._prepare(days)
        except Unavailable:
            raise
        except Exception:
            if not self._failing:
                log.exception("request log: making the partitions of %s failed", sorted(days))
            self._failing = True
            self._bound()
            return False
        return True

    async def _prepare(self, days: set[date]) -> None:
        missing = days - self._prepared
        if missing:
            await self._store.prepare(missing)
            self._prepared |= missing

    def _bound(self) -> None:
        """The taken batch counts against the buffer's bound too: its oldest go first."""
        excess = len(self._taken) + len(self._buffer) - self._max_rows
        if excess > 0:
            self._drop(excess)
            self._taken = self._taken[excess:]
        if self._dropped and not self._failing:
            log.warning(
                "request log: its buffer is full (%d requests); the oldest are dropped until "
                "it can write again",
                self._max_rows,
            )
            self._failing = True

    def _drop(self, count: int) -> None:
        DROPPED.inc(count)
        self._dropped += count

    def _recovered(self) -> None:
        if self._dropped:
            log.info("request log: writing again; %d requests were dropped", self._dropped)
        elif self._failing:
            log.info("request log: writing again")
        self._dropped, self._failing = 0, False

    async def close(self, writer: asyncio.Task[None]) -> None:
        """Stops the writer once its write in progress is done (cancelling a statement
        midway can lose its connection), then writes what is left: `CLOSE_SECONDS` at most
        for both."""
        self._closing = True
        self._wake.set()
        deadline = asyncio.get_running_loop().time() + CLOSE_SECONDS
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(writer, CLOSE_SECONDS)
        written = False
        with contextlib.suppress(TimeoutError):
            left = max(0.0, deadline - asyncio.get_running_loop().time())
            written = await asyncio.wait_for(self.write(), left)
        left = self.buffered
        if not written and left:
            DROPPED.inc(left)
            log.warning("request log: %d requests were not written before stopping", left)
        BUFFERED.set(0)


async def running_request_log(
    store: RequestLogStore,
    clock: Clock,
    ids: IdGenerator,
    answers: AnswerCache,
    *,
    enabled: bool,
    max_rows: int,
    retention_days: int,
    interval: float = INTERVAL_SECONDS,
) -> AsyncGenerator[RequestLog | None]:
    """The request log with its writer running (None when it is off); closing it writes
    what is left."""
    if not enabled:
        yield None
        return
    request_log = BufferedRequestLog(
        store,
        clock,
        ids,
        answers,
        max_rows=max_rows,
        retention_days=retention_days,
        interval=interval,
    )
    writer = asyncio.create_task(request_log.run(), name="request-log-writer")
    try:
        yield request_log
    finally:
        await request_log.close(writer)
