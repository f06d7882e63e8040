"""Cross-tenant probes: user A calls every query and mutation of the schema with user B's ids.

B (a USER) has a cube with memories, an updated memory (history), conversation messages, a document and
chat turns, all carrying a secret marker. For every root field of the committed SDL, A (another USER) calls
it with B's cube, memory and user ids, and again with ids nobody holds. Nothing of B may come back (no
marker, no id A did not send), the answer for B's ids must be the answer for the ghost ids once the ids are
replaced by placeholders (so not even existence shows), and B's data must be unchanged afterwards.

A few operations claim an id in the global namespace (a cube id for createCube and importCube) or name a
share target; they cannot answer "taken" and "free" alike, so they have their own, narrower expectations
(see Expect). A field added to the schema without a probe here fails test_every_root_field_is_probed.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest

from testkit.security import Caller, SecurityEnv, codes, follow_rotation, root_field_names

pytestmark = pytest.mark.neo4j

ME = "{ me { user { userId name } accessibleCubes { cubeId name ownerId } } }"
USERS = "{ users { userId name } }"
CUBE = "query($c: ID!) { cube(id: $c) { cubeId name ownerId isLoaded canWrite owner { userId name } } }"
CUBES = "{ cubes { cubeId name ownerId owner { name } } }"
MEMORY_FIELDS = (
    "memoryId memory metadata { tags key sessionId version sources { content messageId docPath } } cube { cubeId name }"
)
MEMORY = f"query($c: ID!, $i: ID!) {{ memory(cubeId: $c, id: $i) {{ {MEMORY_FIELDS} }} }}"
VERSION_FIELDS = "id memoryId memory metadata { tags key sessionId version sources { content messageId docPath } }"
HISTORY = (
    f"query($c: ID!, $i: ID!) {{ memoryHistory(cubeId: $c, id: $i) {{ edges {{ node {{ {VERSION_FIELDS} }} }} }} }}"
)
MEMORIES = f"query($c: ID!) {{ memories(cubeId: $c, first: 100) {{ edges {{ node {{ {MEMORY_FIELDS} }} }} }} }}"
SEARCH = "query($q: String!, $cs: [ID!]) { search(query: $q, cubeIds: $cs, topK: 20) { textMem { cubeId memories { memoryId memory cube { cubeId } } } } }"  # noqa: E501
CREATE_USER = 'mutation($i: ID!) { createUser(input: {id: $i, name: "Mallory"}) { apiKey user { userId } } }'
ROTATE = "mutation { rotateApiKey }"
CREATE_CUBE = "mutation($i: CreateCubeInput!) { createCube(input: $i) { cubeId name ownerId } }"
REGISTER = "mutation($c: ID!) { registerCube(cubeId: $c) { cubeId name ownerId } }"
UNREGISTER = "mutation($c: ID!) { unregisterCube(cubeId: $c) }"
SHARE = "mutation($c: ID!, $u: ID!) { shareCube(cubeId: $c, userId: $u, permission: WRITE) }"
ADD = "mutation($i: AddMemoriesInput!) { addMemories(input: $i) { cubeId ids } }"
UPDATE = f"mutation($i: UpdateMemoryInput!) {{ updateMemory(input: $i) {{ {MEMORY_FIELDS} }} }}"
DELETE = "mutation($c: ID!, $i: ID!) { deleteMemory(cubeId: $c, id: $i) }"
DELETE_ALL = "mutation($c: ID) { deleteAllMemories(cubeId: $c) }"
CHAT = "mutation($q: String!, $s: String) { chat(query: $q, sessionId: $s) }"
CLEAR = "mutation { clearMessages }"
DUMP = "mutation($c: ID!, $d: String!) { dumpCube(cubeId: $c, dumpDir: $d) { cubeId path memories } }"
REVOKE = "mutation($c: ID!, $u: ID!) { revokeShare(cubeId: $c, userId: $u) }"
DELETE_CUBE = "mutation($c: ID!) { deleteCube(cubeId: $c) }"
RESET_KEY = "mutation($u: ID!) { resetApiKey(userId: $u) }"
DEACTIVATE = "mutation($u: ID!) { deactivateUser(userId: $u) { userId isActive } }"
REACTIVATE = "mutation($u: ID!) { reactivateUser(userId: $u) { userId isActive } }"
DELETE_USER = "mutation($u: ID!) { deleteUser(userId: $u) }"
NODE = "query($i: ID!) { node(id: $i) { id __typename ... on MemCube { cubeId name } ... on Memory { memoryId memory } ... on User { userId name } } }"  # noqa: E501
FILTERED = 'query($q: String!, $cs: [ID!]) { search(query: $q, cubeIds: $cs, filter: {tagsAny: ["x"]}) { textMem { memories { memoryId } } } }'  # noqa: E501
# Every traversal field, walked from A's own roots: nothing of B may be reachable this way.
WALK_MEMORY = (
    "memoryId memory cube { cubeId } history { edges { node { id memory } } } "
    "derivedFrom { kind node { __typename ... on Message { key content next { key content memories { memoryId memory } }"  # noqa: E501
    " previous { key content } memories { memoryId memory } } ... on Document { key path chunks { memoryId memory } }"
    " ... on MemoryVersion { id memory } } }"
)
WALK = (
    "query($c: ID!) { me { user { userId cubes { cubeId } } accessibleCubes { cubeId owner { userId "
    "cubes { cubeId name } } sharedWith { permission node { userId name } } } } "
    "cube(id: $c) { cubeId owner { userId } sharedWith { permission node { userId name cubes { cubeId name } } } "
    "memories(first: 100, orderBy: {field: UPDATED_AT, direction: DESC}) { totalCount edges { node { "
    f"{WALK_MEMORY} }} }} }} }} }}"
)


def global_id(type_name: str, key: str) -> str:
    from strawberry.relay import GlobalID

    return str(GlobalID(type_name, key))


IMPORT = "mutation($p: String!, $c: ID) { importCube(path: $p, cubeId: $c) { cubeId memories newIds reembedded } }"


# Values the probes need that only the fixture knows; substituted in `run`.
A_PLACEHOLDER = "<A>"
A_DUMP = "<A-DUMP>"
SECRET = f"zircon{uuid.uuid4().hex[:8]}"
SECRET_QUERY = "What is the vault combination, and where is the spare key?"  # B's memories, not B's marker
B_SESSION = f"bravo-session-{SECRET}"
B_TEXTS = [
    f"The {SECRET} vault combination is 31-7-12",
    f"B's {SECRET} doctor appointment is on Friday",
    f"B hides the {SECRET} spare key under the blue pot",
]


class Expect(Enum):
    """What B's ids may change about the answer, against ids nobody holds."""

    SAME = "identical after the ids are replaced by placeholders"
    NO_LEAK = "no ids to compare (the caller's own data): only no leak and B unchanged"
    # Cube ids are one namespace for everybody: claiming B's must fail, and can only fail as "taken".
    CLAIM = "CONFLICT \"cube id '<CUBE>' is taken\" for B's id; the ghost id is claimed"
    # A cube's owner must learn whether the user it shares with exists.
    SHARE_TARGET = "the share with B succeeds; with the ghost user NOT_FOUND"
    # An import whose memory ids the graph holds gets new ids and says so (newIds), wherever they are held.
    ID_ORACLE = "only newIds differs"


