"""A short-lived, in-process cache of who a credential belongs to.

Authentication is the one database read on every request; caching its answer for about a
second takes most of that load away. Changes made through this process (a rotated key, a
deactivated client) drop their entries at commit, so here they take effect at once; other
processes see them within the cache's lifetime (`TRACKING_AUTH_CACHE_SECONDS`, 0 turns it off)."""

import time
from collections.abc import Iterable
from uuid import UUID

from tracking.application.principal import Principal

_MAX_ENTRIES = 100_000

CacheKey = tuple[str, object]
"""What a principal was found by: ("api_key_hash", digest) or ("id", client_id)."""


class PrincipalCache:
    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[CacheKey, tuple[float, Principal | None]] = {}
        self.generation = 0
        """Bumped by every `forget`: an answer read before it must not be cached after it."""

    def get(self, key: CacheKey) -> tuple[bool, Principal | None]:
        """(found, principal): a cached "no such active client" is an answer too."""
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, key: CacheKey, principal: Principal | None, generation: int) -> None:
        """Caches an answer read while `generation` was current; a change committed since
        (deactivation, rotation) may have made it wrong, so then it is not kept."""
        if self._ttl <= 0 or generation != self.generation:
            return
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self._ttl, principal)

    def forget(self, client_ids: Iterable[UUID]) -> None:
        """Drops every entry of these clients, whatever credential it was found by, and every
        cached absence: a key found to hold no active client names no client we could match,
        yet it may be one of these clients' (reactivated, say)."""
        gone = set(client_ids)
        if not gone:
            return
        self.generation += 1
        self._entries = {
            key: entry
            for key, entry in self._entries.items()
            if key[1] not in gone and entry[1] is not None and entry[1].client_id not in gone
        }

    def forget_all(self) -> None:
        """Drops everything: changes may have been missed (a lost subscription)."""
        self.generation += 1
        self._entries = {}
