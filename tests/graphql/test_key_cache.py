"""The API-key cache (limits.api_key_cache_s): hits skip Neo4j, revocation here is immediate, revocation
by another process takes effect within the TTL, entries are digests, the cache is bounded."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from memos_graph.domain import User, UserRole
from memos_graph.graph.store import GraphStore
from memos_graph.graph.users import UserRepository
from memos_graph.services.identity import ApiKeyCache, hash_api_key, key_cache, new_api_key
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.keys import ROOT_KEY
from tests.graphql.conftest import Gql, caller_of

ME = "{ me { user { userId } } }"
TINY_TTL_S = 1.0
MARGIN_S = 0.75  # scheduling slack on a loaded machine
LONG_TTL_S = 30.0  # so that "refused at once" cannot be the entry expiring


def with_ttl(runtime: Runtime, ttl_s: float) -> Runtime:
    limits = runtime.config.limits.model_copy(update={"api_key_cache_s": ttl_s})
    return replace(runtime, config=runtime.config.model_copy(update={"limits": limits}))


@pytest.fixture(scope="module")
def tiny_runtime(keyed_runtime: Runtime) -> Runtime:
    return with_ttl(keyed_runtime, TINY_TTL_S)


@pytest.fixture(scope="module")
def tiny_client(tiny_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=tiny_runtime)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def long_runtime(keyed_runtime: Runtime) -> Runtime:
    return with_ttl(keyed_runtime, LONG_TTL_S)


@pytest.fixture(scope="module")
def long_client(long_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=long_runtime)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def other_process(keyed_runtime: Runtime) -> Iterator[Services]:
    """Services over a driver of their own: what another replica (or the CLI) is to this process's cache."""
    store = GraphStore(keyed_runtime.config.neo4j)
    try:
        yield Services.over(replace(keyed_runtime, store=store, users=UserRepository(store)))
    finally:
        store.close()


def status_of(client: TestClient) -> Callable[[str], int]:
    def status(key: str) -> int:
        response = client.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {key}"})
        return response.status_code

    return status


def make_user(gql: Gql, uid: Callable[[str], str], name: str) -> tuple[str, str]:
    body = gql(
        "mutation($input: CreateUserInput!) { createUser(input: $input) { user { userId } apiKey } }",
        input={"id": uid(name), "name": name, "role": "USER"},
    )
    assert body.get("errors") is None, body
    return body["data"]["createUser"]["user"]["userId"], body["data"]["createUser"]["apiKey"]


def root_user(runtime: Runtime) -> User:
    user = runtime.users.get(runtime.config.user_id)
    assert user is not None
    return user


def refused_within(status: Callable[[str], int], key: str, since: float, bound_s: float) -> float:
    """Poll until the key is refused; how long after `since` that was (fails past bound_s)."""
    while True:
        if status(key) == 401:
            return time.monotonic() - since
        assert time.monotonic() - since < bound_s, f"key still accepted {bound_s} s after the change"
        time.sleep(0.05)


