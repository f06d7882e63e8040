"""API keys: made with the user, shown once, stored only as a hash; a request's caller is the key's user.

Key lookups are served from a small per-process cache (ApiKeyCache) for `limits.api_key_cache_s` seconds.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass

from memos_graph import metrics
from memos_graph.config import MAX_KEY_CHARS
from memos_graph.domain import User
from memos_graph.errors import Unauthenticated
from memos_graph.graph.store import GraphStore
from memos_graph.graph.users import UserRepository
from memos_graph.services.audit import audit

KEY_PREFIX = "mgk_"
# Keys the cache remembers (least recently used first out): enough for every active key of a deployment.
KEY_CACHE_ENTRIES = 10_000
# Keys known to be wrong, remembered apart so that a flood of wrong keys cannot push the good ones out.
KEY_CACHE_MISSING_ENTRIES = 1_000
_REFUSED = "a valid API key is required (Authorization: Bearer <key>)"


def bearer_token(value: object) -> str | None:
    """The API key of an `Authorization` value `Bearer <key>` (the scheme in any case), else None: one
    reading for the GraphQL endpoint, its WebSocket and the MCP server."""
    if not isinstance(value, str):
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def new_api_key() -> str:
    """A fresh random key (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The stored form of a key. Keys are random, so a plain SHA-256 is enough (no dictionary to attack)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeyCache:
    """What Neo4j answered for a key digest (its user record, or "no such key"), for `ttl_s` seconds.

    Keyed by the key's SHA-256 digest, never the key. An entry's age counts from before the lookup that
    filled it was sent, so a key revoked (rotated, reset, deactivated, deleted) by any process at time T is
    refused everywhere for every request authenticated after T + ttl_s. The process that revoked it calls
    forget_user (or clear) right after its write, and is refused at once: a lookup that was already under
    way when the entry was forgotten does not store its (possibly older) answer. The user record (is_active,
    role) is the cached one, so a role change or reactivation elsewhere shows after at most ttl_s too.
    Thread-safe; the lock is never held while Neo4j is asked. ttl_s == 0 turns the cache off.
    """

    def __init__(
        self, ttl_s: float, max_entries: int = KEY_CACHE_ENTRIES, max_missing: int = KEY_CACHE_MISSING_ENTRIES
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.max_missing = max_missing
        self._lock = threading.Lock()
        self._found: OrderedDict[str, tuple[float, User]] = OrderedDict()
        self._missing: OrderedDict[str, float] = OrderedDict()
        self._generation = 0

    def lookup(self, digest: str) -> tuple[bool, User | None]:
        """(True, user) or (True, None) for a key known to be wrong, while fresh; (False, None) when unknown."""
        now = time.monotonic()
        with self._lock:
            entry = self._found.get(digest)
            if entry is not None:
                if now - entry[0] < self.ttl_s:
                    self._found.move_to_end(digest)
                    return True, entry[1]
                del self._found[digest]
            stamp = self._missing.get(digest)
            if stamp is not None:
                if now - stamp < self.ttl_s:
                    return True, None
                del self._missing[digest]
        return False, None

    def generation(self) -> int:
        """Taken before a lookup in Neo4j, handed to store: an answer older than a forget is not stored."""
        with self._lock:
            return self._generation

    def store(self, digest: str, user: User | None, stamp: float, generation: int) -> None:
        """Remember Neo4j's answer for a digest (stamp: time.monotonic() before the lookup was sent)."""
        if self.ttl_s <= 0:
            return
        with self._lock:
            if generation != self._generation:
                return
            if user is not None:
                self._found[digest] = (stamp, user)
                self._found.move_to_end(digest)
                while len(self._found) > self.max_entries:
                    self._found.popitem(last=False)
            else:
                self._missing[digest] = stamp
                self._missing.move_to_end(digest)
                while len(self._missing) > self.max_missing:
                    self._missing.popitem(last=False)

    def forget_user(self, user_id: str) -> None:
        """Drop the user's entries, and every "no such key" (the user may have a new key now)."""
        with self._lock:
            self._generation += 1
            for digest in [d for d, (_, user) in self._found.items() if user.user_id == user_id]:
                del self._found[digest]
            self._missing.clear()

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._generation += 1
            self._found.clear()
            self._missing.clear()

    def digests(self) -> list[str]:
        """The digests held (users' and wrong keys'), for tests and diagnostics."""
        with self._lock:
            return [*self._found, *self._missing]

    def __len__(self) -> int:
        with self._lock:
            return len(self._found) + len(self._missing)


# One cache per Neo4j driver (GraphStore) a process holds, and per TTL (tests run several): every Services
# over it shares it, so the UserService that revokes a key and the IdentityService that checks keys see the
# same entries, and forget_user reaches every cache of the store.
_caches: weakref.WeakKeyDictionary[GraphStore, dict[float, ApiKeyCache]] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def key_cache(store: GraphStore, ttl_s: float) -> ApiKeyCache:
    """The key cache of the store for entries of ttl_s (limits.api_key_cache_s), made on first use."""
    with _caches_lock:
        by_ttl = _caches.setdefault(store, {})
        cache = by_ttl.get(ttl_s)
        if cache is None:
            cache = by_ttl[ttl_s] = ApiKeyCache(ttl_s)
        return cache


def forget_user(store: GraphStore, user_id: str) -> None:
    """Call right after a write that revokes or changes a user's key or status: refused at once here."""
    with _caches_lock:
        caches = list(_caches.get(store, {}).values())
    for cache in caches:
        cache.forget_user(user_id)


def _digest(key: str | None) -> str:
    """The stored form of a presented key; Unauthenticated for no key or one no key can be."""
    if not key or len(key) > MAX_KEY_CHARS:
        raise Unauthenticated(_REFUSED)
    return hash_api_key(key)


def _active(user: User | None) -> User:
    """The user a key belongs to, if it is active; Unauthenticated otherwise (one answer for every case)."""
    if user is None or not user.is_active:
        raise Unauthenticated(_REFUSED)
    return user


@dataclass(frozen=True)
class ApiKeys:
    """Users' API keys over one store: stored as hashes on the User node, audited, and forgotten by every key
    cache of that store the moment they change."""

    users: UserRepository
    store: GraphStore

    def store_key(self, user_id: str, key: str | None, actor_id: str, action: str) -> None:
        """Store the hash of a key for a user (None: leave it without a key), replacing any earlier key, and
        audit it: by whom, how, when, on the User node and on the memos_graph.audit log. Refused at once here."""
        at = self.users.replace_api_key_hash(user_id, None if key is None else hash_api_key(key), actor_id, action)
        self.forget_user(user_id)
        audit(f"api_key_{action}", actor_id, user_id, at or None)

    def issue_key(self, user_id: str, actor_id: str, action: str) -> str:
        """A new key for the user, stored as its only key; returned once, never stored itself."""
        key = new_api_key()
        self.store_key(user_id, key, actor_id, action)
        return key

    def forget_user(self, user_id: str) -> None:
        """After a change of the user's key or status: every key cache of the store forgets the user."""
        forget_user(self.store, user_id)


class IdentityService:
    """Turns an API key into the active user it belongs to."""

    def __init__(self, keys: ApiKeys, cache_s: float) -> None:
        self._keys = keys
        self._cache = key_cache(keys.store, cache_s)

    def authenticate_cached(self, key: str | None) -> User | None:
        """The key's active user from the cache alone (no Neo4j, no blocking: callable on an event loop), or
        None when the cache does not know the key (call authenticate); Unauthenticated for a key known bad."""
        return self._from_cache(_digest(key))

    def authenticate(self, key: str | None) -> User:
        """The active user for a key, or Unauthenticated (the same error for a missing, wrong or revoked key)."""
        digest = _digest(key)
        cached = self._from_cache(digest)
        if cached is not None:
            return cached
        metrics.count_key_lookup(hit=False)
        generation, stamp = self._cache.generation(), time.monotonic()
        user = self._keys.users.get_by_api_key_hash(digest)
        self._cache.store(digest, user, stamp, generation)
        return _active(user)

    def _from_cache(self, digest: str) -> User | None:
        known, user = self._cache.lookup(digest)
        if not known:
            return None
        metrics.count_key_lookup(hit=True)
        return _active(user)

    def set_key(self, user_id: str, key: str) -> None:
        """Store the hash of a given key for a user, replacing any earlier key (tests, tools)."""
        self._keys.store_key(user_id, key, user_id, "set")

    def rotate(self, user: User) -> str:
        """Issue a new key for the user; the old one stops working at once (here; elsewhere within the cache's
        limits.api_key_cache_s)."""
        return self._keys.issue_key(user.user_id, user.user_id, "rotate")