@dataclass(frozen=True)
class Ids:
    """The ids a probe aims at: B's, or ghosts; `own_cube` is always A's."""

    cube: str
    memory: str
    user: str
    own_cube: str
    transfer: str  # the transfer root, where importCube probes write their directories
    caller: str  # A's user id: its own area <transfer>/<A>/ takes directories nobody dumped


Call = Callable[[Ids], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Probe:
    field: str
    variant: str
    call: Call
    expect: Expect = Expect.SAME
    expected_code: str | None = None  # the refusal both answers must carry, where there is one
    control: str | None = None  # text the answer (or the chat prompt) must hold: the operation did its work

    @property
    def name(self) -> str:
        return f"{self.field}: {self.variant}"


def oracle_directory(ids: Ids) -> tuple[str, dict[str, Any]]:
    """A MemOS general_text cube directory whose one memory has the target's memory id."""
    from pathlib import Path

    name = f"oracle-{ids.memory}"
    directory = Path(ids.transfer) / ids.caller / name  # A's own area: a directory no dump wrote
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps({"text_mem": {"backend": "general_text"}}))
    entry = {"id": ids.memory, "vector": None, "payload": {"memory": "An imported note about tulips"}}
    (directory / "textual_memory.json").write_text(json.dumps([entry]))
    return IMPORT, {"p": name, "c": name}  # relative paths start in the caller's own area


