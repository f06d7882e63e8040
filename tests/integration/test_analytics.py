"""The data team's queries in cypher/analytics: each file documented, read-only, and right on a seeded graph.

Every query runs from its file, in a read transaction (so a write would fail), against the shared Neo4j;
results are cut down to this test's uid'd users and cubes before comparing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import neo4j
import pytest
from neo4j.time import Date

from memos_graph import MOS, TextualMemoryItem, UserRole
from memos_graph.config import Neo4jSettings
from memos_graph.services.runtime import Runtime

pytestmark = pytest.mark.neo4j

ANALYTICS = Path(__file__).resolve().parents[2] / "cypher" / "analytics"
REQUIRED = {
    "memories_per_cube_over_time",
    "memories_per_user_over_time",
    "sharing_graph",
    "provenance_chain",
    "duplicate_candidates",
    "stale_cubes",
}
# A value for every parameter any analytics file takes, so each file can be EXPLAINed.
SAMPLE_PARAMS: dict[str, Any] = {
    "since": dt.datetime(2001, 1, 1, tzinfo=dt.UTC),
    "until": dt.datetime(2001, 2, 1, tzinfo=dt.UTC),
    "bucket": "day",
    "user_id": None,
    "include_admins": False,
    "cube_id": "no-such-cube",
    "memory_id": "no-such-memory",
    "with_context": True,
    "threshold": 0.9,
    "candidates": 10,
    "limit": 10,
    "days": 30,
    "owner_id": None,
}
UTC = dt.UTC


def run_analytics(runtime: Runtime, name: str, **params: Any) -> list[neo4j.Record]:
    """Run cypher/analytics/<name>.cypher in a read transaction."""
    text = (ANALYTICS / f"{name}.cypher").read_text()
    return runtime.store.run_read(lambda tx: list(tx.run(text, params)))


def header_and_body(text: str) -> tuple[str, str]:
    """The leading // comment block and the statement after it."""
    lines = text.splitlines()
    split = next(index for index, line in enumerate(lines) if not line.startswith("//"))
    return "\n".join(lines[:split]), "\n".join(lines[split:])


def set_created_at(runtime: Runtime, cube_ids: list[str], times: dict[str, dt.datetime]) -> None:
    """Backdate this test's own memories (only inside its cubes)."""
    rows = [{"id": memory_id, "at": at} for memory_id, at in times.items()]
    updated = runtime.store.run_statement(
        "UNWIND $rows AS row MATCH (m:Memory {id: row.id}) WHERE m.cube_id IN $cube_ids "
        "SET m.created_at = row.at RETURN count(m) AS n",
        rows=rows,
        cube_ids=cube_ids,
    )
    assert updated[0]["n"] == len(rows)


@pytest.fixture
def document_mos(runtime: Runtime, tmp_path: Path) -> MOS:
    """A MOS (acting as root) whose document root is tmp_path."""
    documents = runtime.config.documents.model_copy(update={"roots": (str(tmp_path),)})
    config = runtime.config.model_copy(update={"documents": documents})
    return MOS(config, runtime=replace(runtime, config=config))


# -- the files themselves ----------------------------------------------------------------------------------


def test_every_file_is_documented_parameterised_and_read_only(runtime: Runtime) -> None:
    files = sorted(ANALYTICS.glob("*.cypher"))
    assert {path.stem for path in files} >= REQUIRED
    for path in files:
        text = path.read_text()
        assert text.startswith("//"), path.name
        header, body = header_and_body(text)
        for section in ("Parameters:", "Returns:", "Index:"):
            assert f"// {section}" in header, f"{path.name} lacks '{section}'"
        # One statement, ended by a semicolon so cypher-shell's -f and :source run the file as it is.
        assert body.rstrip().endswith(";") and body.count(";") == 1, path.name
        used = set(re.findall(r"\$(\w+)", body))
        documented = set(re.findall(r"^//\s+\$(\w+):", header, flags=re.MULTILINE))
        assert used == documented, f"{path.name}: used {sorted(used)}, documented {sorted(documented)}"
        # Python or shell templating would mean text pasted into the query; only $params are allowed.
        for marker in (r"\{\w*\}", r"%s", r"%\(", r"\$\{", r"\{\{"):
            assert not re.search(marker, body), f"{path.name} contains {marker}"
        assert explain(runtime, body, {name: SAMPLE_PARAMS[name] for name in used}).query_type == "r", path.name


