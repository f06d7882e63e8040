"""API keys: made with the user, shown once, stored only as a hash; a request's caller is the key's user."""

from __future__ import annotations

import hashlib
import secrets

from memos_graph.domain import User
from memos_graph.errors import Unauthenticated
from memos_graph.services.runtime import Runtime

KEY_PREFIX = "mgk_"


def new_api_key() -> str:
    """A fresh random key (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The stored form of a key. Keys are random, so a plain SHA-256 is enough (no dictionary to attack)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class IdentityService:
    """Turns an API key into the active user it belongs to."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def authenticate(self, key: str | None) -> User:
        """The key's active user, or Unauthenticated (the same error for a missing, wrong or revoked key)."""
        if not key or len(key) > 200:
            raise Unauthenticated("a valid API key is required (Authorization: Bearer <key>)")
        digest = hash_api_key(key)
        user = self._rt.users.get_by_api_key_hash(digest)
        if user is None or not user.is_active:
            raise Unauthenticated("a valid API key is required (Authorization: Bearer <key>)")
        return user

    def set_key(self, user_id: str, key: str) -> None:
        """Store the hash of a key for a user, replacing any earlier key."""
        self._rt.users.set_api_key_hash(user_id, hash_api_key(key))

    def rotate(self, user: User) -> str:
        """Issue a new key for the user; the old one stops working at once."""
        key = new_api_key()
        self.set_key(user.user_id, key)
        return key