PROBES = [
    Probe("me", "the caller's own view", lambda t: (ME, {}), Expect.NO_LEAK),
    Probe(
        "me",
        "every traversal field from A's cubes",
        lambda t: (WALK, {"c": t.own_cube}),
        Expect.NO_LEAK,
        control="Alice",
    ),
    Probe("node", "B's cube", lambda t: (NODE, {"i": global_id("MemCube", t.cube)})),
    Probe("node", "B's memory", lambda t: (NODE, {"i": global_id("Memory", t.memory)})),
    Probe("node", "B", lambda t: (NODE, {"i": global_id("User", t.user)})),
    Probe(
        "node",
        "B's message",
        lambda t: (NODE, {"i": global_id("Message", json.dumps([t.cube, f"m-{SECRET}"], separators=(",", ":")))}),
    ),
    Probe(
        "search",
        "a filter, cubeIds: [B's cube]",
        lambda t: (FILTERED, {"q": "tulips", "cs": [t.cube]}),
        expected_code="FORBIDDEN",
    ),
    Probe("users", "a USER lists users", lambda t: (USERS, {}), expected_code="FORBIDDEN"),
    Probe("cube", "B's cube", lambda t: (CUBE, {"c": t.cube}), expected_code="FORBIDDEN"),
    Probe("cubes", "the caller's own list", lambda t: (CUBES, {}), Expect.NO_LEAK),
    Probe("memory", "B's cube and memory", lambda t: (MEMORY, {"c": t.cube, "i": t.memory}), expected_code="FORBIDDEN"),
    Probe(
        "memory",
        "B's memory in A's cube",
        lambda t: (MEMORY, {"c": t.own_cube, "i": t.memory}),
        expected_code="NOT_FOUND",
    ),
    Probe(
        "memoryHistory",
        "B's cube and memory",
        lambda t: (HISTORY, {"c": t.cube, "i": t.memory}),
        expected_code="FORBIDDEN",
    ),
    Probe(
        "memoryHistory",
        "B's memory in A's cube",
        lambda t: (HISTORY, {"c": t.own_cube, "i": t.memory}),
        expected_code="NOT_FOUND",
    ),
    Probe("memories", "B's cube", lambda t: (MEMORIES, {"c": t.cube}), expected_code="FORBIDDEN"),
    Probe(
        "search", "cubeIds: [B's cube]", lambda t: (SEARCH, {"q": "tulips", "cs": [t.cube]}), expected_code="FORBIDDEN"
    ),
    Probe(
        "search",
        "cubeIds: [A's cube, B's cube]",
        lambda t: (SEARCH, {"q": "tulips", "cs": [t.own_cube, t.cube]}),
        expected_code="FORBIDDEN",
    ),
    Probe(
        "search",
        "A's loaded cubes, B's secret as the query",
        lambda t: (SEARCH, {"q": SECRET_QUERY}),
        Expect.NO_LEAK,
        control="Alice",
    ),
    Probe("createUser", "B's user id", lambda t: (CREATE_USER, {"i": t.user}), expected_code="FORBIDDEN"),
    Probe(
        "createCube",
        "owned by B",
        lambda t: (CREATE_CUBE, {"i": {"name": "mine", "ownerId": t.user}}),
        expected_code="FORBIDDEN",
    ),
    Probe("createCube", "B's cube id", lambda t: (CREATE_CUBE, {"i": {"name": "mine", "id": t.cube}}), Expect.CLAIM),
    Probe("registerCube", "B's cube", lambda t: (REGISTER, {"c": t.cube}), expected_code="FORBIDDEN"),
    Probe("unregisterCube", "B's cube", lambda t: (UNREGISTER, {"c": t.cube}), expected_code="NOT_FOUND"),
    Probe(
        "revokeShare",
        "A's share of B's cube",
        lambda t: (REVOKE, {"c": t.cube, "u": A_PLACEHOLDER}),
        expected_code="FORBIDDEN",
    ),
    Probe(
        "revokeShare",
        "B's share of B's cube",
        lambda t: (REVOKE, {"c": t.cube, "u": t.user}),
        expected_code="FORBIDDEN",
    ),
    # Before A shares its cube with B (below): no share yet, so B and the ghost both get NOT_FOUND.
    Probe(
        "revokeShare",
        "a share of A's cube with B",
        lambda t: (REVOKE, {"c": t.own_cube, "u": t.user}),
        expected_code="NOT_FOUND",
    ),
    Probe("deleteCube", "B's cube", lambda t: (DELETE_CUBE, {"c": t.cube}), expected_code="FORBIDDEN"),
    Probe("resetApiKey", "B's key", lambda t: (RESET_KEY, {"u": t.user}), expected_code="FORBIDDEN"),
    Probe("deactivateUser", "B", lambda t: (DEACTIVATE, {"u": t.user}), expected_code="FORBIDDEN"),
    Probe("reactivateUser", "B", lambda t: (REACTIVATE, {"u": t.user}), expected_code="FORBIDDEN"),
    Probe("deleteUser", "B", lambda t: (DELETE_USER, {"u": t.user}), expected_code="FORBIDDEN"),
    Probe(
        "shareCube", "B's cube with A", lambda t: (SHARE, {"c": t.cube, "u": A_PLACEHOLDER}), expected_code="FORBIDDEN"
    ),
    Probe("shareCube", "A's cube with B", lambda t: (SHARE, {"c": t.own_cube, "u": t.user}), Expect.SHARE_TARGET),
    Probe(
        "addMemories",
        "content into B's cube",
        lambda t: (ADD, {"i": {"cubeId": t.cube, "content": ["A was here"]}}),
        expected_code="FORBIDDEN",
    ),
    Probe(
        "addMemories",
        "messages into B's cube",
        lambda t: (ADD, {"i": {"cubeId": t.cube, "messages": [{"role": "user", "content": "A was here"}]}}),
        expected_code="FORBIDDEN",
    ),
    Probe(
        "addMemories",
        "a document into B's cube",
        lambda t: (ADD, {"i": {"cubeId": t.cube, "docPath": "notes.md"}}),
        expected_code="FORBIDDEN",
    ),
    Probe(
        "updateMemory",
        "B's cube and memory",
        lambda t: (UPDATE, {"i": {"cubeId": t.cube, "id": t.memory, "memory": "A was here", "tags": ["a"]}}),
        expected_code="FORBIDDEN",
    ),
    Probe(
        "updateMemory",
        "B's memory in A's cube",
        lambda t: (UPDATE, {"i": {"cubeId": t.own_cube, "id": t.memory, "memory": "A was here"}}),
        expected_code="NOT_FOUND",
    ),
    Probe(
        "deleteMemory",
        "B's cube and memory",
        lambda t: (DELETE, {"c": t.cube, "i": t.memory}),
        expected_code="FORBIDDEN",
    ),
    Probe(
        "deleteMemory",
        "B's memory in A's cube",
        lambda t: (DELETE, {"c": t.own_cube, "i": t.memory}),
        expected_code="NOT_FOUND",
    ),
    Probe(
        "chat",
        "B's secret as the query, B's session",
        lambda t: (CHAT, {"q": SECRET_QUERY, "s": B_SESSION}),
        Expect.NO_LEAK,
        control="Alice",
    ),
    Probe("dumpCube", "B's cube", lambda t: (DUMP, {"c": t.cube, "d": "stolen-dump"}), expected_code="FORBIDDEN"),
    Probe("importCube", "into B's cube id", lambda t: (IMPORT, {"p": A_DUMP, "c": t.cube}), Expect.CLAIM),
    Probe("importCube", "a directory holding B's memory id", oracle_directory, Expect.ID_ORACLE),
    Probe("rotateApiKey", "the caller's own key", lambda t: (ROTATE, {}), Expect.NO_LEAK),
    Probe("clearMessages", "the caller's own history", lambda t: (CLEAR, {}), Expect.NO_LEAK),
    Probe("deleteAllMemories", "B's cube", lambda t: (DELETE_ALL, {"c": t.cube}), expected_code="FORBIDDEN"),
    # Last: it empties A's own cubes.
    Probe("deleteAllMemories", "every cube A may write", lambda t: (DELETE_ALL, {"c": None}), Expect.NO_LEAK),
]


