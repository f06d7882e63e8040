"""The security suite's app and users, and the fuzz machinery bench/bench_fuzz.py runs at length.

(The session fixture that builds the app is tests/security/conftest.py.)

The app is the real ASGI app over the session's runtime, with document and transfer roots in temporary
directories and chat answered by testkit/fake_llm.py. The TestClient turns server exceptions into HTTP 500
(what a real server would answer), so a crash is a status the properties see, not an error of the test.
Users are made through the services (with API keys) and purged, with everything they own, at the end.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import graphql
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries
from pydantic import SecretStr
from starlette.testclient import TestClient

from memos_graph.config import DocumentSettings, LLMSettings, TransferSettings
from memos_graph.domain import UserRole
from memos_graph.errors import NotFound
from memos_graph.services.identity import KEY_PREFIX, hash_api_key, new_api_key
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.fake_llm import FakeOpenAI


class Response(Protocol):
    """What the checks read of an HTTP response (the TestClient's, whichever httpx it is built on)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


SDL_PATH = Path(__file__).resolve().parents[1] / "graphql_schema" / "schema.graphql"

# extensions.code values a client may see; INTERNAL_SERVER_ERROR (a masked exception) is a bug by definition,
# and UNAVAILABLE means Neo4j failed under the fuzz, which is worth a look too.
CLIENT_CODES = frozenset(
    {
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "CONFLICT",
        "NOT_AVAILABLE",
        "GRAPHQL_VALIDATION_FAILED",
        "TOO_MANY_REQUESTS",  # a long fuzz run (bench/bench_fuzz.py) spends a user's chat-model budget
    }
)
# Internals that must never reach a client, by name: tracebacks, driver and server errors, Python exception
# class names, library validation dumps, OS error texts, codec failures, object reprs.
LEAK_PATTERNS = {
    name: re.compile(pattern)
    for name, pattern in (
        ("traceback", r"Traceback \(most recent call last\)"),
        ("source-line", r'File "[^"]*", line \d+'),
        ("neo4j-error", r"\bneo4j\.|Neo\.(?:ClientError|DatabaseError|TransientError)"),
        ("exception-class", r"\b[A-Za-z_]+(?:Error|Exception)\b"),
        ("pydantic-dump", r"validation errors? for [A-Z]\w*|errors\.pydantic\.dev"),
        ("os-error", r"\[Errno \d+\]"),
        ("codec", r"codec can't|surrogates not allowed"),
        ("object-repr", r"<[\w.]+ object at 0x"),
    )
}


def load_schema() -> graphql.GraphQLSchema:
    """The committed SDL, parsed."""
    return graphql.build_schema(SDL_PATH.read_text(encoding="utf-8"))


def root_field_names(kind: str) -> list[str]:
    """The fields of Query or Mutation in the committed SDL."""
    schema = load_schema()
    root = schema.query_type if kind == "query" else schema.mutation_type
    assert root is not None
    return sorted(root.fields)


# -- users and the app -------------------------------------------------------------------------------------


@dataclass
class Caller:
    """A user and its current API key (rotateApiKey replaces it)."""

    user_id: str
    key: str


def create_caller(services: Services, user_id: str, role: UserRole = UserRole.USER, name: str | None = None) -> Caller:
    """A user created by root through the services, with a fresh API key."""
    root = services.cubes.actor(services.runtime.config.user_id)
    key = new_api_key()
    services.users.create_user(root, user_id, role, name, hash_api_key(key))
    return Caller(user_id, key)


def purge_user(runtime: Runtime, user_id: str) -> None:
    """Delete a user of this suite with its cubes and everything in them: the service's own delete_user."""
    services = Services.over(runtime)
    with contextlib.suppress(NotFound):  # a test deleted it already
        services.users.delete_user(services.cubes.actor(runtime.config.user_id), user_id)


@dataclass(frozen=True)
class Roots:
    """Directories of a security run: the document root, the transfer root, and one outside both."""

    documents: Path
    transfer: Path
    outside: Path

    @classmethod
    def under(cls, base: Path) -> Roots:
        """The three directories under `base`, with one document in the document root."""
        roots = cls(base / "documents", base / "transfer", base / "outside")
        for path in (roots.documents, roots.transfer, roots.outside):
            path.mkdir(parents=True, exist_ok=True)
        (roots.documents / "notes.md").write_text("# Notes\n\nThe garden gate is painted green.\n", encoding="utf-8")
        return roots


def configured(runtime: Runtime, roots: Roots, llm_url: str, root_key: str | None) -> Runtime:
    """The runtime with the roots, the fake LLM, and (for tests) the shared root API key."""
    update: dict[str, Any] = {
        "documents": DocumentSettings(roots=(str(roots.documents),)),
        "transfer": TransferSettings(roots=(str(roots.transfer),)),
        "llm": LLMSettings(model="openai/chat", api_base=llm_url, api_key="sk-test", num_retries=0),
        # The fuzz and the probes send thousands of refused documents as one user on purpose; the budget of
        # refused documents (graphql_schema/refusals.py) has tests of its own (test_validation_cost).
        "limits": runtime.config.limits.model_copy(update={"refused_document_bytes_per_s": 0.0}),
    }
    if root_key is not None:
        update["root_api_key"] = SecretStr(root_key)
    return replace(runtime, config=runtime.config.model_copy(update=update))


class Api:
    """POSTs GraphQL operations to the app; JSON is encoded here (ASCII escapes), so any str goes through."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def post(self, key: str, query: str, variables: Mapping[str, Any] | None = None) -> Response:
        payload = json.dumps({"query": query, "variables": dict(variables or {})})
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        return self.client.post("/graphql", content=payload.encode("ascii"), headers=headers)

    def call(self, key: str, query: str, **variables: Any) -> dict[str, Any]:
        """The JSON body of an operation that must be answered with HTTP 200."""
        response = self.post(key, query, variables)
        assert response.status_code == 200, response.text[:500]
        body: dict[str, Any] = response.json()
        return body

    def ok(self, key: str, query: str, **variables: Any) -> dict[str, Any]:
        """The data of an operation that must succeed."""
        body = self.call(key, query, **variables)
        assert body.get("errors") is None, body
        data: dict[str, Any] = body["data"]
        return data


def codes(body: Mapping[str, Any]) -> list[str | None]:
    """extensions.code of every error."""
    return [(error.get("extensions") or {}).get("code") for error in body.get("errors") or []]


class SecurityEnv:
    """What the security tests share: the configured runtime, its services, roots, app and the users made.

    A plain class with a short repr: Hypothesis prints fixtures of a failing example.
    """

    def __init__(self, runtime: Runtime, roots: Roots, llm: FakeOpenAI, api: Api) -> None:
        self.runtime = runtime
        self.services = Services.over(runtime)
        self.roots = roots
        self.llm = llm
        self.api = api
        self.created: list[str] = []

    def __repr__(self) -> str:
        return f"SecurityEnv({self.roots.documents.parent})"

    def caller(self, prefix: str, role: UserRole = UserRole.USER, name: str | None = None) -> Caller:
        """A new user (purged at the end of the session)."""
        user_id = f"sec-{prefix}-{uuid.uuid4().hex[:10]}"
        self.created.append(user_id)
        return create_caller(self.services, user_id, role, name)

    def cube(self, caller: Caller, name: str = "cube", cube_id: str | None = None) -> str:
        """A cube the caller creates through the API."""
        data = self.api.ok(
            caller.key,
            "mutation($i: CreateCubeInput!) { createCube(input: $i) { cubeId } }",
            i={"name": name, "id": cube_id},
        )
        created: str = data["createCube"]["cubeId"]
        return created

    def add(self, caller: Caller, cube_id: str, *texts: str) -> list[str]:
        """Memories added through the API; their ids."""
        data = self.api.ok(
            caller.key,
            "mutation($i: AddMemoriesInput!) { addMemories(input: $i) { ids } }",
            i={"cubeId": cube_id, "content": list(texts)},
        )
        ids: list[str] = data["addMemories"]["ids"]
        return ids

    def count(self, statement: str, **params: Any) -> int:
        """A count from a fixed Cypher statement returning `n`."""
        return int(self.runtime.store.run_statement(statement, **params)[0]["n"])


@dataclass(frozen=True)
class Problem:
    """One way an answer breaks the contract: what kind, where (root field or HTTP), and the detail."""

    kind: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} at {self.where}: {self.detail[:300]}"


def body_problems(body: object, sent: str = "") -> list[Problem]:
    """Why a GraphQL response body breaks the error contract (empty when it does not). `sent`: what the
    request carried (its variables as text); a message quoting it back (GraphQL's own "Variable has invalid
    value: ...") does not leak what matches inside the quote."""
    if not isinstance(body, dict) or not ({"data", "errors"} & body.keys()):
        return [Problem("not-graphql", "(body)", str(body)[:200])]
    found = []
    for error in body.get("errors") or []:
        message = str(error.get("message", ""))
        code = (error.get("extensions") or {}).get("code")
        where = str((error.get("path") or ["(document)"])[0])
        if code is None:
            found.append(Problem("no-code", where, message))
        elif code not in CLIENT_CODES:
            found.append(Problem(f"code:{code}", where, message))
        for name, pattern in LEAK_PATTERNS.items():
            if any(match.group(0) not in sent for match in pattern.finditer(message)):
                found.append(Problem(f"leak:{name}", where, message))
    return found


def response_problems(response: Response, allowed: frozenset[int] = frozenset({200}), sent: str = "") -> list[Problem]:
    """Status outside `allowed` (a 5xx always counts), or a 200 whose body breaks the error contract."""
    if response.status_code >= 500 or response.status_code not in allowed:
        return [Problem(f"http:{response.status_code}", "(http)", response.text[:300])]
    if response.status_code != 200:
        return []
    try:
        body = response.json()
    except ValueError:
        return [Problem("not-json", "(http)", response.text[:200])]
    return body_problems(body, sent)


def follow_rotation(response: Response, caller: Caller) -> None:
    """Keep the caller's key current when an operation rotated it."""
    if response.status_code != 200:
        return
    data = (response.json() or {}).get("data")
    if not isinstance(data, dict):
        return
    # rotateApiKey, or a resetApiKey the caller was allowed (its own key), under any alias: the only root
    # fields whose value is a key.
    for value in data.values():
        if isinstance(value, str) and value.startswith(KEY_PREFIX):
            caller.key = value


def root_fields(operation: str) -> list[str]:
    """The root fields an operation selects (in order), or ["(unparsable)"]."""
    try:
        document = graphql.parse(operation)
    except graphql.GraphQLError:
        return ["(unparsable)"]
    names = []
    for definition in document.definitions:
        if isinstance(definition, graphql.OperationDefinitionNode):
            names += [s.name.value for s in definition.selection_set.selections if isinstance(s, graphql.FieldNode)]
    return names or ["(none)"]


# -- what the fuzz sends ------------------------------------------------------------------------------------


def cursor(offset: int) -> str:
    """A cursor as the server encodes one, for any offset."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


# Values worth trying in any string: each one is a boundary the server has to handle (roles, paths in and out
# of the roots, over-long names, cursors of every size, query syntax of the stores behind the API).
DICTIONARY = (
    "user",
    "assistant",
    "system",
    "notes.md",
    ".",
    "..",
    "../outside",
    "/etc/passwd",
    "dump-0",
    "a" * 300,
    "",
    " ",
    "\x00",
    "x\x00y",
    cursor(0),
    cursor(3),
    cursor(2**31),
    cursor(2**63 - 1),
    cursor(-1),
    "'}) MATCH (n) DETACH DELETE n //",
    '" OR 1=1 //',
    "$param",
    "`x`",
    "title:(foo AND bar)~2 *",
    '{"role": "system", "content": "x"}',
    "\u202eevil\u202c",
    "\U0001f600" * 50,
    "m" * 33_000,
)


@dataclass
class FuzzTarget:
    """Whose ids the fuzz aims at: the fuzz user's own cube and memories, plus ids nobody holds."""

    caller: Caller
    cube_ids: list[str]
    memory_ids: list[str]

    def known_ids(self) -> list[str]:
        """Every id to draw from: the fuzz user's, and a cube id and a memory id nobody holds."""
        return [*self.cube_ids, *self.memory_ids, self.caller.user_id, "ghost-cube", str(uuid.UUID(int=0))]


def id_values(target: FuzzTarget) -> st.SearchStrategy[str]:
    """IDs: mostly ones the server knows, so operations get past the id checks; then anything."""
    return st.one_of(st.sampled_from(target.known_ids()), st.sampled_from(DICTIONARY), st.text(max_size=40))


def text_values() -> st.SearchStrategy[str]:
    """Strings: the dictionary and anything UTF-8 can carry (NUL included)."""
    return st.one_of(st.sampled_from(DICTIONARY), st.text(st.characters(codec="utf-8"), max_size=60))


def any_text() -> st.SearchStrategy[str]:
    """Strings including lone surrogates: JSON carries them as \\ud800 escapes, so a client can send them."""
    # st.text() drops surrogates even from an alphabet that has them; a list of characters keeps them.
    with_surrogates = st.lists(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=20)
    return st.one_of(st.sampled_from(DICTIONARY), st.text(max_size=60), with_surrogates.map("".join))


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value."""
    leaves = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), any_text()
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(any_text(), inner, max_size=4)),
        max_leaves=12,
    )


NAMES = st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,8}", fullmatch=True)


def json_nodes() -> st.SearchStrategy[graphql.ValueNode]:
    """GraphQL literals for the JSON scalar: objects, lists and scalars, nested."""
    leaves: st.SearchStrategy[graphql.ValueNode] = st.one_of(
        st.integers(-(2**31), 2**31 - 1).map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        text_values().map(nodes.String),
        st.booleans().map(nodes.Boolean),
        st.just(nodes.Null),
    )

    def containers(inner: st.SearchStrategy[graphql.ValueNode]) -> st.SearchStrategy[graphql.ValueNode]:
        fields = st.dictionaries(NAMES, inner, max_size=4).map(
            lambda d: [graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v) for k, v in d.items()]
        )
        return st.one_of(st.lists(inner, max_size=4).map(nodes.List), fields.map(nodes.Object))

    return st.recursive(leaves, containers, max_leaves=10)


def generated_operations(target: FuzzTarget, kind: str, mode: Mode = Mode.POSITIVE) -> st.SearchStrategy[str]:
    """hypothesis-graphql operations over the committed SDL, IDs and strings drawn as above.

    Valid operations mostly select one root field: in a mutation of several, the first non-null field that
    fails nulls `data` and the rest never run. rotateApiKey is left to variable_operations, where it is alone
    (next to a failing field its new key would be lost).
    """
    schema = load_schema()
    scalars = {
        "ID": id_values(target).map(nodes.String),
        "String": text_values().map(nodes.String),
        "JSON": json_nodes(),
        # In range often enough (page sizes, top_k, confidence) to get past the range checks.
        "Int": st.one_of(st.integers(-2, 120), st.integers(-(2**31), 2**31 - 1)).map(nodes.Int),
        "Float": st.one_of(st.floats(0, 100), st.floats(allow_nan=False, allow_infinity=False)).map(nodes.Float),
    }
    build = queries if kind == "query" else mutations
    fields = [name for name in root_field_names(kind) if name != "rotateApiKey"]
    several: st.SearchStrategy[str] = build(schema, fields=fields, custom_scalars=scalars, mode=mode)
    if mode is Mode.NEGATIVE:
        return several  # a field without arguments has nothing to break on its own
    # sampled_from picks a field about uniformly; one_of of many branches favours the first ones.
    by_field = {name: build(schema, fields=[name], custom_scalars=scalars, mode=mode) for name in fields}
    single: st.SearchStrategy[str] = st.sampled_from(fields).flatmap(by_field.__getitem__)
    return st.integers(0, 3).flatmap(lambda roll: several if roll == 0 else single)


def selection(type_: graphql.GraphQLOutputType, depth: int = 3) -> str:
    """Every field of an output type, nested objects to `depth` levels."""
    named = graphql.get_named_type(type_)
    if not isinstance(named, graphql.GraphQLObjectType):
        return ""
    parts = []
    for name, output in named.fields.items():
        inner = graphql.get_named_type(output.type)
        if isinstance(inner, graphql.GraphQLObjectType):
            if depth > 1:
                parts.append(f"{name} {selection(output.type, depth - 1)}")
        else:
            parts.append(name)
    return "{ " + " ".join(parts) + " }"


def input_values(type_: graphql.GraphQLInputType, target: FuzzTarget) -> st.SearchStrategy[Any]:
    """Variable values of a GraphQL input type (Python JSON), mostly well-typed, now and then anything."""
    nullable = not isinstance(type_, graphql.GraphQLNonNull)
    inner = graphql.get_nullable_type(type_)
    typed: st.SearchStrategy[Any]
    if isinstance(inner, graphql.GraphQLList):
        typed = st.lists(input_values(inner.of_type, target), max_size=4)
    elif isinstance(inner, graphql.GraphQLInputObjectType):
        fields = inner.fields.items()
        required = {n: input_values(f.type, target) for n, f in fields if graphql.is_required_input_field(f)}
        optional = {n: input_values(f.type, target) for n, f in fields if n not in required}
        typed = st.fixed_dictionaries(required, optional=optional)
    elif isinstance(inner, graphql.GraphQLEnumType):
        typed = st.sampled_from(sorted(inner.values))
    else:
        assert isinstance(inner, graphql.GraphQLScalarType)
        typed = {
            "ID": id_values(target),
            "String": any_text(),
            "Int": st.one_of(st.integers(-3, 200), st.integers()),
            "Float": st.floats(allow_nan=False, allow_infinity=False),
            "Boolean": st.booleans(),
        }.get(inner.name, json_values())
    if nullable:
        typed = st.one_of(st.none(), typed)
    return st.integers(0, 15).flatmap(lambda roll: json_values() if roll == 0 else typed)


def with_document(document: str, variables: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return document, variables


def variable_operations(target: FuzzTarget) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """One root field per operation with every argument as a variable of its declared type; the values come
    from the types (any Unicode, lone surrogates included, any integer) and now and then are not of the type."""
    schema = load_schema()
    choices = []
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        assert root is not None
        for name, definition in root.fields.items():
            declared = ", ".join(f"${arg}: {a.type}" for arg, a in definition.args.items())
            passed = ", ".join(f"{arg}: ${arg}" for arg in definition.args)
            header = f"{kind}({declared})" if declared else kind
            call = f"{name}({passed})" if passed else name
            document = f"{header} {{ {call} {selection(definition.type)} }}"
            values = st.fixed_dictionaries({arg: input_values(a.type, target) for arg, a in definition.args.items()})
            choices.append(values.map(functools.partial(with_document, document)))
    return st.sampled_from(choices).flatmap(lambda choice: choice)


CONTENT_TYPES = (
    "application/json",
    "application/json; charset=latin-1",
    "application/graphql",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
)


def raw_requests() -> st.SearchStrategy[tuple[str, bytes, str]]:
    """(method, body, content type): bytes, JSON of any shape, and GraphQL-looking JSON with odd fields."""
    shaped = st.fixed_dictionaries(
        {"query": st.one_of(any_text(), json_values())},
        optional={"variables": json_values(), "operationName": json_values(), "extensions": json_values()},
    )
    bodies = st.one_of(
        st.binary(max_size=200),
        json_values().map(lambda v: json.dumps(v).encode()),
        shaped.map(lambda v: json.dumps(v).encode()),
    )
    return st.tuples(st.sampled_from(("POST", "POST", "POST", "GET")), bodies, st.sampled_from(CONTENT_TYPES))


def send_raw(client: TestClient, key: str, method: str, body: bytes, content_type: str) -> Response:
    """A request as a careless or hostile client might send it."""
    headers = {"Authorization": f"Bearer {key}"}
    if content_type:
        headers["Content-Type"] = content_type
    if method == "GET":
        return client.get("/graphql", params={"query": body.decode("utf-8", "replace")}, headers=headers)
    return client.post("/graphql", content=body, headers=headers)


# What the app answers a valid key whatever the body (bench/results/fuzz.md): GraphQL errors with 200, requests
# strawberry cannot read with 400, bodies over the cap with 413. Never a 5xx.
RAW_STATUSES = frozenset({200, 400, 413})


def seed_target(api: Api, caller: Caller, texts: Sequence[str]) -> FuzzTarget:
    """A cube of the fuzz user with memories (one updated, so it has history) to aim the fuzz at."""
    cube = api.ok(caller.key, 'mutation { createCube(input: {name: "fuzz"}) { cubeId } }')["createCube"]["cubeId"]
    ids = api.ok(
        caller.key,
        "mutation($i: AddMemoriesInput!) { addMemories(input: $i) { ids } }",
        i={"cubeId": cube, "content": list(texts)},
    )["addMemories"]["ids"]
    api.ok(
        caller.key,
        "mutation($i: UpdateMemoryInput!) { updateMemory(input: $i) { id } }",
        i={"cubeId": cube, "id": ids[0], "memory": f"{texts[0]} (edited)"},
    )
    return FuzzTarget(caller, [cube], list(ids))


def aliased_search(aliases: int) -> str:
    """One request of `aliases` search fields over the same cubes (issue 11: one request can stall everyone)."""
    fields = " ".join(
        f'a{n}: search(query: "What did the hostile tenant note {n}?", cubeIds: $cubes, topK: $k) '
        "{ textMem { cubeId memories { memoryId } } }"
        for n in range(aliases)
    )
    return f"query($cubes: [ID!], $k: Int) {{ {fields} }}"