def explain(runtime: Runtime, text: str, params: dict[str, Any]) -> neo4j.ResultSummary:
    """The plan summary of a statement, planned in a read transaction."""

    def work(tx: neo4j.ManagedTransaction) -> neo4j.ResultSummary:
        return tx.run("EXPLAIN " + text, params).consume()

    return runtime.store.run_read(work)


# -- growth over time ------------------------------------------------------------------------------------


@pytest.fixture
def growth(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> dict[str, str]:
    """alice owns a1 and a2 (a1 shared with bob for writing), bob owns b1; memories backdated into 2001."""
    alice = root.create_user(uid("alice"), UserRole.USER)
    bob = root.create_user(uid("bob"), UserRole.USER)
    a1 = root.create_cube_for_user("alice one", owner_id=alice, cube_id=uid("cube-a1"))
    a2 = root.create_cube_for_user("alice two", owner_id=alice, cube_id=uid("cube-a2"))
    b1 = root.create_cube_for_user("bob one", owner_id=bob, cube_id=uid("cube-b1"))
    root.share_cube_with_user(a1, bob, "write")
    first, second, third = root.add(
        memory_content=["Alice walks to work", "Alice drinks green tea", "Alice reads before bed"],
        mem_cube_id=a1,
        user_id=alice,
    )
    (by_bob,) = root.add(memory_content=["Bob fixed Alice's bike"], mem_cube_id=a1, user_id=bob)
    (other,) = root.add(memory_content=["Alice keeps bees"], mem_cube_id=a2, user_id=alice)
    on_since, on_until = root.add(memory_content=["Bob sails", "Bob bakes bread"], mem_cube_id=b1, user_id=bob)
    set_created_at(
        runtime,
        [a1, a2, b1],
        {
            first: dt.datetime(2001, 3, 5, 10, 0, tzinfo=UTC),  # a Monday
            second: dt.datetime(2001, 3, 5, 23, 59, tzinfo=UTC),
            third: dt.datetime(2001, 3, 7, 8, 0, tzinfo=UTC),
            by_bob: dt.datetime(2001, 3, 12, 0, 0, tzinfo=UTC),  # the next Monday
            other: dt.datetime(2001, 3, 5, 12, 0, tzinfo=UTC),
            on_since: dt.datetime(2001, 2, 1, 0, 0, tzinfo=UTC),  # exactly $since: counted
            on_until: dt.datetime(2001, 4, 1, 0, 0, tzinfo=UTC),  # exactly $until: not counted
        },
    )
    return {"alice": alice, "bob": bob, "a1": a1, "a2": a2, "b1": b1}


WINDOW = {"since": dt.datetime(2001, 2, 1, tzinfo=UTC), "until": dt.datetime(2001, 4, 1, tzinfo=UTC)}


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        (
            "day",
            [
                ((2001, 2, 1), "b1", "bob", 1),
                ((2001, 3, 5), "a1", "alice", 2),
                ((2001, 3, 5), "a2", "alice", 1),
                ((2001, 3, 7), "a1", "alice", 1),
                ((2001, 3, 12), "a1", "alice", 1),
            ],
        ),
        (
            "week",
            [
                ((2001, 1, 29), "b1", "bob", 1),
                ((2001, 3, 5), "a1", "alice", 3),
                ((2001, 3, 5), "a2", "alice", 1),
                ((2001, 3, 12), "a1", "alice", 1),
            ],
        ),
        (
            "month",
            [
                ((2001, 2, 1), "b1", "bob", 1),
                ((2001, 3, 1), "a1", "alice", 4),
                ((2001, 3, 1), "a2", "alice", 1),
            ],
        ),
    ],
)
def test_memories_per_cube_over_time(
    runtime: Runtime, growth: dict[str, str], bucket: str, expected: list[tuple[tuple[int, int, int], str, str, int]]
) -> None:
    rows = run_analytics(runtime, "memories_per_cube_over_time", bucket=bucket, **WINDOW)
    mine = {growth["a1"], growth["a2"], growth["b1"]}
    got = [(r["bucket"], r["cube_id"], r["owner_id"], r["memories"]) for r in rows if r["cube_id"] in mine]
    assert got == [(Date(*day), growth[cube], growth[owner], n) for day, cube, owner, n in expected]
    names = {r["cube_id"]: r["cube_name"] for r in rows if r["cube_id"] in mine}
    assert names == {growth["a1"]: "alice one", growth["a2"]: "alice two", growth["b1"]: "bob one"}