@dataclass
class Tenants:
    a: Caller
    b: Caller
    a_cube: str
    a_dump: str
    b_cube: str
    b_memories: list[str]
    b_updated: str
    b_ids: set[str]


def b_state(env: SecurityEnv, t: Tenants) -> dict[str, Any]:
    """Everything of B's a probe could have changed: what B reads through the API, and node counts."""
    api = t.b
    state: dict[str, Any] = {
        "memories": env.api.ok(api.key, MEMORIES, c=t.b_cube),
        "history": env.api.ok(api.key, HISTORY, c=t.b_cube, i=t.b_updated),
        "cube": env.api.ok(api.key, CUBE, c=t.b_cube),
    }
    for label in ("Memory", "MemoryVersion", "Message", "Document"):
        state[label] = env.count(f"MATCH (n:{label} {{cube_id: $c}}) RETURN count(n) AS n", c=t.b_cube)
    state["turns"] = env.count("MATCH (t:ChatTurn {user_id: $u}) RETURN count(t) AS n", u=t.b.user_id)
    state["relations"] = sorted(
        (r["type"], r["other"])
        for r in env.runtime.store.run_statement(
            "MATCH (:MemCube {id: $c})-[r]-(o) WHERE NOT o:Memory RETURN type(r) AS type, coalesce(o.id, '') AS other",
            c=t.b_cube,
        )
    )
    return state


