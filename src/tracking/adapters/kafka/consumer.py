"""The consume loop: fetch a batch, store it, dead-letter what cannot be stored, and only then
commit its offsets. Whatever fails in between is retried, not skipped: redelivery is harmless
because every event is stored once, by its id.

Two batches are in flight at once: while the database inserts one, this process decodes and
checks the next. Offsets are still committed batch by batch, in fetch order, each only after
its own batch and every earlier one are stored."""

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, RebalanceInProgressError

from tracking.adapters.kafka.batches import BatchOutcome, store_batch
from tracking.adapters.kafka.dead_letters import DeadLetter, DeadLetterPublisher, is_unexpected
from tracking.adapters.kafka.messages import Message
from tracking.adapters.kafka.stats import ConsumerStats
from tracking.application.commands.store_queued_events import StoreQueuedEventsHandler
from tracking.application.errors import InternalError
from tracking.application.log_context import logging_about

log = logging.getLogger(__name__)

T = TypeVar("T")
FIRST_RETRY_SECONDS = 0.1
# The partitions went to another member: its fetch starts at the last committed offset, and
# what this batch stored is found stored again, so giving up the commit loses nothing.
_MOVED = (CommitFailedError, IllegalStateError, RebalanceInProgressError)
IN_FLIGHT = 2


@dataclass
class _Batch:
    storing: "asyncio.Task[BatchOutcome]"
    offsets: dict[TopicPartition, int]
    fetched_at: float
    about: dict[str, object]
    """What the lines logged about it carry (`_about`)."""


def _about(fetched: dict[TopicPartition, list[Any]]) -> dict[str, object]:
    """A batch's topic and its offsets, first to last, by partition: `0:120-180,1:33-40`."""
    ranges = sorted((tp.partition, rs[0].offset, rs[-1].offset) for tp, rs in fetched.items())
    return {
        "topic": ",".join(sorted({tp.topic for tp in fetched})),
        "offsets": ",".join(f"{p}:{first}-{last}" for p, first, last in ranges),
    }


class StoppedError(Exception):
    """Asked to stop while a step was failing: the batch is left uncommitted, to be fetched
    again by whoever consumes its partitions next."""


def backoff(attempt: int, cap: float) -> float:
    """Capped exponential with full jitter over its upper half."""
    # The exponent stops growing long before the cap would: 2.0 ** 1024 overflows.
    ceiling: float = min(cap, FIRST_RETRY_SECONDS * 2.0 ** min(attempt - 1, 60))
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security


class _Membership(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, stats: ConsumerStats) -> None:
        self._stats = stats

    async def on_partitions_revoked(self, revoked: Any) -> None:
        log.info("partitions revoked: %s", sorted(map(str, revoked)))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self._stats.in_group = True
        self._stats.assigned.set(len(assigned))
        log.info("partitions assigned: %s", sorted(map(str, assigned)) or "none")


