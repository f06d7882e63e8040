"""The GraphQL API as a graph (issue 13): traversal fields, Relay nodes and global ids, DateTime, filters and
keyset connections, filters inside search's ranking, and the statement bound of a nested query. Through the
real ASGI app and the session's Neo4j."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from neo4j import ManagedTransaction
from starlette.testclient import TestClient
from strawberry.relay import GlobalID

from graphql_schema.app import create_app
from memos_graph import MOS
from memos_graph.config import DocumentSettings
from memos_graph.errors import InvalidInput
from memos_graph.services.runtime import Runtime
from testkit.keys import ROOT_KEY
from tests.graphql.conftest import Gql, caller_of, codes, ok

pytestmark = pytest.mark.neo4j

ADD = "mutation($i: AddMemoriesInput!) { addMemories(input: $i) { ids } }"
UPDATE = "mutation($i: UpdateMemoryInput!) { updateMemory(input: $i) { memoryId metadata { version } } }"
SHARE = "mutation($c: ID!, $u: ID!) { shareCube(cubeId: $c, userId: $u, permission: READ) }"
PAGE = """query($c: ID!, $w: MemoryWhere, $o: MemoryOrder, $n: Int!, $a: String) {
  memories(cubeId: $c, where: $w, orderBy: $o, first: $n, after: $a) {
    totalCount edges { cursor node { memoryId memory metadata { createdAt updatedAt tags } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
SEARCH = """query($q: String!, $c: [ID!], $k: Int, $f: MemoryWhere) {
  search(query: $q, cubeIds: $c, topK: $k, filter: $f) { textMem { memories { memoryId memory metadata { tags } } } }
}"""


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("graph-docs")


@pytest.fixture(scope="module")
def app(keyed_runtime: Runtime, docs: Path) -> Iterator[TestClient]:
    config = keyed_runtime.config.model_copy(update={"documents": DocumentSettings(roots=(str(docs),))})
    with TestClient(create_app(runtime=replace(keyed_runtime, config=config))) as client:
        yield client


@pytest.fixture
def call(app: TestClient) -> Gql:
    return caller_of(app)


def person(call: Gql, uid: Callable[[str], str], name: str) -> tuple[str, str]:
    body = call(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { user { userId } apiKey } }",
        i={"id": uid(name), "name": name},
    )
    assert body.get("errors") is None, body
    return body["data"]["createUser"]["user"]["userId"], body["data"]["createUser"]["apiKey"]


def new_cube(call: Gql, key: str, name: str) -> tuple[str, str]:
    """(plain id, global id) of a new cube."""
    cube = ok(call(f'mutation {{ createCube(input: {{name: "{name}"}}) {{ id cubeId }} }}', key))["createCube"]
    return cube["cubeId"], cube["id"]


@pytest.fixture
def seeded(call: Gql, uid: Callable[[str], str], docs: Path) -> dict[str, Any]:
    """Ana's cube: two notes, a three-message conversation (NEXT chain), a document, one note updated twice,
    shared READ with Ben and with Cy."""
    ana, ana_key = person(call, uid, "ana")
    ben, ben_key = person(call, uid, "ben")
    cy, _ = person(call, uid, "cy")
    cube, cube_gid = new_cube(call, ana_key, "ana's graph")
    notes = ok(call(ADD, ana_key, i={"cubeId": cube, "content": ["Ana grows basil", "Ana cycles to work"]}))
    first, second = notes["addMemories"]["ids"]
    messages = [
        {"role": "user", "content": "I adopted a cat named Miso", "messageId": uid("m1")},
        {"role": "assistant", "content": "Congratulations on Miso", "messageId": uid("m2")},
        {"role": "user", "content": "Miso likes the balcony", "messageId": uid("m3")},
    ]
    chat = ok(call(ADD, ana_key, i={"cubeId": cube, "messages": messages, "sessionId": "s1"}))["addMemories"]["ids"]
    document = f"{uid('doc')}.md"
    (docs / ana).mkdir()  # Ana's own area of the document root
    (docs / ana / document).write_text("# Garden\n\nBasil needs six hours of sun a day.\n")
    chunks = ok(call(ADD, ana_key, i={"cubeId": cube, "docPath": document}))["addMemories"]["ids"]
    ok(call(UPDATE, ana_key, i={"cubeId": cube, "id": first, "memory": "Ana grows basil and mint"}))
    ok(call(UPDATE, ana_key, i={"cubeId": cube, "id": first, "memory": "Ana grows basil, mint and thyme"}))
    ok(call(SHARE, ana_key, c=cube, u=ben))
    ok(call(SHARE, ana_key, c=cube, u=cy))
    return {
        "ana": ana,
        "ana_key": ana_key,
        "ben": ben,
        "ben_key": ben_key,
        "cy": cy,
        "cube": cube,
        "cube_gid": cube_gid,
        "first": first,
        "second": second,
        "chat": chat,
        "chunks": chunks,
        "messages": [m["messageId"] for m in messages],
        "document": document,  # the path as Ana gave it, relative to her area
    }


TRAVERSAL = """query($c: ID!) {
  cube(id: $c) {
    cubeId createdAt
    owner { userId cubes { cubeId } }
    sharedWith { permission since node { userId } }
    memories(first: 50) {
      totalCount
      edges { node {
        memoryId cube { cubeId }
        history { edges { node { version memory memoryId updatedBy } } }
        derivedFrom { kind node {
          __typename
          ... on Message { id key role content next { key } previous { key } memories { memoryId } }
          ... on Document { id key path chunks { memoryId } }
          ... on MemoryVersion { version memory }
        } }
      } }
    }
  }
}"""


def test_traversal_from_a_cube_reaches_versions_messages_documents_and_shares(
    call: Gql, seeded: dict[str, Any]
) -> None:
    s = seeded
    cube = ok(call(TRAVERSAL, s["ana_key"], c=s["cube"]))["cube"]
    assert cube["owner"] == {"userId": s["ana"], "cubes": [{"cubeId": s["cube"]}]}
    created = dt.datetime.fromisoformat(cube["createdAt"])
    assert created.utcoffset() is not None and abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(minutes=10)
    shares = {entry["node"]["userId"]: entry for entry in cube["sharedWith"]}
    assert set(shares) == {s["ben"], s["cy"]} and {e["permission"] for e in shares.values()} == {"READ"}
    assert all(dt.datetime.fromisoformat(e["since"]) <= dt.datetime.now(dt.UTC) for e in shares.values())
    memories = {edge["node"]["memoryId"]: edge["node"] for edge in cube["memories"]["edges"]}
    assert cube["memories"]["totalCount"] == len(memories) == 2 + 3 + len(s["chunks"])
    assert all(node["cube"] == {"cubeId": s["cube"]} for node in memories.values())
    # Versions, newest first, and the edge to the latest one.
    updated = memories[s["first"]]
    versions = [edge["node"] for edge in updated["history"]["edges"]]
    assert [v["version"] for v in versions] == [2, 1]
    assert {(v["memoryId"], v["updatedBy"]) for v in versions} == {(s["first"], None), (s["first"], s["ana"])}
    assert [v["memory"] for v in versions] == ["Ana grows basil and mint", "Ana grows basil"]
    assert [(d["kind"], d["node"]["memory"]) for d in updated["derivedFrom"]] == [
        ("UPDATE", "Ana grows basil and mint")
    ]  # noqa: E501
    assert memories[s["second"]]["history"]["edges"] == [] and memories[s["second"]]["derivedFrom"] == []
    # The conversation: each message memory derives from its message; NEXT links them in order.
    keys = s["messages"]
    for position, memory_id in enumerate(s["chat"]):
        (edge,) = memories[memory_id]["derivedFrom"]
        message = edge["node"]
        assert edge["kind"] == "MESSAGE" and message["__typename"] == "Message" and message["key"] == keys[position]
        assert message["memories"] == [{"memoryId": memory_id}]
        assert message["previous"] == (None if position == 0 else {"key": keys[position - 1]})
        assert message["next"] == (None if position == 2 else {"key": keys[position + 1]})
    # The document and its chunks.
    (edge,) = memories[s["chunks"][0]]["derivedFrom"]
    assert edge["kind"] == "DOCUMENT" and edge["node"]["path"] == s["document"]
    assert [c["memoryId"] for c in edge["node"]["chunks"]] == s["chunks"]


def test_a_reader_sees_only_its_own_share_and_nothing_past_what_it_may_read(
    call: Gql, seeded: dict[str, Any], uid: Callable[[str], str]
) -> None:
    s = seeded
    cube = ok(call(TRAVERSAL, s["ben_key"], c=s["cube"]))["cube"]
    assert [e["node"]["userId"] for e in cube["sharedWith"]] == [s["ben"]]  # not Cy's share
    assert cube["owner"]["cubes"] == [{"cubeId": s["cube"]}]  # Ana's other cubes would be absent
    # Ana's second cube, not shared: Ben reaches it neither through the owner nor by id.
    other, other_gid = new_cube(call, s["ana_key"], "ana's private")
    ok(call(ADD, s["ana_key"], i={"cubeId": other, "content": ["Ana's private note"]}))
    again = ok(call(TRAVERSAL, s["ben_key"], c=s["cube"]))["cube"]
    assert again["owner"]["cubes"] == [{"cubeId": s["cube"]}]
    mine = ok(call(TRAVERSAL, s["ana_key"], c=s["cube"]))["cube"]
    assert [c["cubeId"] for c in mine["owner"]["cubes"]] == [s["cube"], other]
    assert codes(call("query($c: ID!) { cube(id: $c) { cubeId } }", s["ben_key"], c=other_gid)) == ["FORBIDDEN"]
    assert ok(call("query($i: ID!) { node(id: $i) { id } }", s["ben_key"], i=other_gid))["node"] is None
    # A stranger reaches nothing at all.
    _, stranger_key = person(call, uid, "stranger")
    assert codes(call(TRAVERSAL, stranger_key, c=s["cube"])) == ["FORBIDDEN"]


def test_node_finds_every_node_type_by_its_global_id_and_null_when_gone(
    call: Gql, seeded: dict[str, Any], uid: Callable[[str], str]
) -> None:
    s = seeded
    node = "query($i: ID!) { node(id: $i) { id __typename } }"
    listed = ok(call(TRAVERSAL, s["ana_key"], c=s["cube"]))["cube"]["memories"]["edges"]
    message = next(d["node"] for e in listed for d in e["node"]["derivedFrom"] if d["kind"] == "MESSAGE")
    document = next(d["node"] for e in listed for d in e["node"]["derivedFrom"] if d["kind"] == "DOCUMENT")
    ids = {
        "User": str(GlobalID("User", s["ana"])),
        "MemCube": s["cube_gid"],
        "Memory": str(GlobalID("Memory", s["second"])),
        "Message": message["id"],
        "Document": document["id"],
    }
    for type_name, global_id in ids.items():
        assert ok(call(node, s["ana_key"], i=global_id))["node"] == {"id": global_id, "__typename": type_name}
    # Ben reads the cube (its memory, message and document) but is neither Ana nor an ADMIN.
    assert ok(call(node, s["ben_key"], i=ids["User"]))["node"] is None
    assert ok(call(node, s["ben_key"], i=ids["Message"]))["node"] == {"id": ids["Message"], "__typename": "Message"}
    _, stranger_key = person(call, uid, "nosy")
    for global_id in ids.values():
        assert ok(call(node, stranger_key, i=global_id))["node"] is None
    # A global id works wherever an ID argument is taken; a deleted memory's node is null.
    got = ok(
        call(
            "query($c: ID!, $m: ID!) { memory(cubeId: $c, id: $m) { memoryId } }",
            s["ana_key"],
            c=s["cube_gid"],
            m=ids["Memory"],
        )
    )
    assert got["memory"] == {"memoryId": s["second"]}
    ok(
        call(
            "mutation($c: ID!, $m: ID!) { deleteMemory(cubeId: $c, id: $m) }",
            s["ana_key"],
            c=s["cube_gid"],
            m=ids["Memory"],
        )
    )
    assert ok(call(node, s["ana_key"], i=ids["Memory"]))["node"] is None
    assert ok(call(node, s["ana_key"], i=str(GlobalID("Planet", "x"))))["node"] is None
    assert codes(call(node, s["ana_key"], i="not a global id!")) == ["BAD_USER_INPUT"]


def count_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the start of every statement sent over Bolt from now on: the driver runs each one, auto-commit
    (execute_query) or in a transaction function, through ManagedTransaction.run."""
    sent: list[str] = []
    original_run = ManagedTransaction.run

    def counted_run(self: ManagedTransaction, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(getattr(query, "text", query))[:60])
        return original_run(self, query, *args, **kwargs)

    monkeypatch.setattr(ManagedTransaction, "run", counted_run)
    return sent


def test_a_nested_query_of_fifty_memories_takes_no_more_statements_than_one_of_five(
    app: TestClient, call: Gql, keyed_runtime: Runtime, uid: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, key = person(call, uid, "many")
    counts = {}
    for size in (5, 50):
        cube, _ = new_cube(call, key, f"c{size}")
        messages = [
            {"role": "user" if n % 2 == 0 else "assistant", "content": f"turn {n} about {size} kites"}
            for n in range(size - 1)
        ]
        ok(call(ADD, key, i={"cubeId": cube, "messages": messages}))
        first = ok(call(ADD, key, i={"cubeId": cube, "content": [f"the {size}th kite is red"]}))["addMemories"]["ids"][
            0
        ]  # noqa: E501
        ok(call(UPDATE, key, i={"cubeId": cube, "id": first, "memory": f"the {size}th kite is blue"}))
        with monkeypatch.context() as patch:
            sent = count_statements(patch)
            body = ok(call(TRAVERSAL, key, c=cube))
        edges = body["cube"]["memories"]["edges"]
        assert len(edges) == size
        assert sum(len(e["node"]["derivedFrom"]) for e in edges) == size  # size-1 messages, one version
        counts[size] = len(sent)
        print(f"{size} memories: {len(sent)} statements: {sent}")
    # A read per traversal field and level, plus the caller's access to the cube, read once per request (two
    # loaders of one level, running at once, may both read it before either records it): 12 to 14 here,
    # whatever the page size (19 before the per-request record).
    assert max(counts.values()) <= 15 and abs(counts[50] - counts[5]) <= 2, counts


def test_filters_order_and_keyset_pages(call: Gql, uid: Callable[[str], str]) -> None:
    _, key = person(call, uid, "lister")
    cube, cube_gid = new_cube(call, key, "list")
    texts = [f"note {n:02d}" for n in range(12)]
    ids = ok(call(ADD, key, i={"cubeId": cube, "content": texts, "sessionId": "a"}))["addMemories"]["ids"]
    ok(call(ADD, key, i={"cubeId": cube, "content": ["other session note"], "sessionId": "b"}))
    for n in (3, 7):
        ok(call(UPDATE, key, i={"cubeId": cube, "id": ids[n], "memory": f"note {n:02d} edited", "tags": ["x", "y"]}))
    ok(call(UPDATE, key, i={"cubeId": cube, "id": ids[5], "memory": "note 05 edited", "tags": ["x"]}))

    def page(**variables: Any) -> dict[str, Any]:
        connection: dict[str, Any] = ok(call(PAGE, key, c=cube_gid, **variables))["memories"]
        return connection

    def texts_of(connection: dict[str, Any]) -> list[str]:
        return [edge["node"]["memory"] for edge in connection["edges"]]

    # Keyset pages over the session-a memories, oldest first, with totalCount and a full pageInfo.
    pages, after = [], None
    while True:
        current = page(w={"sessionId": ["a"]}, n=5, a=after)
        assert current["totalCount"] == (12 if after is None else 13)  # the late note below counts
        assert current["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert current["pageInfo"]["startCursor"] == current["edges"][0]["cursor"]
        pages.append(texts_of(current))
        if after is None:  # a memory added meanwhile (newest, so last) does not shift the pages
            ok(call(ADD, key, i={"cubeId": cube, "content": ["late note"], "sessionId": "a"}))
        if not current["pageInfo"]["hasNextPage"]:
            break
        after = current["pageInfo"]["endCursor"]
    expected = [t if n not in (3, 5, 7) else f"note {n:02d} edited" for n, t in enumerate(texts)] + ["late note"]
    assert [t for p in pages for t in p] == expected and [len(p) for p in pages] == [5, 5, 3]
    # Tags: any and all; text contains ignores case; an updatedAt order puts the latest edit first.
    assert sorted(texts_of(page(w={"tagsAny": ["y"]}, n=20))) == ["note 03 edited", "note 07 edited"]
    assert sorted(texts_of(page(w={"tagsAll": ["x", "y"]}, n=20))) == ["note 03 edited", "note 07 edited"]
    assert sorted(texts_of(page(w={"tagsAny": ["x"]}, n=20))) == ["note 03 edited", "note 05 edited", "note 07 edited"]
    assert texts_of(page(w={"textContains": "OTHER SESSION"}, n=20)) == ["other session note"]
    newest = page(w={"tagsAny": ["x"]}, o={"field": "UPDATED_AT", "direction": "DESC"}, n=3)
    assert texts_of(newest) == ["note 05 edited", "note 07 edited", "note 03 edited"]
    stamps = [dt.datetime.fromisoformat(e["node"]["metadata"]["updatedAt"]) for e in newest["edges"]]
    assert stamps == sorted(stamps, reverse=True)
    # Time ranges: from the creation of note 04 (included) to that of note 06 (excluded).
    listed = page(n=20)["edges"]
    start, end = (listed[n]["node"]["metadata"]["createdAt"] for n in (4, 6))
    ranged = page(w={"createdAt": {"gte": start, "lt": end}}, n=20)
    assert texts_of(ranged) == ["note 04", "note 05 edited"] and ranged["totalCount"] == 2
    # Wrong input: a cursor of another order, a naive time, an empty list, an unknown status value.
    refusals = [
        {"o": {"field": "UPDATED_AT"}, "n": 5, "a": listed[0]["cursor"]},
        {"w": {"createdAt": {"gte": "2026-01-01T00:00:00"}}, "n": 5},
        {"w": {"tagsAny": []}, "n": 5},
        {"n": 101},
    ]
    forged = base64.urlsafe_b64encode(json.dumps(["created_at:ASC", "garbage')", str(uuid.uuid4())]).encode())
    refusals.append({"n": 5, "a": forged.decode()})
    for variables in refusals:
        assert codes(call(PAGE, key, c=cube, **variables)) == ["BAD_USER_INPUT"], variables
    assert codes(call(PAGE, key, c=cube, w={"status": ["SLEEPING"]}, n=5)) == ["GRAPHQL_VALIDATION_FAILED"]


def test_a_search_filter_applies_inside_the_ranking_not_after_it(call: Gql, uid: Callable[[str], str]) -> None:
    """Twenty memories close to the query without the tag, five far from it with: a post-filter of the top
    five would leave nothing; the filter inside the ranking returns all five tagged ones."""
    _, key = person(call, uid, "searcher")
    cube, _ = new_cube(call, key, "search")
    close = ok(
        call(ADD, key, i={"cubeId": cube, "content": [f"Ravi plays the violin in orchestra {n}" for n in range(20)]})
    )["addMemories"]["ids"]
    far = ok(
        call(ADD, key, i={"cubeId": cube, "content": [f"The invoice number {n} was paid late" for n in range(5)]})
    )["addMemories"]["ids"]
    for n, memory_id in enumerate(far):
        ok(call(UPDATE, key, i={"cubeId": cube, "id": memory_id, "memory": f"Paid invoice {n}", "tags": ["billing"]}))
    query = "Which instrument does Ravi play?"
    plain = ok(call(SEARCH, key, q=query, c=[cube], k=5))["search"]["textMem"][0]["memories"]
    assert {m["memoryId"] for m in plain} <= set(close)  # unfiltered, the tagged ones rank below the top 5
    found = ok(call(SEARCH, key, q=query, c=[cube], k=5, f={"tagsAny": ["billing"]}))["search"]["textMem"][0]
    assert sorted(m["memoryId"] for m in found["memories"]) == sorted(far)
    assert all(m["metadata"]["tags"] == ["billing"] for m in found["memories"])
    nothing = ok(call(SEARCH, key, q=query, c=[cube], k=5, f={"tagsAny": ["absent"]}))["search"]["textMem"][0]
    assert nothing["memories"] == []


@pytest.mark.parametrize("exact_max", [10_000, 5], ids=["exact scan", "vector index"])
def test_mos_search_and_get_all_take_the_same_filter(
    runtime: Runtime, uid: Callable[[str], str], exact_max: int
) -> None:
    """Through MOS, on both vector paths: the exact per-cube scan and (a cube over exact_scan_max_memories) the
    HNSW index, which a filter asks once before the filtered exact scan answers."""
    search = runtime.config.search.model_copy(update={"exact_scan_max_memories": exact_max})
    mos = MOS(runtime=replace(runtime, config=runtime.config.model_copy(update={"search": search})))
    user = mos.create_user(uid("filterer"))
    cube = mos.create_cube_for_user("filters", owner_id=user)
    mos.add(
        memory_content=[f"Lena swims in lake {n} every summer" for n in range(15)],
        mem_cube_id=cube,
        user_id=user,
        session_id="lake",
    )
    mos.add(
        memory_content=["Lena's tax return is due in April", "Lena renewed her passport"],
        mem_cube_id=cube,
        user_id=user,
        session_id="admin",
    )
    found = mos.search(
        "Where does Lena swim?", user_id=user, install_cube_ids=[cube], top_k=3, filter={"session_id": "admin"}
    )
    texts = sorted(m.memory for m in found["text_mem"][0]["memories"])
    assert texts == ["Lena renewed her passport", "Lena's tax return is due in April"]
    since = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert mos.search("Lena", user_id=user, install_cube_ids=[cube], filter={"created_from": since}) == {
        "text_mem": [{"cube_id": cube, "memories": []}],
        "act_mem": [],
        "para_mem": [],
    }
    listed = mos.get_all(mem_cube_id=cube, user_id=user, filter={"session_ids": ["admin"], "text_contains": "TAX"})
    assert [m.memory for m in listed["text_mem"][0]["memories"]] == ["Lena's tax return is due in April"]
    bad: object
    for bad in (
        {"colour": "red"},
        {"created_from": dt.datetime(2026, 1, 1)},
        {"tags_any": []},
        {"memory_types": ["NoSuchMemory"]},
        {"session_id": "a", "session_ids": ["b"]},
        "tags=x",
    ):
        with pytest.raises(InvalidInput, match="filter"):
            mos.search("Lena", user_id=user, install_cube_ids=[cube], filter=bad)  # type: ignore[arg-type]


def test_root_sees_every_share_and_every_user_node(call: Gql, seeded: dict[str, Any]) -> None:
    s = seeded
    cube = ok(call(TRAVERSAL, ROOT_KEY, c=s["cube"]))["cube"]
    assert {e["node"]["userId"] for e in cube["sharedWith"]} == {s["ben"], s["cy"]}
    user = ok(
        call("query($i: ID!) { node(id: $i) { ... on User { userId } } }", ROOT_KEY, i=str(GlobalID("User", s["cy"])))
    )
    assert user["node"] == {"userId": s["cy"]}


TIMED_SEARCH = """query($q: String!, $c: [ID!], $f: MemoryWhere, $r: DateTime) {
  search(query: $q, cubeIds: $c, topK: 3, filter: $f, referenceTime: $r) {
    textMem { memories { memory metadata { memoryTime eventStart eventEnd timeSource relativity } } }
  }
}"""


def test_search_takes_an_event_time_filter_and_a_reference_time(call: Gql, uid: Callable[[str], str]) -> None:
    _, key = person(call, uid, "timer")
    cube, _ = new_cube(call, key, "times")
    for when in ("2023-03-10T10:00:00Z", "2023-05-08T10:00:00Z", "2023-07-20T10:00:00Z"):
        messages = [{"role": "user", "content": "Nate: I played in a chess tournament", "chatTime": when}]
        ok(call(ADD, key, i={"cubeId": cube, "messages": messages}))
    may = {"eventTime": {"gte": "2023-05-01T00:00:00Z", "lt": "2023-06-01T00:00:00Z"}}
    found = ok(call(TIMED_SEARCH, key, q="chess", c=[cube], f=may))["search"]["textMem"][0]["memories"]
    assert [m["metadata"]["memoryTime"] for m in found] == ["2023-05-08"]
    meta = found[0]["metadata"]
    assert (meta["eventStart"], meta["eventEnd"], meta["timeSource"]) == (
        "2023-05-08T00:00:00+00:00",
        "2023-05-09T00:00:00+00:00",
        "chat_time",
    )
    asked = "Which tournament did Nate play last month?"
    ranked = ok(call(TIMED_SEARCH, key, q=asked, c=[cube], r="2023-08-15T00:00:00Z"))["search"]["textMem"][0]
    assert ranked["memories"][0]["metadata"]["memoryTime"] == "2023-07-20"
    assert codes(call(TIMED_SEARCH, key, q="chess", c=[cube], f={"eventTime": {"gte": "2023-05-01T00:00:00"}})) == [
        "BAD_USER_INPUT"
    ]
