"""A cache in this process: bounded, least recently used goes first, each entry with its own
lifetime. For a lone process, and for tests."""

import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass

from tracking.adapters.cache_lookups import counted
from tracking.application.ports import Cache


@dataclass(frozen=True, slots=True)
class _Entry:
    value: bytes
    expires_at: float
    tags: frozenset[str]


class InMemoryCache(Cache):
    """Holds at most `max_entries`. An expired entry is not dropped when it expires, only when
    next read or evicted: until then it counts toward the bound like any other."""

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        """Least recently used first."""
        self._tags: dict[str, set[str]] = {}
        """tag -> the keys of the entries set with it. Every key here has its entry: each
        entry leaving takes itself out, and a tag with no keys left goes, so this stays as
        small as the entries themselves."""

    async def get(self, key: str) -> bytes | None:
        return counted(self._get(key))

    def _get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self._clock():
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return entry.value

    async def set(
        self, key: str, value: bytes, ttl_seconds: float, tags: Collection[str] = ()
    ) -> None:
        # The new entry replaces the old one with its tags: a tag it is no longer set with
        # must not drop it.
        self._remove(key)
        if ttl_seconds <= 0:
            return
        entry = _Entry(value, self._clock() + ttl_seconds, frozenset(tags))
        self._entries[key] = entry
        for tag in entry.tags:
            self._tags.setdefault(tag, set()).add(key)
        while len(self._entries) > self._max_entries:
            self._remove(next(iter(self._entries)))

    async def delete(self, key: str) -> None:
        self._remove(key)

    async def invalidate_prefix(self, prefix: str) -> None:
        for key in [key for key in self._entries if key.startswith(prefix)]:
            self._remove(key)

    async def invalidate_tag(self, tag: str) -> None:
        for key in list(self._tags.get(tag, ())):
            self._remove(key)

    async def invalidate_tags(self, tags: Collection[str]) -> None:
        for tag in tags:
            await self.invalidate_tag(tag)

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry.tags:
            keys = self._tags[tag]
            keys.discard(key)
            if not keys:
                del self._tags[tag]