def test_memories_per_user_over_time(runtime: Runtime, growth: dict[str, str]) -> None:
    mine = {growth["alice"], growth["bob"]}
    monthly = run_analytics(runtime, "memories_per_user_over_time", bucket="month", **WINDOW)
    got = [
        (r["bucket"], r["owner_id"], r["cubes"], r["memories"], r["written_by_others"])
        for r in monthly
        if r["owner_id"] in mine
    ]
    # Bob's memory in alice's cube counts for alice, the owner, and as written by someone else.
    assert got == [
        (Date(2001, 2, 1), growth["bob"], 1, 1, 0),
        (Date(2001, 3, 1), growth["alice"], 2, 5, 1),
    ]
    daily = run_analytics(runtime, "memories_per_user_over_time", bucket="day", **WINDOW)
    per_day = [(r["bucket"], r["owner_id"], r["cubes"], r["memories"]) for r in daily if r["owner_id"] in mine]
    assert per_day == [
        (Date(2001, 2, 1), growth["bob"], 1, 1),
        (Date(2001, 3, 5), growth["alice"], 2, 3),
        (Date(2001, 3, 7), growth["alice"], 1, 1),
        (Date(2001, 3, 12), growth["alice"], 1, 1),
    ]


@pytest.fixture
def analyst(neo4j_settings: Neo4jSettings) -> Iterator[Callable[..., tuple[list[dict[str, Any]], neo4j.ResultSummary]]]:
    """Runs an analytics file the way docs/analysts.md does: the plain driver (its default notifications, not
    the service's), execute_query in read mode; rows as dicts and the summary."""
    password = neo4j_settings.password.get_secret_value()
    with neo4j.GraphDatabase.driver(neo4j_settings.uri, auth=(neo4j_settings.user, password)) as driver:

        def run(name: str, text: str | None = None, **params: Any) -> tuple[list[dict[str, Any]], neo4j.ResultSummary]:
            query = text if text is not None else (ANALYTICS / f"{name}.cypher").read_text()
            records, summary, _ = driver.execute_query(
                query, params, database_=neo4j_settings.database, routing_=neo4j.RoutingControl.READ
            )
            return [record.data() for record in records], summary

        yield run


def test_window_bounds_without_a_zone_are_read_as_utc(runtime: Runtime, growth: dict[str, str]) -> None:
    mine = {growth["a1"], growth["a2"], growth["b1"]}

    def per_cube(**window: Any) -> list[tuple[Any, str, int]]:
        rows = run_analytics(runtime, "memories_per_cube_over_time", bucket="day", **window)
        return [(r["bucket"], r["cube_id"], r["memories"]) for r in rows if r["cube_id"] in mine]

    zoned = per_cube(**WINDOW)
    assert len(zoned) == 5
    naive = {"since": dt.datetime(2001, 2, 1), "until": dt.datetime(2001, 4, 1)}
    assert per_cube(**naive) == zoned  # it matched nothing before
    assert per_cube(since=dt.date(2001, 2, 1), until=dt.date(2001, 4, 1)) == zoned
    assert per_cube(since="2001-02-01T00:00:00", until="2001-04-01") == zoned
    users = run_analytics(runtime, "memories_per_user_over_time", bucket="month", **naive)
    assert [(r["owner_id"], r["memories"]) for r in users if r["owner_id"] in {growth["alice"], growth["bob"]}] == [
        (growth["bob"], 1),
        (growth["alice"], 5),
    ]
    # A zoned bound is kept as given: 11:30+02:00 is 09:30 UTC and takes in the 10:00 UTC memory; the same
    # wall time without a zone is 11:30 UTC and leaves it out.
    until = dt.datetime(2001, 3, 6, tzinfo=UTC)
    plus_two = dt.timezone(dt.timedelta(hours=2))
    day = Date(2001, 3, 5)
    assert per_cube(since=dt.datetime(2001, 3, 5, 11, 30, tzinfo=plus_two), until=until) == [
        (day, growth["a1"], 2),
        (day, growth["a2"], 1),
    ]
    assert per_cube(since=dt.datetime(2001, 3, 5, 11, 30), until=until) == [
        (day, growth["a1"], 1),
        (day, growth["a2"], 1),
    ]