@pytest.mark.neo4j
def test_a_key_is_served_from_the_cache_as_a_digest(
    tiny_client: TestClient, tiny_runtime: Runtime, uid: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    gql = caller_of(tiny_client)
    _, key = make_user(gql, uid, "cached")
    lookups: list[str] = []
    real = tiny_runtime.users.get_by_api_key_hash

    def counting(digest: str) -> Any:
        lookups.append(digest)
        return real(digest)

    monkeypatch.setattr(tiny_runtime.users, "get_by_api_key_hash", counting)
    status = status_of(tiny_client)
    start = time.monotonic()
    assert [status(key) for _ in range(5)] == [200] * 5
    if time.monotonic() - start < TINY_TTL_S:  # all five within one TTL: one Bolt lookup
        assert lookups == [hash_api_key(key)]
    cache = key_cache(tiny_runtime.store, tiny_runtime.config.limits.api_key_cache_s)
    assert hash_api_key(key) in cache.digests()
    assert key not in repr(cache.__dict__) and key not in cache.digests()


@pytest.mark.neo4j
def test_revocations_in_this_process_take_effect_at_once(
    long_client: TestClient, long_runtime: Runtime, runtime: Runtime, uid: Callable[[str], str]
) -> None:
    gql = caller_of(long_client)
    status = status_of(long_client)
    user_id, key = make_user(gql, uid, "revoked")
    assert status(key) == 200 and status(key) == 200  # cached now, for 30 s

    new_key = gql("mutation($u: ID!) { resetApiKey(userId: $u) }", u=user_id)["data"]["resetApiKey"]
    assert status(key) == 401 and status(new_key) == 200

    assert gql("mutation($u: ID!) { deactivateUser(userId: $u) { id } }", u=user_id).get("errors") is None
    assert status(new_key) == 401
    assert gql("mutation($u: ID!) { reactivateUser(userId: $u) { id } }", u=user_id).get("errors") is None
    assert status(new_key) == 200

    rotated = gql("mutation { rotateApiKey }", new_key)["data"]["rotateApiKey"]
    assert status(new_key) == 401 and status(rotated) == 200

    # Through other Services (the MOS, the CLI in-process) over the same driver: the same cache is told.
    Services.over(runtime).users.deactivate_user(root_user(runtime), user_id)
    assert status(rotated) == 401
    Services.over(runtime).users.reactivate_user(root_user(runtime), user_id)
    assert status(rotated) == 200

    assert gql("mutation($u: ID!) { deleteUser(userId: $u) }", u=user_id).get("errors") is None
    assert status(rotated) == 401
    assert status(ROOT_KEY) == 200


@pytest.mark.neo4j
def test_changes_by_another_process_take_effect_within_the_ttl(
    tiny_client: TestClient, tiny_runtime: Runtime, other_process: Services, uid: Callable[[str], str]
) -> None:
    gql = caller_of(tiny_client)
    status = status_of(tiny_client)
    root = root_user(tiny_runtime)
    bound = TINY_TTL_S + MARGIN_S

    reset_id, reset_key = make_user(gql, uid, "reset-elsewhere")
    assert status(reset_key) == 200
    changed = time.monotonic()
    new_key = other_process.users.reset_api_key(root, reset_id)
    assert new_key is not None
    refused_within(status, reset_key, changed, bound)
    assert status(new_key) == 200

    off_id, off_key = make_user(gql, uid, "deactivated-elsewhere")
    assert status(off_key) == 200
    changed = time.monotonic()
    other_process.users.deactivate_user(root, off_id)
    refused_within(status, off_key, changed, bound)

    raw_id, raw_key = make_user(gql, uid, "cypher-elsewhere")
    assert status(raw_key) == 200
    changed = time.monotonic()
    replaced = hash_api_key(new_api_key())
    tiny_runtime.store.run_statement("MATCH (u:User {id: $u}) SET u.api_key_hash = $d", u=raw_id, d=replaced)
    refused_within(status, raw_key, changed, bound)

    deleted_id, deleted_key = make_user(gql, uid, "deleted-elsewhere")
    assert status(deleted_key) == 200
    changed = time.monotonic()
    other_process.users.delete_user(root, deleted_id)
    refused_within(status, deleted_key, changed, bound)


def _user(user_id: str) -> User:
    return User(user_id=user_id, user_name=user_id, role=UserRole.USER, created_at="", is_active=True)


def test_the_cache_is_bounded_and_least_recently_used_first_out() -> None:
    cache = ApiKeyCache(60.0, max_entries=3, max_missing=2)
    for n in range(3):
        cache.store(f"d{n}", _user(f"u{n}"), time.monotonic(), cache.generation())
    assert cache.lookup("d0")[0]  # d0 is now the most recently used
    cache.store("d3", _user("u3"), time.monotonic(), cache.generation())
    assert sorted(cache.digests()) == ["d0", "d2", "d3"]
    for n in range(50):  # a flood of wrong keys keeps only max_missing of them, and pushes no user out
        cache.store(f"bad{n}", None, time.monotonic(), cache.generation())
    assert len(cache) == 5 and cache.lookup("bad49") == (True, None) and cache.lookup("d3")[1] == _user("u3")


def test_entries_expire_and_a_forgotten_lookup_is_not_stored() -> None:
    cache = ApiKeyCache(0.2)
    cache.store("old", _user("u"), time.monotonic() - 0.3, cache.generation())
    assert cache.lookup("old") == (False, None)  # older than the TTL, counted from before the lookup
    generation = cache.generation()
    cache.forget_user("u")  # a revocation while a lookup was under way
    cache.store("racing", _user("u"), time.monotonic(), generation)
    assert cache.lookup("racing") == (False, None)
    cache.store("bad", None, time.monotonic(), cache.generation())
    cache.forget_user("someone")  # a key set anywhere may be one we remembered as wrong
    assert cache.lookup("bad") == (False, None)
    off = ApiKeyCache(0.0)
    off.store("d", _user("u"), time.monotonic(), off.generation())
    assert len(off) == 0
