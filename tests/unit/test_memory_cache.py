"""What the in-memory cache promises beyond the port's contract (tests/integration): it stays
within its bound, least recently used out first, and its tag index no bigger than its
entries."""

import pytest

from tracking.adapters.memory.cache import InMemoryCache


class ManualClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def present(cache: InMemoryCache, *keys: str) -> set[str]:
    return {key for key in keys if await cache.get(key) is not None}


async def test_when_full_the_least_recently_used_entry_goes() -> None:
    cache = InMemoryCache(max_entries=2)
    await cache.set("a", b"1", 60)
    await cache.set("b", b"2", 60)
    await cache.get("a")
    await cache.set("c", b"3", 60)
    assert await present(cache, "a", "b", "c") == {"a", "c"}


async def test_an_overwrite_counts_as_use() -> None:
    cache = InMemoryCache(max_entries=2)
    await cache.set("a", b"1", 60)
    await cache.set("b", b"2", 60)
    await cache.set("a", b"1 again", 60)
    await cache.set("c", b"3", 60)
    assert await present(cache, "a", "b", "c") == {"a", "c"}


async def test_the_tag_index_shrinks_as_entries_leave() -> None:
    clock = ManualClock()
    cache = InMemoryCache(max_entries=3, clock=clock)
    await cache.set("a", b"1", 60, tags=["x", "shared"])
    await cache.set("b", b"2", 60, tags=["y", "shared"])
    await cache.set("c", b"3", 10, tags=["z"])
    await cache.set("d", b"4", 60, tags=["w"])
    assert set(cache._tags) == {"y", "z", "w", "shared"}, "a was evicted"

    await cache.delete("b")
    assert set(cache._tags) == {"z", "w"}

    clock.now += 10
    assert await cache.get("c") is None
    assert set(cache._tags) == {"w"}

    await cache.invalidate_prefix("d")
    assert cache._tags == {}


async def test_an_entry_overwritten_without_a_tag_is_no_longer_dropped_by_it() -> None:
    cache = InMemoryCache(max_entries=10)
    await cache.set("k", b"tagged", 60, tags=["t"])
    await cache.set("k", b"untagged", 60)
    await cache.invalidate_tag("t")
    assert await cache.get("k") == b"untagged"
    assert cache._tags == {}


def test_a_cache_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        InMemoryCache(max_entries=0)