@pytest.fixture(scope="module")
def tenants(security_env: SecurityEnv) -> Tenants:
    env = security_env
    a = env.caller("alice")
    b = env.caller("bravo", name=f"Bravo {SECRET}")
    a_cube = env.cube(a, "alice notes")
    env.add(a, a_cube, "Alice grows tulips on the balcony", "Alice's bike is red")
    a_dump = f"alice-dump-{uuid.uuid4().hex[:8]}"
    env.api.ok(a.key, DUMP, c=a_cube, d=a_dump)
    (env.roots.documents / a.user_id).mkdir()  # A's own document, for the probe that adds it to B's cube
    shutil.copy(env.roots.documents / "notes.md", env.roots.documents / a.user_id / "notes.md")

    b_cube = env.cube(b, f"bravo vault {SECRET}")
    b_memories = env.add(b, b_cube, *B_TEXTS)
    env.api.ok(
        b.key,
        UPDATE,
        i={
            "cubeId": b_cube,
            "id": b_memories[0],
            "memory": f"The {SECRET} vault code is 4-4-2",
            "tags": [SECRET],
            "key": SECRET,
            "extra": {"marker": SECRET},
        },
    )
    messages = [
        {
            "role": "user",
            "content": f"My {SECRET} passport number is X123",
            "messageId": f"m-{SECRET}",
            "chatTime": "2 May 2024",
        },
        {"role": "assistant", "content": f"Noted the {SECRET} passport"},
    ]
    added = env.api.ok(b.key, ADD, i={"cubeId": b_cube, "messages": messages, "sessionId": B_SESSION})
    document = f"bravo-{SECRET}.md"
    (env.roots.documents / b.user_id).mkdir()  # B's own area of the document root
    (env.roots.documents / b.user_id / document).write_text(f"# Bravo\n\nThe {SECRET} safe is behind the painting.\n")
    documented = env.api.ok(b.key, ADD, i={"cubeId": b_cube, "docPath": document})
    env.llm.reset(f"Your {SECRET} answer")
    env.api.ok(b.key, CHAT, q=f"Remember my {SECRET} locker", s=B_SESSION)
    ids = {b.user_id, b_cube, *b_memories, *added["addMemories"]["ids"], *documented["addMemories"]["ids"]}
    return Tenants(a, b, a_cube, a_dump, b_cube, b_memories, b_memories[0], ids)


@pytest.fixture(scope="module")
def baseline(security_env: SecurityEnv, tenants: Tenants) -> dict[str, Any]:
    state = b_state(security_env, tenants)
    assert state["Memory"] == 6 and state["MemoryVersion"] == 1 and state["Message"] == 2
    assert state["Document"] == 1 and state["turns"] == 2
    return state


def normalise(value: object, replacements: dict[str, str]) -> Any:
    """The value with every id replaced by its placeholder (longest ids first)."""
    text = json.dumps(value, sort_keys=True)
    for original in sorted(replacements, key=len, reverse=True):
        text = text.replace(original, replacements[original])
    return json.loads(text)


def substitute(variables: dict[str, Any], t: Tenants) -> dict[str, Any]:
    text = json.dumps(variables).replace(json.dumps(A_PLACEHOLDER), json.dumps(t.a.user_id))
    return dict(json.loads(text.replace(json.dumps(A_DUMP), json.dumps(t.a_dump))))