class KafkaEventConsumer:
    def __init__(
        self,
        new_consumer: Callable[[], AIOKafkaConsumer],
        topic: str,
        store: StoreQueuedEventsHandler,
        dead_letters: DeadLetterPublisher,
        stats: ConsumerStats,
        *,
        batch_max: int,
        batch_wait_ms: int,
        retry_max_seconds: float,
        unexpected_retries: int = 3,
    ) -> None:
        self._new_consumer = new_consumer
        self._topic = topic
        self._store_events = store
        self._dead_letters = dead_letters
        self._stats = stats
        self._batch_max = batch_max
        self._batch_wait_ms = batch_wait_ms
        self._retry_cap = retry_max_seconds
        self._unexpected_retries = unexpected_retries
        self._stopping = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None

    def stop(self) -> None:
        """Stop fetching; the batch in hand is finished and committed first."""
        self._stopping.set()

    async def run(self) -> None:
        try:
            consumer = await self._retrying("start", self._started)
        except StoppedError:
            return
        batches: deque[_Batch] = deque()
        try:
            while not self._stopping.is_set():
                fetched = await consumer.getmany(
                    timeout_ms=self._batch_wait_ms, max_records=self._batch_max
                )
                if fetched:
                    batches.append(self._start(fetched))
                while batches and (len(batches) >= IN_FLIGHT or not fetched):
                    await self._finish(consumer, batches.popleft())
            while batches:
                await self._finish(consumer, batches.popleft())
        except StoppedError:
            log.warning("stopped while retrying: the batches in hand were not committed")
        finally:
            for batch in batches:
                batch.storing.cancel()
            await asyncio.gather(*(b.storing for b in batches), return_exceptions=True)
            # Leaves the group, so its partitions move to the other members at once.
            await consumer.stop()

    async def _started(self) -> AIOKafkaConsumer:
        consumer = self._new_consumer()
        consumer.subscribe([self._topic], listener=_Membership(self._stats))
        try:
            await consumer.start()
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        return consumer

    def _start(self, fetched: dict[TopicPartition, list[Any]]) -> _Batch:
        messages = [
            Message(
                topic=r.topic,
                partition=r.partition,
                offset=r.offset,
                timestamp_ms=r.timestamp,
                key=r.key,
                value=r.value,
            )
            for records in fetched.values()
            for r in records
        ]
        self._stats.consumed.inc(len(messages))
        about = _about(fetched)
        with logging_about(**about):  # the task starts with a copy of these fields
            storing = asyncio.create_task(self._store(messages))
        return _Batch(
            storing=storing,
            offsets={tp: records[-1].offset + 1 for tp, records in fetched.items()},
            fetched_at=time.perf_counter(),
            about=about,
        )

    async def _store(self, messages: list[Message]) -> BatchOutcome:
        outcome = await self._stored(messages, self._unexpected_retries)
        if outcome.dead_letters:
            letters = outcome.dead_letters
            await self._retrying("dead_letters", lambda: self._dead_letters.publish(letters))
            for letter in letters:
                self._stats.dead_letters.labels(letter.reason).inc()
                log.warning(
                    "dead letter %s[%d]@%d: %s (%s)",
                    letter.message.topic,
                    letter.message.partition,
                    letter.message.offset,
                    letter.error.code,
                    letter.error.detail,
                    extra={"partition": letter.message.partition, "offset": letter.message.offset},
                )
        return outcome

    async def _stored(self, messages: list[Message], retries: int) -> BatchOutcome:
        """The batch stored, by the policy in `dead_letters`: an outage is retried until it
        ends; an unexpected failure `retries` times, then the batch is split in halves, each
        stored once (and split again if it fails), down to the message that fails, which is
        dead-lettered as `internal_error`. Its neighbours are stored: none is lost, none is
        skipped, and the partition goes on."""
        try:
            return await self._retrying(
                "store",
                lambda: store_batch(self._store_events, messages),
                unexpected_retries=retries,
            )
        except StoppedError:
            raise
        except Exception as error:
            if len(messages) == 1:
                (message,) = messages
                log.exception(
                    "message %s[%d]@%d fails unexpectedly: dead-lettered as internal_error",
                    message.topic,
                    message.partition,
                    message.offset,
                    extra={"partition": message.partition, "offset": message.offset},
                )
                return BatchOutcome(dead_letters=[DeadLetter(message, InternalError.of(error))])
            self._stats.splits.inc()
            half = len(messages) // 2
            return await self._stored(messages[:half], 0) + await self._stored(messages[half:], 0)

    async def _finish(self, consumer: AIOKafkaConsumer, batch: _Batch) -> None:
        """Waits for the batch to be stored, then commits its offsets."""
        with logging_about(**batch.about):
            await self._finished(consumer, batch)

    async def _finished(self, consumer: AIOKafkaConsumer, batch: _Batch) -> None:
        outcome = await batch.storing
        offsets = batch.offsets
        await self._retrying("commit", lambda: self._commit(consumer, offsets))
        self._stats.stored.inc(outcome.stored)
        self._stats.duplicates.inc(outcome.duplicates)
        self._stats.batch_seconds.observe(time.perf_counter() - batch.fetched_at)
        for tp, offset in offsets.items():
            highwater = consumer.highwater(tp)
            if highwater is not None:
                self._stats.lag.labels(tp.topic, str(tp.partition)).set(max(0, highwater - offset))

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        try:
            await consumer.commit(offsets)
        except _MOVED as error:
            log.warning("offsets not committed, the partitions moved (%r): stored already", error)

    async def _retrying(
        self,
        step: str,
        action: Callable[[], Awaitable[T]],
        *,
        unexpected_retries: int | None = None,
    ) -> T:
        """Retries until `action` succeeds or we stop; with `unexpected_retries`, an
        unexpected failure only that many times, and then it is raised."""
        attempt = unexpected = 0
        while True:
            try:
                result = await action()
            except Exception as error:
                if unexpected_retries is not None and is_unexpected(error):
                    unexpected += 1
                    if unexpected > unexpected_retries:
                        if attempt:
                            self._resume(step, attempt)
                        raise
                attempt += 1
                self._stats.retries.labels(step).inc()
                if attempt == 1:
                    self._pause(step)
                delay = backoff(attempt, self._retry_cap)
                # Said once, when the step starts failing; the attempts after it are counted
                # (tracking_consumer_retries) and shown by readiness, and the end is said too.
                log.log(
                    logging.WARNING if attempt == 1 else logging.DEBUG,
                    "%s failed (attempt %d), retrying in %.1f s: %r",
                    step,
                    attempt,
                    delay,
                    error,
                )
                await self._wait_or_stop(delay)
                continue
            if attempt:
                self._resume(step, attempt)
            return result

    async def _wait_or_stop(self, delay: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), delay)
        except TimeoutError:
            return
        raise StoppedError

    def _pause(self, step: str) -> None:
        self._stats.retrying = step
        if self._consumer is not None:
            self._consumer.pause(*self._consumer.assignment())

    def _resume(self, step: str, attempts: int) -> None:
        self._stats.retrying = None
        if self._consumer is not None:
            self._consumer.resume(*self._consumer.paused())
        log.info("%s succeeded after %d failed attempts", step, attempts)
