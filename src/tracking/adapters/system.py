"""The system clock and time-ordered ids."""

import os
import threading
import time
import weakref
from datetime import UTC, datetime
from uuid import UUID

from tracking.application.ports import Clock, IdGenerator

_COUNTER_BITS = 12
_COUNTER_MAX = (1 << _COUNTER_BITS) - 1
_VERSION_7 = 0x7
_VARIANT_RFC = 0b10
_RANDOM_BYTES = 4096


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


class UuidV7Generator(IdGenerator):
    """RFC 9562 UUIDv7: 48-bit Unix milliseconds, then a 12-bit counter (method 1), then 62
    random bits. The counter starts at a random value in its lower half each millisecond and
    steps by one, so ids from one process are strictly increasing even within a millisecond;
    when it runs out, the timestamp moves on a millisecond."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0
        self._refill()
        _GENERATORS.add(self)  # a child process never repeats its parent's random bytes

    def _refill(self) -> None:
        """Random bytes from the OS a page at a time: one call per 500 ids, not one each."""
        self._random = os.urandom(_RANDOM_BYTES)
        self._used = 0

    def _take(self, size: int) -> int:
        if self._used + size > _RANDOM_BYTES:
            self._refill()
        start, self._used = self._used, self._used + size
        return int.from_bytes(self._random[start : self._used])

    def new_id(self) -> UUID:
        with self._lock:
            now_ms = time.time_ns() // 1_000_000
            if now_ms > self._last_ms:
                self._last_ms = now_ms
                self._counter = self._take(2) & (_COUNTER_MAX >> 1)
            elif self._counter < _COUNTER_MAX:
                self._counter += 1
            else:
                self._last_ms += 1
                self._counter = 0
            ms, counter = self._last_ms, self._counter
            random_bits = self._take(8) & ((1 << 62) - 1)
        value = (
            (ms << 80) | (_VERSION_7 << 76) | (counter << 64) | (_VARIANT_RFC << 62) | random_bits
        )
        return UUID(int=value)


_GENERATORS: "weakref.WeakSet[UuidV7Generator]" = weakref.WeakSet()


def _refill_all() -> None:
    for generator in _GENERATORS:
        generator._refill()  # noqa: SLF001 - the generators' own fork hook


os.register_at_fork(after_in_child=_refill_all)