def run(env: SecurityEnv, t: Tenants, probe: Probe, ids: Ids) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send the probe as A; (variables sent, response body)."""
    query, variables = probe.call(ids)
    variables = substitute(variables, t)
    response = env.api.post(t.a.key, query, variables)
    assert response.status_code == 200, response.text[:300]
    follow_rotation(response, t.a)
    body: dict[str, Any] = response.json()
    return variables, body


def leaked(body: dict[str, Any], sent: dict[str, Any], t: Tenants) -> list[str]:
    """B's marker, or B's ids A did not send, anywhere in the answer."""
    text = json.dumps(body, ensure_ascii=False)
    sent_text = json.dumps(sent)
    found = [SECRET] if SECRET in text else []
    return found + sorted(i for i in t.b_ids if i in text and i not in sent_text)


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.name)
def test_b_is_invisible_and_untouched(
    security_env: SecurityEnv, tenants: Tenants, baseline: dict[str, Any], probe: Probe
) -> None:
    env, t = security_env, tenants
    token = uuid.uuid4().hex[:8]
    transfer = str(env.roots.transfer)
    victim = Ids(t.b_cube, t.b_memories[1], t.b.user_id, t.a_cube, transfer, t.a.user_id)
    ghost = Ids(f"ghost-cube-{token}", str(uuid.uuid4()), f"ghost-user-{token}", t.a_cube, transfer, t.a.user_id)
    env.llm.reset("The assistant answers.")

    sent_b, body_b = run(env, t, probe, victim)
    sent_g, body_g = run(env, t, probe, ghost)
    prompts = json.dumps(env.llm.requests, ensure_ascii=False)

    assert not leaked(body_b, sent_b, t), f"B's data in the answer: {leaked(body_b, sent_b, t)}: {body_b}"
    assert not leaked(body_g, sent_g, t), body_g
    assert SECRET not in prompts, "B's memories or chat turns reached A's chat prompt"
    if probe.control is not None:
        assert probe.control in json.dumps(body_b) + prompts, "the operation found none of A's own memories"
    placeholders = {
        victim.cube: "<CUBE>",
        ghost.cube: "<CUBE>",
        victim.memory: "<MEMORY>",
        ghost.memory: "<MEMORY>",
        victim.user: "<USER>",
        ghost.user: "<USER>",
    }
    seen_b, seen_g = normalise(body_b, placeholders), normalise(body_g, placeholders)
    if probe.expected_code is not None:
        assert codes(body_b) == [probe.expected_code], body_b
    if probe.expect is Expect.SAME:
        assert seen_b == seen_g, f"B's ids answer differently from ids nobody holds:\n{seen_b}\n{seen_g}"
    elif probe.expect is Expect.CLAIM:
        assert codes(body_b) == ["CONFLICT"], body_b
        assert seen_b["errors"][0]["message"] == "cube id '<CUBE>' is taken", seen_b
        assert body_g.get("errors") is None, body_g
    elif probe.expect is Expect.SHARE_TARGET:
        assert body_b == {"data": {"shareCube": True}}, body_b
        assert codes(body_g) == ["NOT_FOUND"] and seen_g["errors"][0]["message"] == "user '<USER>' not found"
    elif probe.expect is Expect.ID_ORACLE:
        assert body_b["data"]["importCube"]["newIds"] is True and body_g["data"]["importCube"]["newIds"] is False
        seen_b["data"]["importCube"].pop("newIds")
        seen_g["data"]["importCube"].pop("newIds")
        assert seen_b == seen_g
        copied = env.api.ok(t.a.key, MEMORIES, c=body_b["data"]["importCube"]["cubeId"])["memories"]["edges"]
        assert [edge["node"]["memoryId"] for edge in copied] != [victim.memory]

    assert b_state(env, t) == baseline, "B's data changed"
    assert not (env.roots.transfer / "stolen-dump").exists()
    assert not (env.roots.transfer / t.a.user_id / "stolen-dump").exists()


def test_every_root_field_is_probed() -> None:
    """A field added to the schema needs a probe in PROBES."""
    probed = {probe.field for probe in PROBES}
    assert probed == set(root_field_names("query")) | set(root_field_names("mutation"))


def test_a_never_sees_b_after_the_probes(security_env: SecurityEnv, tenants: Tenants, baseline: dict[str, Any]) -> None:
    """A's own views, once every probe ran: none of B's cubes, memories or markers."""
    env, t = security_env, tenants
    probed = {"ids A sent in probes (its own cubes may be named after them)": [t.b_cube, t.b_memories[1], t.b.user_id]}
    for query in (ME, CUBES):
        body = env.api.ok(t.a.key, query)
        assert not leaked(body, probed, t), body
    found = env.api.ok(t.a.key, SEARCH, q=SECRET_QUERY)
    assert not leaked(found, probed, t), found
    assert b_state(env, t) == baseline