@pytest.mark.parametrize("name", ["memories_per_cube_over_time", "memories_per_user_over_time", "cube_timeline"])
def test_bad_window_or_bucket_is_a_client_error_saying_so(runtime: Runtime, name: str) -> None:
    params: dict[str, Any] = {"cube_id": "no-such-cube", **WINDOW}
    if name != "cube_timeline":
        params["bucket"] = "day"
    assert run_analytics(runtime, name, **{**params, "since": WINDOW["until"]}) == []  # valid and empty: no error
    bad: list[tuple[dict[str, Any], str]] = [
        ({"since": None}, "$since: give a datetime"),
        ({"until": 20010401}, "$until: give a datetime"),
    ]
    if name != "cube_timeline":
        bad += [
            ({"bucket": "fortnight"}, "$bucket: give day, week, month, quarter or year"),
            ({"bucket": None}, "$bucket"),
        ]
    for change, message in bad:
        with pytest.raises(neo4j.exceptions.ClientError) as caught:
            run_analytics(runtime, name, **{**params, **change})
        assert message in str(caught.value.message), (name, change, caught.value.message)


# -- sharing ------------------------------------------------------------------------------------------------


def test_sharing_graph(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    alice = root.create_user(uid("alice"), UserRole.USER)
    bob = root.create_user(uid("bob"), UserRole.USER)
    carol = root.create_user(uid("carol"), UserRole.GUEST)
    dave = root.create_user(uid("dave"), UserRole.USER)
    erin = root.create_user(uid("erin"), UserRole.ADMIN)
    shared = root.create_cube_for_user("shared", owner_id=alice, cube_id=uid("cube-shared"))
    bobs = root.create_cube_for_user("bob's", owner_id=bob, cube_id=uid("cube-bobs"))
    retired = root.create_cube_for_user("retired", owner_id=alice, cube_id=uid("cube-retired"))
    root.share_cube_with_user(shared, bob, "write")
    root.share_cube_with_user(shared, carol, "read")
    root.share_cube_with_user(shared, dave, "read")
    root.share_cube_with_user(bobs, alice, "read")
    root.share_cube_with_user(retired, bob, "read")
    # No API deactivates users or cubes yet; flip this test's own nodes directly.
    runtime.store.run_statement("MATCH (u:User {id: $id}) SET u.is_active = false", id=dave)
    runtime.store.run_statement("MATCH (c:MemCube {id: $id}) SET c.is_active = false", id=retired)
    mine = {shared, bobs, retired}

    def rows(user_id: str | None, include_admins: bool) -> list[tuple[str, str, str, str, str]]:
        records = run_analytics(runtime, "sharing_graph", user_id=user_id, include_admins=include_admins)
        return [
            (r["reader_id"], r["reader_role"], r["cube_id"], r["owner_id"], r["access"])
            for r in records
            if r["cube_id"] in mine
        ]

    # Ordered by reader, then cube id ("cube-bobs-..." before "cube-shared-...").
    assert rows(None, False) == [
        (alice, "user", bobs, bob, "read"),
        (alice, "user", shared, alice, "owner"),
        (bob, "user", bobs, bob, "owner"),
        (bob, "user", shared, alice, "write"),
        (carol, "guest", shared, alice, "read"),
    ]
    assert rows(erin, False) == []
    assert rows(erin, True) == [(erin, "admin", bobs, bob, "admin"), (erin, "admin", shared, alice, "admin")]
    assert rows(carol, True) == [(carol, "guest", shared, alice, "read")]
    assert rows(dave, False) == []


# -- provenance ---------------------------------------------------------------------------------------------

CONVERSATION = [
    {"role": "user", "name": "Ana", "content": "I booked the night train to Vienna.", "message_id": "t:1"},
    {"role": "assistant", "name": "Bo", "content": "Which day do you leave?", "message_id": "t:2"},
    {"role": "user", "name": "Ana", "content": "On Friday, back on Monday.", "message_id": "t:3"},
]


def test_provenance_chain_of_an_updated_conversation_memory(
    root: MOS, runtime: Runtime, uid: Callable[[str], str]
) -> None:
    user = root.create_user(uid("ana"), UserRole.USER)
    cube = root.create_cube_for_user("trips", owner_id=user)
    _, middle, _ = root.add(messages=CONVERSATION, mem_cube_id=cube, user_id=user, session_id="s1")
    original = root.get(cube, middle, user_id=user).memory
    root.update(cube, middle, TextualMemoryItem(memory="Bo asked which day Ana leaves."), user_id=user)
    root.update(cube, middle, TextualMemoryItem(memory="Bo asked Ana about her departure day."), user_id=user)
    versions = {
        r["version"]: r["id"]
        for r in runtime.store.run_statement(
            "MATCH (v:MemoryVersion {memory_id: $id}) WHERE v.cube_id = $cube RETURN v.version AS version, v.id AS id",
            id=middle,
            cube=cube,
        )
    }
    assert sorted(versions) == [1, 2]

    rows = run_analytics(runtime, "provenance_chain", cube_id=cube, memory_id=middle, with_context=True)
    got = [(r["depth"], r["label"], r["key"], r["kind"], r["via"], r["text"]) for r in rows]
    assert got == [
        (0, "Memory", middle, None, None, "Bo asked Ana about her departure day."),
        (1, "MemoryVersion", versions[2], "update", middle, "Bo asked which day Ana leaves."),
        (1, "Message", "t:2", "message", middle, "Which day do you leave?"),
        (2, "MemoryVersion", versions[1], "update", versions[2], original),
        (2, "Message", "t:1", "previous", "t:2", "I booked the night train to Vienna."),
        (2, "Message", "t:3", "next", "t:2", "On Friday, back on Monday."),
    ]
    assert all(isinstance(r["time"], neo4j.time.DateTime) for r in rows)
    assert rows[0]["detail"]["version"] == 3 and rows[2]["detail"]["role"] == "assistant"
    assert [r["detail"]["version"] for r in rows if r["label"] == "MemoryVersion"] == [2, 1]

    plain = run_analytics(runtime, "provenance_chain", cube_id=cube, memory_id=middle, with_context=False)
    assert [(r["depth"], r["label"], r["kind"]) for r in plain] == [
        (0, "Memory", None),
        (1, "MemoryVersion", "update"),
        (1, "Message", "message"),
        (2, "MemoryVersion", "update"),
    ]
    # The memory is looked up inside the named cube only.
    other = root.create_cube_for_user("other", owner_id=user)
    assert run_analytics(runtime, "provenance_chain", cube_id=other, memory_id=middle, with_context=True) == []


def test_provenance_chain_of_document_and_plain_memories(
    document_mos: MOS, runtime: Runtime, tmp_path: Path, uid: Callable[[str], str]
) -> None:
    user = document_mos.create_user(uid("reader"), UserRole.USER)
    cube = document_mos.create_cube_for_user("library", owner_id=user)
    notes = tmp_path / "notes.txt"
    notes.write_text("The library closes at eight on weekdays.")
    (chunk,) = document_mos.add(doc_path=str(notes), mem_cube_id=cube, user_id=user)
    (plain,) = document_mos.add(memory_content=["The reader likes atlases"], mem_cube_id=cube, user_id=user)

    rows = run_analytics(runtime, "provenance_chain", cube_id=cube, memory_id=chunk, with_context=True)
    got = [(r["depth"], r["label"], r["key"], r["kind"], r["via"], r["text"]) for r in rows]
    assert got == [
        (0, "Memory", chunk, None, None, "The library closes at eight on weekdays."),
        (1, "Document", str(notes), "document", chunk, str(notes)),
    ]
    assert rows[1]["detail"]["name"] == "notes.txt" and len(rows[1]["detail"]["checksum"]) == 64
    alone = run_analytics(runtime, "provenance_chain", cube_id=cube, memory_id=plain, with_context=True)
    assert [(r["depth"], r["label"], r["key"], r["text"]) for r in alone] == [
        (0, "Memory", plain, "The reader likes atlases")
    ]


def unknown_property_warnings(summary: neo4j.ResultSummary) -> list[str]:
    return [status.status_description for status in summary.gql_status_objects if status.gql_status == "01N52"]


def test_provenance_chain_names_no_property_a_graph_may_lack(
    root: MOS, uid: Callable[[str], str], analyst: Callable[..., tuple[list[dict[str, Any]], neo4j.ResultSummary]]
) -> None:
    user = root.create_user(uid("plain"), UserRole.USER)
    cube = root.create_cube_for_user("plain notes", owner_id=user)
    (memory,) = root.add(memory_content=["The plain user likes maps"], mem_cube_id=cube, user_id=user)
    rows, summary = analyst("provenance_chain", cube_id=cube, memory_id=memory, with_context=True)
    assert [(r["label"], r["text"]) for r in rows] == [("Memory", "The plain user likes maps")]
    assert unknown_property_warnings(summary) == []
    # The suite's graph holds documents, so 'checksum' and 'path' exist here; keys nothing ever held stand in
    # for them, as on a graph without documents. Read as node.<key> they are warned about (01N52); the
    # file reads them from properties(node) and is not.
    fresh = uid("never").replace("-", "_")
    text = (ANALYTICS / "provenance_chain.cypher").read_text()
    absent = text.replace("checksum", f"checksum_{fresh}").replace("path", f"path_{fresh}")
    assert absent != text
    _, summary = analyst("provenance_chain", text=absent, cube_id=cube, memory_id=memory, with_context=True)
    assert unknown_property_warnings(summary) == []
    _, control = analyst("", text=f"MATCH (d:Document) RETURN d.checksum_{fresh} AS checksum LIMIT 1")
    assert len(unknown_property_warnings(control)) == 1


# -- duplicates ---------------------------------------------------------------------------------------------

BUDGET = "The quarterly budget review meeting is on Thursday at 3pm"
BUDGET_AGAIN = "The quarterly budget review meeting happens on Thursdays at 3pm"
CAT = "My cat Miso is afraid of the vacuum cleaner"
CAT_AGAIN = "Miso, my cat, is scared of the vacuum cleaner"
UNRELATED = [
    "Photosynthesis turns sunlight into chemical energy in plants",
    "The budget for the garden shed is 300 euros",
]


@pytest.fixture
def duplicates(root: MOS, uid: Callable[[str], str]) -> Iterator[tuple[str, dict[str, str]]]:
    """A cube with two paraphrased pairs; a second cube holds a verbatim copy that must not pair up."""
    user = root.create_user(uid("planner"), UserRole.USER)
    cube = root.create_cube_for_user("plans", owner_id=user)
    elsewhere = root.create_cube_for_user("elsewhere", owner_id=user)
    texts = [BUDGET, BUDGET_AGAIN, CAT, CAT_AGAIN, *UNRELATED]
    ids = dict(zip(texts, root.add(memory_content=texts, mem_cube_id=cube, user_id=user), strict=True))
    root.add(memory_content=[BUDGET], mem_cube_id=elsewhere, user_id=user)
    yield cube, ids
    # The vector index is global: leftover copies from earlier runs would crowd later runs' neighbours.
    root.delete_all(cube, user_id=user)
    root.delete_all(elsewhere, user_id=user)


def test_duplicate_candidates(runtime: Runtime, duplicates: tuple[str, dict[str, str]]) -> None:
    cube, ids = duplicates
    pairs = [sorted((ids[a], ids[b])) for a, b in ((BUDGET, BUDGET_AGAIN), (CAT, CAT_AGAIN))]
    vectors = runtime.embedder.embed([BUDGET, BUDGET_AGAIN, CAT, CAT_AGAIN])
    expected_scores = [
        (1 + cosine(vectors[0], vectors[1])) / 2,
        (1 + cosine(vectors[2], vectors[3])) / 2,
    ]
    expected = sorted(zip(pairs, expected_scores, strict=True), key=lambda pair: -pair[1])
    text = {memory_id: memory for memory, memory_id in ids.items()}

    for name, extra in (("duplicate_candidates", {"candidates": 50}), ("duplicate_candidates_exact", {})):
        rows = run_analytics(runtime, name, cube_id=cube, threshold=0.9, limit=10, **extra)
        assert [[r["a_id"], r["b_id"]] for r in rows] == [pair for pair, _ in expected], name
        for row, (_, score) in zip(rows, expected, strict=True):
            assert row["score"] == pytest.approx(score, abs=1e-4)
        assert [(r["a_memory"], r["b_memory"]) for r in rows] == [(text[a], text[b]) for (a, b), _ in expected]
        limited = run_analytics(runtime, name, cube_id=cube, threshold=0.9, limit=1, **extra)
        assert [[r["a_id"], r["b_id"]] for r in limited] == [expected[0][0]]
        assert run_analytics(runtime, name, cube_id=cube, threshold=0.999, limit=10, **extra) == []
    # k counts the memory itself (and its verbatim copy in the other cube): one neighbour finds nothing.
    assert run_analytics(runtime, "duplicate_candidates", cube_id=cube, threshold=0.9, limit=10, candidates=1) == []


def cosine(a: list[float], b: list[float]) -> float:
    """Cosine similarity of two vectors."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return float(dot / ((sum(x * x for x in a) ** 0.5) * (sum(y * y for y in b) ** 0.5)))


# -- stale cubes and sizes ----------------------------------------------------------------------------------


def test_stale_cubes(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    owner = root.create_user(uid("owner"), UserRole.USER)
    reader = root.create_user(uid("reader"), UserRole.USER)
    forgotten = root.create_cube_for_user("forgotten", owner_id=owner, cube_id=uid("cube-1-forgotten"))
    revisited = root.create_cube_for_user("revisited", owner_id=owner, cube_id=uid("cube-2-revisited"))
    unloaded = root.create_cube_for_user("unloaded", owner_id=owner, cube_id=uid("cube-3-unloaded"))
    fresh = root.create_cube_for_user("fresh", owner_id=owner, cube_id=uid("cube-4-fresh"))
    root.share_cube_with_user(revisited, reader)
    root.register_mem_cube(revisited, user_id=reader)
    root.unregister_mem_cube(unloaded, user_id=owner)
    older, newer = root.add(memory_content=["An old note", "A newer note"], mem_cube_id=forgotten, user_id=owner)
    set_created_at(
        runtime,
        [forgotten],
        {older: dt.datetime(2001, 1, 1, tzinfo=UTC), newer: dt.datetime(2001, 6, 1, 12, 30, tzinfo=UTC)},
    )
    now = dt.datetime.now(UTC).replace(microsecond=0)
    long_ago = now - dt.timedelta(days=40)
    # One old load as a local datetime (as graphs written through neomodel, before issue 15, hold them) and one
    # as a zoned datetime: both must compare.
    loads = [
        {"user": owner, "cube": forgotten, "since": long_ago.replace(tzinfo=None)},
        {"user": owner, "cube": revisited, "since": long_ago},
        {"user": reader, "cube": revisited, "since": now - dt.timedelta(days=5)},
        {"user": owner, "cube": fresh, "since": now - dt.timedelta(days=1)},
    ]
    updated = runtime.store.run_statement(
        "UNWIND $loads AS load MATCH (:User {id: load.user})-[l:LOADED]->(c:MemCube {id: load.cube}) "
        "WHERE c.id IN $cubes SET l.since = load.since RETURN count(l) AS n",
        loads=loads,
        cubes=[forgotten, revisited, fresh],
    )
    assert updated[0]["n"] == len(loads)

    rows = run_analytics(runtime, "stale_cubes", days=30)
    mine = {forgotten, revisited, unloaded, fresh}
    got = [
        (
            r["cube_id"],
            r["cube_name"],
            r["owner_id"],
            r["memories"],
            native(r["last_memory_at"]),
            native(r["last_loaded_at"]),
            r["loaded_by"],
        )
        for r in rows
        if r["cube_id"] in mine
    ]
    assert got == [
        (unloaded, "unloaded", owner, 0, None, None, 0),
        (forgotten, "forgotten", owner, 2, dt.datetime(2001, 6, 1, 12, 30, tzinfo=UTC), long_ago, 1),
    ]
    recent = {r["cube_id"] for r in run_analytics(runtime, "stale_cubes", days=3)}
    assert {forgotten, revisited, unloaded} <= recent and fresh not in recent


def native(value: Any) -> Any:
    """A neo4j temporal value as its Python equivalent; anything else unchanged."""
    return value.to_native() if hasattr(value, "to_native") else value


def test_cube_sizes(document_mos: MOS, runtime: Runtime, tmp_path: Path, uid: Callable[[str], str]) -> None:
    owner = document_mos.create_user(uid("owner"), UserRole.USER)
    friend = document_mos.create_user(uid("friend"), UserRole.USER)
    busy = document_mos.create_cube_for_user("busy", owner_id=owner)
    empty = document_mos.create_cube_for_user("empty", owner_id=owner)
    document_mos.share_cube_with_user(busy, friend)
    first, _ = document_mos.add(memory_content=["Note one", "Note two"], mem_cube_id=busy, user_id=owner)
    document_mos.add(messages=CONVERSATION, mem_cube_id=busy, user_id=owner)
    (tmp_path / "guide.txt").write_text("Water the ferns on Sundays.")
    document_mos.add(doc_path=str(tmp_path / "guide.txt"), mem_cube_id=busy, user_id=owner)
    document_mos.update(busy, first, TextualMemoryItem(memory="Note one, revised"), user_id=owner)
    document_mos.update(busy, first, TextualMemoryItem(memory="Note one, revised twice"), user_id=owner)

    rows = run_analytics(runtime, "cube_sizes", owner_id=owner, limit=10)
    got = [
        (
            r["cube_id"],
            r["cube_name"],
            r["owner_id"],
            r["is_active"],
            r["memories"],
            r["by_source"],
            r["versions"],
            r["messages"],
            r["documents"],
            r["shared_with"],
        )
        for r in rows
    ]
    assert got == [
        (
            busy,
            "busy",
            owner,
            True,
            6,
            [
                {"source": "conversation", "memories": 3},
                {"source": "system", "memories": 2},
                {"source": "file", "memories": 1},
            ],
            2,
            3,
            1,
            1,
        ),
        (empty, "empty", owner, True, 0, [], 0, 0, 0, 0),
    ]
    assert [r["cube_id"] for r in run_analytics(runtime, "cube_sizes", owner_id=owner, limit=1)] == [busy]


def test_cube_timeline(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    user = root.create_user(uid("timeline"))
    cube = root.create_cube_for_user("timeline", owner_id=user)
    said = [
        ("1:56 pm on 8 May, 2023", "Melanie: I ran a charity race last Saturday"),
        ("1:56 pm on 8 May, 2023", "Caroline: That's great!"),
        ("7:55 pm on 9 June, 2023", "Caroline: I went to a pride parade yesterday"),
        ("10:37 am on 27 June, 2023", "Melanie: We went camping"),
    ]
    for chat_time, content in said:
        root.add(
            messages=[{"role": "user", "content": content, "chat_time": chat_time}], mem_cube_id=cube, user_id=user
        )
    window = {"since": dt.datetime(2023, 5, 1, tzinfo=UTC), "until": dt.datetime(2023, 6, 20, tzinfo=UTC)}
    rows = run_analytics(runtime, "cube_timeline", cube_id=cube, **window)
    got = [(r["memory_time"], r["time_source"], r["memory"].split("] ", 1)[1]) for r in rows]
    assert got == [
        ("2023-05-06", "text", "user: Melanie: I ran a charity race last Saturday"),
        ("2023-05-08", "chat_time", "user: Caroline: That's great!"),
        ("2023-06-08", "text", "user: Caroline: I went to a pride parade yesterday"),
    ]
    assert rows[0]["event_start"] == dt.datetime(2023, 5, 6, tzinfo=UTC)
    assert run_analytics(runtime, "cube_timeline", cube_id=uid("no-such-cube"), **window) == []
